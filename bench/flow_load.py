"""Load generator for the ``proposal`` operation: a dependent four-step flow
that wrk's pre-signed requests cannot do.

``python -m bench.flow_load --port P --wallets FILE [--concurrency N] [--duration S] [--warmup S]
[--server-pid PID] [--db-pid PID]``

Each flow is what bitcore-wallet-client does to send a payment from a 1-of-1
wallet, every request signed like bwc (``x-identity`` + ``x-signature`` over
``method|url|body``):

1. ``POST /v2/txproposals/``                  create (both servers' create route; neither has ``/v3/``)
2. ``POST /v1/txproposals/:id/publish/``      ``proposalSignature`` = sign(unsigned raw tx, request key)
3. ``POST /v1/txproposals/:id/signatures/``   one DER signature per input (bip32-derived key, coincurve)
4. ``POST /v1/txproposals/:id/broadcast/``    the server sends the signed tx to its (stub) explorer

``--concurrency`` workers run flows back to back on persistent HTTP/1.1
connections; worker ``i`` uses wallet ``i % len(wallets)`` and workers that
share a wallet take turns (a wallet runs one flow at a time: the next flow's
coin selection must see the previous proposal's input spent or locked, as
for one person's wallet).  A warm-up phase, then the measured phase: flows
started before its deadline are finished and counted (nothing is in flight
at either boundary, so the server and database CPU read from /proc over the
phase belongs to exactly the counted flows).

Prints one line ``FLOWJSON {...}``: flows, errors (by step and code), flows/s,
p50/p90/p99 flow latency, per-step p50, server, database and the driver's own
CPU seconds.
Run pinned to the load core, like wrk.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.client import (  # noqa: E402
    CLIENT_VERSION,
    CREATE_TX_PATH,
    BenchWallet,
    InputSigner,
    compact,
    proposal_body,
    proposal_signature,
    signed_headers,
)

CLK_TCK = os.sysconf("SC_CLK_TCK")
STEPS = ("create", "publish", "sign", "broadcast")


def cpu_seconds(pid: Optional[int]) -> float:
    if not pid:
        return 0.0
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class HttpError(Exception):
    def __init__(self, status: int, body: bytes):
        code = ""
        try:
            code = json.loads(body).get("code") or ""
        except Exception:  # noqa: BLE001
            pass
        super().__init__(f"HTTP {status} {code or body[:120]!r}")
        self.key = f"{status} {code}".strip()


class Conn:
    """A minimal keep-alive HTTP/1.1 client (Content-Length or chunked replies)."""

    def __init__(self, host: str, port: int, timeout: float):
        self.host, self.port, self.timeout = host, port, timeout
        self.reader: Optional[asyncio.StreamReader] = None
        self.writer: Optional[asyncio.StreamWriter] = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def _read_reply(self) -> tuple[int, bytes, bool]:
        r = self.reader
        status_line = await r.readline()
        if not status_line:
            raise ConnectionError("connection closed")
        status = int(status_line.split()[1])
        length, chunked, close = None, False, False
        while True:
            line = await r.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await r.readline()).split(b";")[0], 16)
                if size == 0:
                    while (await r.readline()) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(await r.readexactly(size))
                await r.readline()
            body = b"".join(parts)
        elif length is not None:
            body = await r.readexactly(length)
        else:
            body = await r.read()
            close = True
        return status, body, close

    async def request(self, method: str, path: str, headers: dict, body: Optional[bytes]) -> bytes:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"x-client-version: {CLIENT_VERSION}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))
        try:
            status, reply, close = await asyncio.wait_for(self._read_reply(), self.timeout)
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        if status != 200:
            raise HttpError(status, reply)
        return reply


class Driver:
    def __init__(self, args, wallets: list[BenchWallet]):
        self.args = args
        self.wallets = wallets
        self.signers = [InputSigner(w.copayer) for w in wallets]
        self.locks = [asyncio.Lock() for _ in wallets]

    async def call(self, conn: Conn, w: BenchWallet, path: str, body: dict) -> dict:
        headers = signed_headers(w.copayer, w.copayer_id, "POST", path, body)
        return json.loads(await conn.request("POST", self.args.base + path, headers, compact(body).encode()))

    async def flow(self, conn: Conn, i: int, steps: list[float]) -> None:
        w = self.wallets[i]
        t = time.perf_counter()
        txp = await self.call(conn, w, CREATE_TX_PATH, proposal_body())
        steps.append(time.perf_counter() - t)
        t = time.perf_counter()
        base = f"/v1/txproposals/{txp['id']}"
        txp = await self.call(conn, w, f"{base}/publish/", {"proposalSignature": proposal_signature(txp, w.copayer)})
        steps.append(time.perf_counter() - t)
        t = time.perf_counter()
        txp = await self.call(conn, w, f"{base}/signatures/", {"signatures": self.signers[i].sign(txp)})
        steps.append(time.perf_counter() - t)
        t = time.perf_counter()
        done = await self.call(conn, w, f"{base}/broadcast/", {})
        steps.append(time.perf_counter() - t)
        if done.get("status") != "broadcasted":
            raise RuntimeError(f"broadcast answered status {done.get('status')!r}")

    async def phase(self, seconds: float) -> dict:
        deadline = time.monotonic() + seconds
        lat: list[float] = []
        step_lat: list[list[float]] = [[] for _ in STEPS]
        errors: Counter = Counter()
        samples: dict[str, str] = {}

        async def worker(k: int) -> None:
            conn = Conn("127.0.0.1", self.args.port, self.args.timeout)
            i = k % len(self.wallets)
            try:
                while time.monotonic() < deadline:
                    async with self.locks[i]:
                        if time.monotonic() >= deadline:
                            break
                        steps: list[float] = []
                        t0 = time.perf_counter()
                        try:
                            await self.flow(conn, i, steps)
                        except Exception as e:  # noqa: BLE001 - counted, the flow goes on with the next one
                            key = f"{STEPS[min(len(steps), len(STEPS) - 1)]}: {getattr(e, 'key', type(e).__name__)}"
                            errors[key] += 1
                            samples.setdefault(key, str(e)[:300])
                            conn.close()
                            if isinstance(e, (ConnectionError, OSError)):
                                await asyncio.sleep(0.05)
                            continue
                        lat.append(time.perf_counter() - t0)
                        for s, v in zip(step_lat, steps):
                            s.append(v)
            finally:
                conn.close()

        t0 = time.monotonic()
        c0, d0, g0 = cpu_seconds(self.args.server_pid), cpu_seconds(self.args.db_pid), time.process_time()
        await asyncio.gather(*(worker(k) for k in range(self.args.concurrency)))
        elapsed = time.monotonic() - t0
        cpu, db = cpu_seconds(self.args.server_pid) - c0, cpu_seconds(self.args.db_pid) - d0
        driver = time.process_time() - g0
        return {"flows": len(lat), "seconds": elapsed, "errors": sum(errors.values()), "error_kinds": dict(errors),
                "error_samples": samples, "server_cpu_s": cpu, "db_cpu_s": db, "driver_cpu_s": driver,
                **{f"p{q}_ms": pct(lat, q) for q in (50, 90, 99)},
                "step_p50_ms": {name: pct(s, 50) for name, s in zip(STEPS, step_lat)}}


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q / 100 * (len(v) - 1))))] * 1000


async def amain(args) -> dict:
    wallets = [BenchWallet.from_json(d) for d in json.loads(Path(args.wallets).read_text())]
    d = Driver(args, wallets)
    warm = await d.phase(args.warmup) if args.warmup > 0 else None
    out = await d.phase(args.duration)
    out["warmup"] = warm and {k: warm[k] for k in ("flows", "errors", "error_kinds")}
    out["concurrency"] = args.concurrency
    out["wallets"] = len(wallets)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.flow_load", description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--base", default="/bws/api")
    p.add_argument("--wallets", required=True, help="JSON list of BenchWallet.to_json()")
    p.add_argument("--concurrency", type=int, default=20)
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--warmup", type=float, default=3)
    p.add_argument("--timeout", type=float, default=30, help="seconds per request")
    p.add_argument("--server-pid", type=int)
    p.add_argument("--db-pid", type=int)
    args = p.parse_args(argv)
    out = asyncio.run(amain(args))
    print("FLOWJSON " + json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
