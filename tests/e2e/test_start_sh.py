"""The done-when test of issue 9: ``./start.sh --dev`` end to end, with the real client.

1. ``./start.sh --dev`` on free ports (a base config for the nine processes' ports, the
   dev chains' ports through ``BWS_DEV_PORT_*``) and ``--run-dir`` in a temporary directory:
   every process reported healthy (bws by ``GET /v1/health``), ``/metrics`` served.
2. The real bitcore-wallet-client (tests/interop/bwc_driver.js) creates a 2-of-2 wallet;
   both copayers set an e-mail address (PUT /v1/preferences), alice subscribes a device
   (``node tools/bwc-wallet.js push`` — the README tool); the dev litecoind pays the wallet:
   the SMTP sink receives the NewIncomingTx e-mail (bcmonitor btc → emailservice) and the
   dev fake FCM the push (→ pushservice). After a block, a proposal is created, published,
   signed by both and broadcast.
3. ``kill -9`` of each process in turn: a new pid in ``pids/<name>.pid`` within 2 s; the
   system becomes healthy again and the flow still completes (a second payment is mailed
   and pushed, a second proposal goes through).
4. ``./stop.sh``: no process of the run is left (checked by pid and by the run directory
   and ports in every process's command line).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from devtools.process import free_port
from ops.supervisor import _alive
from tests.interop.harness import BwcDriver, BwcError, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.interop]

ROOT = Path(__file__).resolve().parents[2]
NINE = ["locker", "messagebroker", "bcmonitor-btc", "bcmonitor-eth", "bcmonitor-tri",
        "emailservice", "pushservice", "fiatrateservice", "bws"]
KILL_ORDER = ["embedded_db"] + NINE


class Stack:
    def __init__(self, run_dir: Path):
        self.run_dir = run_dir
        self.ports = {k: free_port() for k in ("bws", "locker", "broker", "db")}
        self.dev_ports = {k: free_port() for k in ("LITECOIND_RPC", "LITECOIND_P2P", "ETH", "TRI", "SMTP", "FCM")}
        self.base_url = f"http://127.0.0.1:{self.ports['bws']}/bws/api"
        self.config = run_dir / "base-config.json"
        self.config.write_text(json.dumps({
            "port": self.ports["bws"],
            "locker": {"port": self.ports["locker"]},
            "lockOpts": {"lockerServer": {"port": self.ports["locker"]}},
            "messageBroker": {"port": self.ports["broker"]},
            "messageBrokerOpts": {"messageBrokerServer": {"url": f"ws://127.0.0.1:{self.ports['broker']}"}},
            "storageOpts": {"embedded": {"port": self.ports["db"], "dataPath": str(run_dir / "data" / "db")}},
        }))
        env = {k: v for k, v in os.environ.items() if not k.startswith("BWS")}
        env.update({f"BWS_DEV_PORT_{k}": str(v) for k, v in self.dev_ports.items()})
        self.env = env
        self.maildir = run_dir / "data" / "dev" / "mail" / "new"
        self.pushes = run_dir / "data" / "dev" / "fcm-messages.jsonl"

    def run(self, script: str, *args: str, timeout: float) -> subprocess.CompletedProcess:
        return subprocess.run([str(ROOT / script), *args, "--run-dir", str(self.run_dir)], cwd=str(ROOT),
                              env=self.env, capture_output=True, text=True, timeout=timeout)

    def pid(self, name: str) -> int:
        f = self.run_dir / "pids" / f"{name}.pid"
        try:
            return int(f.read_text().strip() or 0)
        except (OSError, ValueError):
            return 0

    def rpc(self, method: str, *params):
        url = f"http://127.0.0.1:{self.dev_ports['LITECOIND_RPC']}/wallet/miner"
        req = urllib.request.Request(url, json.dumps({"jsonrpc": "1.0", "id": 1, "method": method, "params": list(params)}).encode(),
                                     {"content-type": "application/json"})
        import base64

        req.add_header("Authorization", "Basic " + base64.b64encode(b"bws:bwspass").decode())
        with urllib.request.urlopen(req, timeout=30) as r:
            out = json.loads(r.read())
        assert out.get("error") is None, out
        return out["result"]

    def mine(self, n: int = 1):
        return self.rpc("generatetoaddress", n, self.rpc("getnewaddress", "", "bech32"))

    def http(self, url: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
        except OSError:
            return 0, b""

    def mails(self) -> list[str]:
        if not self.maildir.exists():
            return []
        return [p.read_text(errors="replace") for p in sorted(self.maildir.iterdir())]

    def push_rows(self) -> list[dict]:
        if not self.pushes.exists():
            return []
        return [json.loads(l) for l in self.pushes.read_text().splitlines() if l.strip()]

    def leftovers(self) -> list[str]:
        """Processes whose command line names this run (dir or one of its ports)."""
        ports = "|".join(str(p) for p in (*self.ports.values(), *self.dev_ports.values()))
        port_re = re.compile(rf"(?<!\d)({ports})(?!\d)")
        out = []
        for d in Path("/proc").iterdir():
            if not d.name.isdigit() or int(d.name) == os.getpid():
                continue
            try:
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z" and (str(self.run_dir) in cmd or port_re.search(cmd)):
                out.append(f"{d.name}: {cmd[:200]}")
        return out


def incoming(stack: Stack, amount_text: str, email_to: str, token: str, timeout: float = 60.0):
    """Wait for the NewIncomingTx e-mail (to ``email_to``) and push (to ``token``) mentioning ``amount_text``."""
    wait_for(lambda: [m for m in stack.mails() if email_to in m and amount_text in m and "New payment received" in m],
             timeout=timeout, what=f"e-mail to {email_to} about {amount_text}")
    wait_for(lambda: [r for r in stack.push_rows() if r["message"].get("token") == token
                      and r["message"]["data"].get("notification_type") == "NewIncomingTx"
                      and amount_text in r["message"]["data"].get("body", "")],
             timeout=timeout, what=f"push to {token} about {amount_text}")


def spend(stack: Stack, alice, bob, amount: int) -> str:
    """Proposal by alice, published, signed by both (2-of-2), broadcast: the node has the tx."""
    dest = stack.rpc("getnewaddress", "", "legacy")
    txp = alice.createTxProposal(opts={"outputs": [{"toAddress": dest, "amount": amount}], "feePerKb": 10_000,
                                       "message": "e2e"})
    assert txp["status"] == "temporary"
    assert alice.publishTxProposal(txp=txp)["status"] == "pending"
    assert alice.signTxProposal(txpId=txp["id"])["status"] == "pending"
    signed = bob.signTxProposal(txpId=txp["id"])
    assert signed["status"] == "accepted", signed
    sent = bob.broadcastTxProposal(txpId=txp["id"])
    assert sent["status"] == "broadcasted"
    assert stack.rpc("getmempoolentry", sent["txid"])
    return sent["txid"]


@pytest.mark.timeout(420)
def test_start_sh_dev_wallet_flow_survives_kill_9_and_stop_leaves_nothing(tmp_path):
    t0 = time.monotonic()
    timings: dict[str, float] = {}
    stack = Stack(tmp_path)
    started = stack.run("start.sh", "--dev", "--config", str(stack.config), timeout=240)
    timings["start"] = time.monotonic() - t0
    driver = None
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        lines = started.stdout.splitlines()
        for name in ["dev-litecoind", "dev-ganache-eth", "dev-ganache-tri", "dev-smtpsink", "dev-fakefcm", "embedded_db", *NINE]:
            line = next(l for l in lines if l.split()[0] == name)
            assert line.endswith(("healthy", "running")), line
            assert f"pid={stack.pid(name)}" in line
        status, body = stack.http(stack.base_url + "/v1/health")
        assert status == 200 and json.loads(body)["status"] == "ok", body
        assert set(json.loads(body)["checks"]) >= {"database", "broker", "lock", "node:btc:testnet"}

        # -- the wallet, e-mail preferences and a push subscription
        driver = BwcDriver(stack.base_url, tmp_path)
        alice, bob = driver.new_copayer("alice"), driver.new_copayer("bob")
        created = alice.createWallet(walletName="e2e", copayerName="alice", m=2, n=2, network="testnet")
        bob.joinWallet(secret=created["secret"], copayerName="bob")
        for c in (alice, bob):
            assert c.openWallet()["credentials"]["complete"]
        alice.savePreferences(preferences={"email": "alice@example.com", "language": "en", "unit": "btc"})
        bob.savePreferences(preferences={"email": "bob@example.com", "language": "en", "unit": "btc"})
        creds = tmp_path / "alice-wallet.json"
        creds.write_text(driver.call("alice", "export"))
        sub = subprocess.run(["node", str(ROOT / "tools" / "bwc-wallet.js"), "push", "e2e-device-alice"], cwd=str(tmp_path),
                             env={**stack.env, "BWS_URL": stack.base_url, "WALLET_FILE": str(creds)},
                             capture_output=True, text=True, timeout=60)
        assert sub.returncode == 0, sub.stderr
        timings["wallet"] = time.monotonic() - t0

        # -- regtest funds: e-mail + push, confirmed balance, a proposal
        stack.rpc("sendtoaddress", alice.createAddress()["address"], "0.5")
        incoming(stack, "0.50 BTC", "alice@example.com", "e2e-device-alice")
        wait_for(lambda: [m for m in stack.mails() if "bob@example.com" in m and "0.50 BTC" in m], what="e-mail to bob")
        stack.mine(1)
        wait_for(lambda: bob.getBalance()["totalConfirmedAmount"] == 50_000_000, what="confirmed balance")
        spend(stack, alice, bob, 10_000_000)
        timings["flow"] = time.monotonic() - t0

        # -- kill -9 every process in turn: restarted within 2 s
        restarts = {}
        for name in KILL_ORDER:
            old = stack.pid(name)
            assert old and _alive(old), name
            os.kill(old, signal.SIGKILL)
            k0 = time.monotonic()
            new = wait_for(lambda: (p := stack.pid(name)) not in (0, old) and _alive(p) and p, timeout=2.0, interval=0.05,
                           what=f"{name} restarted")
            restarts[name] = round(time.monotonic() - k0, 2)
            assert new != old
        sup_log = (tmp_path / "logs" / "supervisor.log").read_text()
        for name in KILL_ORDER:
            assert f"event=restart process={name} " in sup_log
        wait_for(lambda: stack.http(stack.base_url + "/v1/health")[0] == 200, timeout=60, what="healthy again")
        timings["kills"] = time.monotonic() - t0
        print("restart latency (s):", restarts)

        # -- the flow still completes
        stack.rpc("sendtoaddress", bob.createAddress()["address"], "0.3")
        incoming(stack, "0.30 BTC", "alice@example.com", "e2e-device-alice", timeout=90)
        stack.mine(1)
        spend(stack, alice, bob, 5_000_000)
        status, metrics = stack.http(f"http://127.0.0.1:{stack.ports['bws']}/metrics")
        assert status == 200
        text = metrics.decode()
        assert re.search(r'bws_http_requests_total\{method="POST",route="/v\d/txproposals/",status="200"\} [1-9]', text), text
        assert re.search(r'bws_lock_wait_seconds_count\{outcome="acquired"\} [1-9]', text)
        assert 'bws_notifications_delivered_total{service="push"}' in text
        timings["after_kills"] = time.monotonic() - t0
    finally:
        if driver is not None:
            driver.close()
        pids = {n: stack.pid(n) for n in ["supervisor", *KILL_ORDER]}
        stopped = stack.run("stop.sh", timeout=90)
        timings["stop"] = time.monotonic() - t0
        print("timings (s since start):", {k: round(v, 1) for k, v in timings.items()})
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    time.sleep(0.5)
    assert [n for n, p in pids.items() if p and _alive(p)] == []
    assert stack.leftovers() == []
    assert list((tmp_path / "pids").glob("*.pid")) == []
