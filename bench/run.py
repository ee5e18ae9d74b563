"""The benchmark, one command: ``.venv/bin/python -m bench.run [--quick]``.

Starts its own servers on free loopback ports, seeds its own data, loads each
operation with wrk (pre-signed requests, 50 connections, warm-up then a
measured run) and prints one table: requests/s, p50/p99 latency, server CPU
per request (utime+stime of the server process from /proc over the measured
run / requests) and the ratios to the baselines measured in the same run.
The ``proposal`` operation (create + publish + sign + broadcast, dependent
steps) is driven by bench/flow_load.py instead of wrk and counted per flow.

Pinning (taskset): the server under test on core 0; SecantusDB, wrk, the
flow driver, the Insight stub and this harness on core 1.

Servers: ours (``python -m bws`` with the benchmark stub explorer,
bench/bws_server.py), the bare twisted.web and twisted.web+coincurve
baselines (bench/baseline_server.py), the original bitcore-wallet-service
2.5.1 (bench/original/, installed by npm into bench/.original on first use)
with a local Insight stub (bench/insight_stub.py).  The BTC monitor block is
timed in its own process (bench/monitor_bench.py).

See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.client import (  # noqa: E402
    BenchWallet,
    SyncClient,
    call,
    create_wallet,
    seed_read_wallet,
    signed_headers,
)
from bench.stub_explorer import FUNDED_ENV  # noqa: E402
from devtools.process import ManagedProcess, free_port, port_open  # noqa: E402
from ops.embedded_db import server_argv  # noqa: E402

PY = sys.executable
BASE = "/bws/api"
ORIGINAL_VERSION = "2.5.1"
ORIGINAL_DIR = ROOT / "bench" / ".original"
CLK_TCK = os.sysconf("SC_CLK_TCK")

SERVER_CORE, OTHER_CORE = "0", "1"

# --------------------------------------------------------------------------- helpers


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pinned(core: str, argv: list[str]) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", core, *argv]
    return argv


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (seconds) from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def http_ready(port: int, path: str = "/") -> bool:
    import http.client

    if not port_open(port):
        return False
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        c.request("GET", path)
        c.getresponse().read()
        return True
    finally:
        c.close()


def mongo_ready(port: int) -> bool:
    from pymongo import MongoClient

    with MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=300) as c:
        c.admin.command("ping")
    return True


# --------------------------------------------------------------------------- wrk


LUA = r"""
local reqs = {}
local specs = %(specs)s
local counter = 0
init = function(args)
  for i, s in ipairs(specs) do
    reqs[i] = wrk.format(s[1], s[2], s[3], s[4])
  end
  counter = math.random(#reqs)
end
request = function()
  counter = counter %% #reqs + 1
  return reqs[counter]
end
done = function(summary, latency, requests)
  io.write(string.format(
    'BENCHJSON {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"max_us":%%d,"mean_us":%%f,' ..
    '"err_connect":%%d,"err_read":%%d,"err_write":%%d,"err_status":%%d,"err_timeout":%%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
"""


def lua_str(s: str) -> str:
    return json.dumps(s)  # a JSON string literal is a valid Lua string literal for our ASCII


def lua_script(requests: list["Req"], host: str) -> str:
    parts = []
    for r in requests:
        headers = {"Host": host, "x-client-version": "bwc-6.7.5", **r.headers}
        if r.body is not None:
            headers["Content-Type"] = "application/json"
        h = "{" + ",".join(f"[{lua_str(k)}]={lua_str(v)}" for k, v in headers.items()) + "}"
        body = lua_str(r.body) if r.body is not None else "nil"
        parts.append(f"{{{lua_str(r.method)},{lua_str(r.path)},{h},{body}}}")
    return LUA % {"specs": "{" + ",\n".join(parts) + "}"}


def start_py_spy(pid: int, duration: float, out: Path) -> subprocess.Popen:
    spy = shutil.which("py-spy") or str(Path(PY).with_name("py-spy"))
    return subprocess.Popen(pinned(OTHER_CORE, [spy, "record", "--pid", str(pid), "--rate", "250", "--format", "raw",
                                                "--duration", str(int(duration)), "--nonblocking", "-o", str(out)]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def collect(p: subprocess.CompletedProcess, marker: str, what: str, spy, workdir: Path, name: str,
            title: str) -> dict:
    """The load generator's JSON result line (``<marker> {...}``) from its output;
    with ``spy``, wait for py-spy and write bench/profiles/<name>.txt first."""
    if spy is not None:
        spy.wait(60)
        write_profile(workdir / f"{name}.raw", ROOT / "bench" / "profiles" / f"{name}.txt", title)
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith(marker + " ")), None)
    if line is None:
        raise RuntimeError(f"{what} printed no result: {p.stdout[-800:]} {p.stderr[-1500:]}")
    return json.loads(line[len(marker) + 1:])


def write_profile(raw: Path, out: Path, title: str, top: int = 40) -> None:
    """py-spy's collapsed stacks -> a text profile: inclusive and self time per function."""
    from collections import Counter

    incl: Counter = Counter()
    self_: Counter = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        n = int(n)
        total += n
        frames = [f.strip() for f in stack.split(";")]
        frames = [f.replace(str(ROOT) + "/", "").replace("/usr/lib/python3.11/", "") for f in frames]
        for f in set(frames):
            incl[f] += n
        self_[frames[-1]] += n
    idle = sum(n for f, n in self_.items() if "select" in f.split(" ")[0] or "epoll" in f)
    lines = [title, f"samples: {total} (idle in select/epoll: {idle})", "",
             f"top {top} by inclusive samples (% of all samples):"]
    lines += [f"  {n * 100 / total:5.1f}%  {f}" for f, n in incl.most_common(top)]
    lines += ["", f"top {top} by self samples:"]
    lines += [f"  {n * 100 / total:5.1f}%  {f}" for f, n in self_.most_common(top)]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    log(f"profile written to {out}")


@dataclass
class Req:
    method: str
    path: str  # full path, base path included
    headers: dict
    body: Optional[str] = None


@dataclass
class Result:
    op: str
    server: str
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    cpu_ms: float = 0.0  # server CPU per request
    db_cpu_ms: float = 0.0  # database server CPU per request
    requests: int = 0
    errors: int = 0
    note: str = ""
    unit: str = "req"  # "flow" for the proposal operation (4 requests)
    raw: dict = field(default_factory=dict)


DB_PID: Optional[int] = None


def run_wrk(name: str, server: str, port: int, pid: int, requests: list[Req], args, workdir: Path) -> Result:
    script = workdir / f"{server}-{name}.lua"
    script.write_text(lua_script(requests, f"127.0.0.1:{port}"))
    url = f"http://127.0.0.1:{port}/"
    base = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "--timeout", "10s", "-s", str(script)]
    if args.warmup > 0:
        subprocess.run(pinned(OTHER_CORE, [*base, "-d", f"{args.warmup:g}s", url]), capture_output=True, text=True)
    spy = None
    if args.profile and name in args.profile and server == "ours":
        spy = start_py_spy(pid, args.duration, workdir / f"{name}.raw")
    c0, d0 = cpu_seconds(pid), cpu_seconds(DB_PID) if DB_PID else 0.0
    t0 = time.monotonic()
    p = subprocess.run(pinned(OTHER_CORE, [*base, "-d", f"{args.duration:g}s", url]), capture_output=True, text=True)
    cpu = cpu_seconds(pid) - c0
    db_cpu = (cpu_seconds(DB_PID) - d0) if DB_PID else 0.0
    raw = collect(p, "BENCHJSON", f"wrk ({server}/{name})", spy, workdir, name,
                  f"py-spy of the bws process during the measured run of {name} "
                  f"({args.connections} connections, {args.duration:g} s)")
    n = raw["requests"]
    secs = raw["duration_us"] / 1e6 or (time.monotonic() - t0)
    errors = sum(raw[k] for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
    res = Result(name, server, rps=n / secs, p50_ms=raw["p50_us"] / 1000, p99_ms=raw["p99_us"] / 1000,
                 cpu_ms=(cpu / n * 1000) if n else 0.0, db_cpu_ms=(db_cpu / n * 1000) if n else 0.0,
                 requests=n, errors=errors, raw=raw)
    if errors:
        res.note = f"{errors} errors ({raw['err_status']} non-2xx, {raw['err_timeout']} timed out)"
    if not n:
        res.note = (f"0 completed: every request took longer than the {args.duration:g} s run"
                    + (f" ({errors} errors)" if errors else ""))
    log(f"{server:9s} {name:22s} {res.rps:8.0f} req/s  p50 {res.p50_ms:7.2f} ms  p99 {res.p99_ms:7.2f} ms  "
        f"cpu {res.cpu_ms:6.3f} ms/req  db cpu {res.db_cpu_ms:6.3f} ms/req  {res.note}")
    return res


# --------------------------------------------------------------------------- servers


class Bench:
    def __init__(self, args):
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix="bws-bench-"))
        self.procs: list[ManagedProcess] = []
        # addresses the stub explorers give coins to (bench/stub_explorer.py), appended while seeding
        self.funded_file = self.workdir / "funded.txt"
        self.funded_file.write_text("")
        self.install_s: Optional[float] = None

    def fund(self, address: str) -> None:
        with open(self.funded_file, "a") as f:
            f.write(address + "\n")

    def start(self, name: str, argv: list[str], ready, core: str, env=None, cwd=None, timeout=60) -> ManagedProcess:
        p = ManagedProcess(name, pinned(core, argv), ready=ready, log_dir=self.workdir, env=env, cwd=cwd,
                           timeout=timeout).start()
        self.procs.append(p)
        return p

    def stop(self, p: ManagedProcess) -> None:
        """Stop one server when its operations are done (frees memory and the core for the next one)."""
        p.stop()
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self) -> None:
        for p in reversed(self.procs):
            p.stop()
        self.procs.clear()

    # -- database
    def start_db(self) -> int:
        global DB_PID
        port = free_port()
        p = self.start("secantusdb", server_argv("127.0.0.1", port, ":memory:"), lambda: mongo_ready(port), OTHER_CORE)
        DB_PID = p.pid
        return port

    # -- ours
    def start_ours(self, db_port: int) -> tuple[ManagedProcess, int]:
        port = free_port()
        self.ours_uri = f"mongodb://127.0.0.1:{db_port}/bws_bench"
        if self.args.ours_max_pool:
            self.ours_uri += f"?maxPoolSize={self.args.ours_max_pool}"
        cfg = {"port": port, "host": "127.0.0.1", "basePath": BASE, "disableLogs": True,
               "storageOpts": {"mongoDb": {"uri": self.ours_uri}},
               "lockOpts": {"mode": "local"}, "messageBrokerOpts": {"mode": "local"},
               "rateLimits": {"enabled": False}}  # the flows create wallets from one IP at full speed
        path = self.workdir / "bws.json"
        path.write_text(json.dumps(cfg))
        p = self.start("bws", [PY, "-m", "bench.bws_server", "--config", str(path)],
                       lambda: http_ready(port, BASE + "/v1/version/"), SERVER_CORE, cwd=str(ROOT),
                       env={"PYTHONPATH": str(ROOT), FUNDED_ENV: str(self.funded_file)})
        return p, port

    def start_baseline(self, pubkey: str, db_port: int) -> tuple[ManagedProcess, int]:
        port = free_port()
        p = self.start("baseline", [PY, "-m", "bench.baseline_server", "--port", str(port), "--pubkey", pubkey,
                                    "--mongo-uri", f"mongodb://127.0.0.1:{db_port}/bench_baseline"],
                       lambda: http_ready(port, "/bare"), SERVER_CORE, cwd=str(ROOT), env={"PYTHONPATH": str(ROOT)})
        return p, port

    # -- original
    def install_original(self) -> Path:
        pkg = ORIGINAL_DIR / "node_modules" / "bitcore-wallet-service"
        stamp = ORIGINAL_DIR / ".installed"
        if stamp.exists() and pkg.exists():
            return pkg
        ORIGINAL_DIR.mkdir(parents=True, exist_ok=True)
        (ORIGINAL_DIR / "package.json").write_text(json.dumps({"name": "bws-original-bench", "private": True}))
        log(f"installing bitcore-wallet-service@{ORIGINAL_VERSION} into {ORIGINAL_DIR} (npm, once)")
        t = time.monotonic()
        npm = ["npm", "--prefix", str(ORIGINAL_DIR), "--no-audit", "--no-fund"]
        subprocess.run([*npm, "install", "--ignore-scripts", f"bitcore-wallet-service@{ORIGINAL_VERSION}"],
                       check=True, cwd=ORIGINAL_DIR, stdout=subprocess.DEVNULL)
        subprocess.run([*npm, "rebuild", "secp256k1"], check=True, cwd=ORIGINAL_DIR, stdout=subprocess.DEVNULL)
        stamp.write_text(ORIGINAL_VERSION)
        self.install_s = time.monotonic() - t
        log(f"installed the original in {self.install_s:.0f} s")
        return pkg

    def start_original(self, db_port: int) -> tuple[ManagedProcess, int]:
        pkg = self.install_original()
        insight_port = free_port()
        self.start("insight-stub", [PY, "-m", "bench.insight_stub", "--port", str(insight_port)],
                   lambda: port_open(insight_port), OTHER_CORE, cwd=str(ROOT),
                   env={"PYTHONPATH": str(ROOT), FUNDED_ENV: str(self.funded_file)})
        port = free_port()
        explorer = {"provider": "insight", "url": f"http://127.0.0.1:{insight_port}"}
        cfg = {
            "basePath": BASE, "disableLogs": True, "port": port, "ignoreRateLimiter": True,
            "storageOpts": {"mongoDb": {"uri": f"mongodb://127.0.0.1:{db_port}/bws_original"}},
            "lockOpts": {}, "messageBrokerOpts": {},
            "blockchainExplorerOpts": {"btc": {"livenet": explorer, "testnet": explorer},
                                       "bch": {"livenet": {**explorer, "addressFormat": "cashaddr"},
                                               "testnet": {**explorer, "addressFormat": "cashaddr"}}},
            "fiatRateServiceOpts": {"defaultProvider": "BitPay", "fetchInterval": 60},
        }
        path = self.workdir / "original.json"
        path.write_text(json.dumps(cfg))
        p = self.start("original-bws", ["node", str(ROOT / "bench" / "original" / "server.js"), str(path)],
                       lambda: http_ready(port, BASE + "/v1/version/"), SERVER_CORE, env={"OBWS_DIR": str(pkg)})
        return p, port


# --------------------------------------------------------------------------- data


@dataclass
class Seeded:
    read: list[BenchWallet]
    addr: list[BenchWallet]
    spend: list[BenchWallet] = field(default_factory=list)
    history: Optional[BenchWallet] = None


def seed_history_http(c: SyncClient, w: BenchWallet, n: int) -> None:
    """``n`` receive addresses through the API (``POST /v3/addresses/`` with
    ``ignoreMaxGap``), one at a time: the original's way to get them."""
    for _ in range(n):
        call(c, w, "POST", "/v3/addresses/", {"ignoreMaxGap": True})


def seed(b: Bench, port: int, args, ops: list[str], mongo_uri: str = "") -> Seeded:
    """The same data in either server, over HTTP like bwc: ``wallets`` read
    wallets (3 addresses, the first funded with the stub's UTXOs,
    ``--pending-proposals`` pending proposals, preferences, a session),
    ``wallets`` empty wallets for address creation, ``wallets`` funded
    wallets for the proposal flow, and the history wallet (1,000 addresses:
    written straight to the database for ours when ``mongo_uri`` is given,
    else over HTTP)."""
    c = SyncClient(port, BASE)
    try:
        read = []
        for i in range(args.wallets):
            w = create_wallet(c, f"read {i}")
            seed_read_wallet(c, w, fund=b.fund, proposals=args.pending_proposals)
            read.append(w)
        pending = call(c, read[0], "GET", "/v1/txproposals/")
        if len(pending) != args.pending_proposals:
            raise RuntimeError(f"read wallet has {len(pending)} pending proposals, expected {args.pending_proposals}")
        addr = [create_wallet(c, f"addr {i}") for i in range(args.wallets)] if "address_create" in ops else []
        spend = []
        if "proposal" in ops:
            for i in range(args.wallets):
                w = create_wallet(c, f"spend {i}")
                w.first_address = call(c, w, "POST", "/v3/addresses/", {})["address"]
                b.fund(w.first_address)
                spend.append(w)
        hist = None
        if "history" in ops:
            t = time.monotonic()
            hist = create_wallet(c, "history")
            if mongo_uri:
                subprocess.run([PY, "-m", "bench.seed_history", "--mongo-uri", mongo_uri, "--wallet-id", hist.id,
                                "--addresses", str(args.history_addresses)], check=True, cwd=str(ROOT),
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
            else:
                seed_history_http(c, hist, args.history_addresses)
            log(f"history wallet: {args.history_addresses} addresses in {time.monotonic() - t:.1f} s "
                f"({'database write' if mongo_uri else 'HTTP, ignoreMaxGap'})")
        return Seeded(read, addr, spend, hist)
    finally:
        c.close()


def signed(w: BenchWallet, method: str, path: str, body: Any = None) -> Req:
    h = signed_headers(w.copayer, w.copayer_id, method, path, body)
    return Req(method, BASE + path, h, None if body is None else json.dumps(body, separators=(",", ":")))


def op_requests(s: Seeded) -> dict[str, list[Req]]:
    """The pre-signed requests of every HTTP operation (one or more per wallet)."""
    ops: dict[str, list[Req]] = {}
    ops["notifications_session"] = [
        Req("GET", f"{BASE}/v1/notifications/?notificationId={w.newest_notification}",
            {"x-identity": w.copayer_id, "x-session": w.session}) for w in s.read]
    ops["notifications_sig"] = [signed(w, "GET", f"/v1/notifications/?notificationId={w.newest_notification}")
                                for w in s.read]
    ops["txproposals"] = [signed(w, "GET", "/v1/txproposals/") for w in s.read]
    ops["preferences"] = [signed(w, "GET", "/v1/preferences/") for w in s.read]
    ops["status"] = [signed(w, "GET", "/v2/wallets/") for w in s.read]
    ops["address_create"] = [signed(w, "POST", "/v3/addresses/", {"ignoreMaxGap": True}) for w in s.addr]
    if s.history is not None:
        ops["history"] = [signed(s.history, "GET", "/v1/txhistory/?skip=0&limit=50")]
    return ops


WRK_OPS = ["notifications_session", "notifications_sig", "txproposals", "preferences", "status",
           "address_create", "history"]
FLOW_OPS = ["proposal"]
HTTP_OPS = WRK_OPS + FLOW_OPS
ALL_OPS = HTTP_OPS + ["monitor_block"]
AUTH_READS = ["notifications_session", "notifications_sig", "txproposals", "preferences"]


def run_flows(name: str, server: str, port: int, pid: int, wallets: list[BenchWallet], args,
              workdir: Path) -> Result:
    """The proposal operation: bench/flow_load.py (a second process pinned like wrk) runs
    ``--flow-concurrency`` flows (create, publish, sign, broadcast) over the spend wallets;
    it reads the server's and the database's CPU from /proc around its measured phase."""
    wfile = workdir / f"{server}-{name}-wallets.json"
    wfile.write_text(json.dumps([w.to_json() for w in wallets]))
    cmd = [PY, "-m", "bench.flow_load", "--port", str(port), "--base", BASE, "--wallets", str(wfile),
           "--concurrency", str(args.flow_concurrency), "--duration", f"{args.duration:g}",
           "--warmup", f"{args.warmup:g}", "--server-pid", str(pid)]
    if DB_PID:
        cmd += ["--db-pid", str(DB_PID)]
    spy = None
    if args.profile and name in args.profile and server == "ours":
        spy = start_py_spy(pid, args.warmup + args.duration, workdir / f"{name}.raw")
    p = subprocess.run(pinned(OTHER_CORE, cmd), capture_output=True, text=True, cwd=str(ROOT),
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    raw = collect(p, "FLOWJSON", f"flow_load ({server}/{name})", spy, workdir, name,
                  f"py-spy of the bws process during {name} ({args.flow_concurrency} concurrent flows, "
                  f"warm-up + measured run)")
    n = raw["flows"]
    res = Result(name, server, rps=n / raw["seconds"] if raw["seconds"] else 0.0, p50_ms=raw["p50_ms"],
                 p99_ms=raw["p99_ms"], cpu_ms=raw["server_cpu_s"] / n * 1000 if n else 0.0,
                 db_cpu_ms=raw["db_cpu_s"] / n * 1000 if n else 0.0, requests=n, errors=raw["errors"],
                 unit="flow", raw=raw)
    if raw["errors"]:
        kinds = ", ".join(f"{k} x{v}" for k, v in sorted(raw["error_kinds"].items(), key=lambda kv: -kv[1]))
        res.note = f"{raw['errors']} failed flows ({kinds})"
    if not n:
        res.note = f"0 flows completed{': ' + res.note if res.note else ''}"
    steps = " ".join(f"{k} {v:.0f}" for k, v in raw["step_p50_ms"].items())
    log(f"{server:9s} {name:22s} {res.rps:8.1f} flow/s p50 {res.p50_ms:7.2f} ms  p99 {res.p99_ms:7.2f} ms  "
        f"cpu {res.cpu_ms:6.3f} ms/flow  db cpu {res.db_cpu_ms:6.3f} ms/flow  "
        f"driver cpu {raw['driver_cpu_s'] / n * 1000 if n else 0:6.3f} ms/flow  step p50 ms: {steps}  {res.note}")
    for k, v in raw.get("error_samples", {}).items():
        log(f"  {server} {name} error {k}: {v}")
    return res


def run_op(op: str, server: str, port: int, pid: int, data: Seeded, reqs: dict, args, workdir: Path) -> Result:
    if op in FLOW_OPS:
        return run_flows(op, server, port, pid, data.spend, args, workdir)
    check_requests(port, reqs[op], f"{server} {op}")
    return run_wrk(op, server, port, pid, reqs[op], args, workdir)


def check_requests(port: int, reqs: list[Req], what: str) -> None:
    """Every pre-signed request answers 200 once (a wrong signature would bench a 401)."""
    import http.client

    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for r in reqs[:3]:
            t = time.monotonic()
            c.request(r.method, r.path, body=r.body, headers={"x-client-version": "bwc-6.7.5", **r.headers,
                                                                **({"Content-Type": "application/json"} if r.body else {})})
            resp = c.getresponse()
            text = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"{what}: {r.method} {r.path} -> {resp.status} {text[:300]!r}")
            if time.monotonic() - t > 0.5:
                log(f"{what}: the first {r.method} {r.path.split('?')[0]} alone took {time.monotonic() - t:.2f} s")
    finally:
        c.close()


def guarded(op: str, server: str, fn) -> Result:
    """One operation; a failure (e.g. its first request refused or timing out) is a row, not an abort."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001
        log(f"{server} {op}: not measured: {e}")
        return Result(op, server, note=f"not measured: {str(e)[:200]}")


def describe(d: Seeded) -> str:
    parts = [f"{len(d.read)} read wallets", f"{len(d.addr)} address wallets", f"{len(d.spend)} spend wallets"]
    if d.history:
        parts.append("the history wallet")
    return ", ".join(parts)


# --------------------------------------------------------------------------- monitor


def run_monitor(b: Bench, db_port: int, args) -> Optional[dict]:
    cmd = [PY, "-m", "bench.monitor_bench", "--mongo-uri", f"mongodb://127.0.0.1:{db_port}/bws_monitor",
           "--addresses", str(args.monitor_addresses), "--txs", str(args.monitor_txs),
           "--repeat", str(args.monitor_repeat)]
    if args.profile_monitor:
        cmd += ["--profile", args.profile_monitor]
    log(f"monitor: {args.monitor_txs}-tx block against {args.monitor_addresses} watched addresses")
    p = subprocess.run(pinned(SERVER_CORE, cmd), capture_output=True, text=True, cwd=str(ROOT),
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    if p.returncode != 0:
        log(f"monitor benchmark failed: {p.stderr[-2000:]}")
        return None
    out = json.loads(p.stdout.strip().splitlines()[-1])
    log(f"monitor: block handled in {out['wall_s']:.3f} s (cpu {out['cpu_s']:.3f} s), "
        f"{out['notifications']} NewIncomingTx; address setup {out['setup_s']:.1f} s")
    return out


# --------------------------------------------------------------------------- report


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if a and b else "-"


def report(results: list[Result], monitor: Optional[dict], args) -> str:
    by = {(r.server, r.op): r for r in results}
    # ratio columns: each baseline of this run, then the original (same operation)
    bases = [("bare", "bare"), ("cc", "coincurve"), ("1rd", "coincurve_1read")]
    base_rows = [by.get(("baseline", op)) for _, op in bases]
    lines = []
    rps_hdr = " ".join(f"{'rps/' + short:>8s}" for short, _ in bases)
    cpu_hdr = " ".join(f"{'cpu/' + short:>8s}" for short, _ in bases)
    hdr = (f"{'operation':22s} {'server':9s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'cpu ms/req':>10s} "
           f"{'db ms/req':>9s} | {rps_hdr} {'rps/orig':>8s} | {cpu_hdr} {'cpu/orig':>8s}")
    lines += [hdr, "-" * len(hdr)]
    blank = " ".join(f"{'':8s}" for _ in bases)
    for r in results:
        orig = by.get(("original", r.op)) if r.server == "ours" else None
        cells = [f"{r.op:22s} {r.server:9s} {r.rps:8.1f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} {r.cpu_ms:10.3f} "
                 f"{r.db_cpu_ms:9.3f} |"]
        if r.server == "baseline":
            cells.append(f"{blank} {'':8s} | {blank} {'':8s}")
        else:
            rps = " ".join(f"{ratio(r.rps, b and b.rps):>8s}" for b in base_rows)
            cpu = " ".join(f"{ratio(r.cpu_ms, b and b.cpu_ms):>8s}" for b in base_rows)
            o_rps = ratio(r.rps, orig and orig.rps) if r.server == "ours" else ""
            o_cpu = ratio(r.cpu_ms, orig and orig.cpu_ms) if r.server == "ours" else ""
            cells.append(f"{rps} {o_rps:>8s} | {cpu} {o_cpu:>8s}")
        notes = ([f"per flow of 4 requests ({r.raw.get('concurrency')} concurrent)"] if r.unit == "flow" else [])
        notes += [r.note] if r.note else []
        if notes:
            cells.append("  ! " + "; ".join(notes))
        lines.append(" ".join(cells))
    if monitor:
        lines.append(f"{'monitor_block':22s} {'ours':9s} {monitor['txs']} txs / {monitor['addresses']} watched "
                     f"addresses: {monitor['wall_s'] * 1000:.0f} ms wall, {monitor['cpu_s'] * 1000:.0f} ms CPU "
                     f"(best of {len(monitor['runs'])}), {monitor['notifications']} NewIncomingTx")
    lines.append("")
    lines.append("cpu ms/req: the server process's utime+stime / requests; db ms/req: the same for SecantusDB.")
    lines.append("proposal: req/s, p50/p99, cpu and db columns are per flow (create + publish + sign + broadcast).")
    lines.append("baselines: bare = twisted.web JSON endpoint; coincurve = + one request-signature check; "
                 "coincurve_1read = + one pymongo find_one on the same SecantusDB (the floor of a one-read route).")
    lines.append("ratios: ours / baseline (rps: higher is better; cpu: lower is better). "
                 "orig = original bitcore-wallet-service 2.5.1, same operation, same database server; "
                 "'-' = a side measured nothing.")
    lines.append("")
    lines += targets(by, monitor, args)
    return "\n".join(lines)


def targets(by: dict, monitor: Optional[dict], args) -> list[str]:
    out = ["targets:"]

    def line(ok: Optional[bool], text: str) -> None:
        out.append(f"  {'PASS' if ok else ('MISS' if ok is False else 'N/A ')}  {text}")

    floor = by.get(("baseline", "coincurve_1read"))
    floor_note = (f"; floor of a one-read route (coincurve_1read) {floor.cpu_ms:.3f} ms"
                  if floor and floor.cpu_ms else "")
    for op in AUTH_READS:
        ours, orig = by.get(("ours", op)), by.get(("original", op))
        if ours and orig and orig.cpu_ms:
            line(ours.cpu_ms <= orig.cpu_ms / 2,
                 f"{op}: server CPU/request {ours.cpu_ms:.3f} ms <= half the original's {orig.cpu_ms:.3f} ms "
                 f"(x{ours.cpu_ms / orig.cpu_ms:.2f}){floor_note}")
        else:
            line(None, f"{op}: server CPU/request <= half the original's (not measured)")
    ours, orig = by.get(("ours", "address_create")), by.get(("original", "address_create"))
    if ours and orig and orig.rps:
        line(ours.rps >= 10 * orig.rps, f"address_create: {ours.rps:.0f} req/s >= 10x the original's {orig.rps:.0f} "
                                        f"(x{ours.rps / orig.rps:.1f})")
    else:
        line(None, "address_create: >= 10x the original's rate (not measured)")
    h = by.get(("ours", "history"))
    if h and h.requests:
        line(h.p99_ms < 200, f"history (1,000 addresses, 10,000 txs): p99 {h.p99_ms:.1f} ms < 200 ms")
    elif h:
        line(False, "history p99 < 200 ms: no request completed")
    else:
        line(None, "history p99 < 200 ms (not measured)")
    if monitor:
        line(monitor["wall_s"] < 1.0, f"monitor: {monitor['txs']}-tx block against {monitor['addresses']} addresses "
                                      f"handled in {monitor['wall_s']:.3f} s < 1 s")
    else:
        line(None, "monitor block < 1 s (not measured)")
    return out


# --------------------------------------------------------------------------- main


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a few seconds per operation, smaller monitor set")
    p.add_argument("--duration", type=float, help="measured seconds per operation (default 10, quick 2)")
    p.add_argument("--warmup", type=float, help="warm-up seconds per operation (default 3, quick 1)")
    p.add_argument("--connections", type=int, default=50)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--wallets", type=int, default=20)
    p.add_argument("--history-addresses", type=int, default=1000)
    p.add_argument("--pending-proposals", type=int, default=3, help="pending proposals in each read wallet (3)")
    p.add_argument("--flow-concurrency", type=int,
                   help="concurrent proposal flows (default: --wallets; a wallet runs one flow at a time)")
    p.add_argument("--monitor-addresses", type=int, help="default 100000 (quick 10000)")
    p.add_argument("--monitor-txs", type=int, default=4000)
    p.add_argument("--monitor-repeat", type=int, help="default 1 (best of N)")
    p.add_argument("--profile-monitor", metavar="FILE", help="pyinstrument text profile of the monitor block")
    p.add_argument("--profile", help="comma-separated operations to profile with py-spy (bench/profiles/<op>.txt)")
    p.add_argument("--ops", help="comma-separated subset of: " + ",".join(ALL_OPS))
    p.add_argument("--no-original", action="store_true", help="skip the original BWS baseline")
    p.add_argument("--ours-max-pool", type=int, metavar="N",
                   help="maxPoolSize in our server's MongoDB URI (default: pymongo's, 100)")
    p.add_argument("--keep", action="store_true", help="keep the logs, wrk scripts and raw profiles")
    p.add_argument("--json", metavar="FILE", help="also write the raw results here")
    a = p.parse_args(argv)
    a.duration = a.duration or (2 if a.quick else 10)
    a.warmup = a.warmup if a.warmup is not None else (1 if a.quick else 3)
    a.monitor_addresses = a.monitor_addresses or (10_000 if a.quick else 100_000)
    a.monitor_repeat = a.monitor_repeat or 1
    a.flow_concurrency = a.flow_concurrency or a.wallets
    a.ops = [o.strip() for o in a.ops.split(",")] if a.ops else list(ALL_OPS)
    unknown = set(a.ops) - set(ALL_OPS)
    if unknown:
        p.error(f"unknown operation(s): {', '.join(sorted(unknown))}")
    return a


def main(argv=None) -> int:
    args = parse_args(argv)
    if not shutil.which("wrk"):
        print("bench: wrk is not installed: run ./setup.sh (it installs wrk from Debian)", file=sys.stderr)
        return 2
    if (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {int(OTHER_CORE)})
    t_start = time.monotonic()
    b = Bench(args)
    results: list[Result] = []
    monitor = None
    http_ops = [o for o in args.ops if o in HTTP_OPS]
    try:
        db_port = b.start_db()
        log(f"logs and scripts in {b.workdir}")
        if http_ops:
            ours, ours_port = b.start_ours(db_port)
            t = time.monotonic()
            data = seed(b, ours_port, args, http_ops, mongo_uri=b.ours_uri)
            log(f"seeded ours: {describe(data)} in {time.monotonic() - t:.1f} s")
            w0 = data.read[0]
            base_proc, base_port = b.start_baseline(w0.copayer.request_pub, db_port)
            sig_path = f"/v1/notifications/?notificationId={w0.newest_notification}"
            sig_headers = signed(w0, "GET", sig_path).headers
            cc_reqs = [Req("GET", "/auth" + sig_path, sig_headers)]
            db_reqs = [Req("GET", "/authdb" + sig_path, sig_headers)]
            check_requests(base_port, cc_reqs + db_reqs, "baseline")
            results.append(run_wrk("bare", "baseline", base_port, base_proc.pid, [Req("GET", "/bare", {})], args, b.workdir))
            results.append(run_wrk("coincurve", "baseline", base_port, base_proc.pid, cc_reqs, args, b.workdir))
            results.append(run_wrk("coincurve_1read", "baseline", base_port, base_proc.pid, db_reqs, args, b.workdir))
            b.stop(base_proc)
            ops = op_requests(data)
            for op in http_ops:
                results.append(guarded(op, "ours", lambda: run_op(op, "ours", ours_port, ours.pid, data, ops, args,
                                                                   b.workdir)))
            b.stop(ours)
            if not args.no_original:
                try:
                    orig, orig_port = b.start_original(db_port)
                    t = time.monotonic()
                    odata = seed(b, orig_port, args, http_ops)
                    log(f"seeded original: {describe(odata)} in {time.monotonic() - t:.1f} s")
                    oops = op_requests(odata)
                    for op in http_ops:
                        results.append(guarded(op, "original", lambda: run_op(op, "original", orig_port, orig.pid,
                                                                               odata, oops, args, b.workdir)))
                except Exception as e:  # noqa: BLE001
                    log(f"original BWS baseline unavailable: {e}")
        if "monitor_block" in args.ops:
            monitor = run_monitor(b, db_port, args)
    finally:
        b.stop_all()
    order = {("baseline", "bare"): 0, ("baseline", "coincurve"): 1, ("baseline", "coincurve_1read"): 1.5}
    results.sort(key=lambda r: order.get((r.server, r.op), 2 + (HTTP_OPS.index(r.op) * 2 + (r.server == "original"))
                                          if r.op in HTTP_OPS else 99))
    print()
    print(f"BWS-Twisted benchmark: {args.connections} connections, {args.duration:g} s per operation after "
          f"{args.warmup:g} s warm-up, {args.wallets} wallets; server on core {SERVER_CORE}, "
          f"SecantusDB + wrk on core {OTHER_CORE}")
    print(report(results, monitor, args))
    install = f" (of which {b.install_s:.0f} s installing the original with npm)" if b.install_s else ""
    print(f"\ntotal wall time {time.monotonic() - t_start:.0f} s{install}")
    if args.keep:
        log(f"kept {b.workdir}")
    if args.json:
        Path(args.json).write_text(json.dumps({"results": [r.__dict__ for r in results], "monitor": monitor}, indent=1))
    if not args.keep:
        shutil.rmtree(b.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
