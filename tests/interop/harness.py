"""Interop harness: our ``python -m bws`` as a real OS process, driven by the real
npm bitcore-wallet-client 6.7.5 through ``bwc_driver.js`` (a JSON-lines REPL), or by
11.5.2 (npm alias ``bwc11``) through ``bwc11_driver.js`` (:class:`Bwc11Driver`).

* :class:`BwsProcess` writes a config (SecantusDB database, local lock/broker,
  ``btc``/``testnet`` explorer on the session litecoind regtest node, its own
  watch-only wallet) and starts the server on a free port; ready when
  ``GET /bws/api/v1/version`` answers 200.
* :class:`BwcDriver` runs one ``node bwc_driver.js BASE_URL`` process holding any
  number of named clients (copayers). ``driver.call(client, cmd, **args)`` returns
  the result or raises :class:`BwcError` (``.code`` is the bwc error code such as
  ``SERVER_COMPROMISED``). ``driver.client(name)`` gives a small proxy so tests
  read ``alice.createAddress()``.
"""

from __future__ import annotations

import itertools
import json
import queue
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Optional

from tests.servers.proc import ROOT, ManagedProcess, free_port, require_binary

DRIVER = Path(__file__).with_name("bwc_driver.js")
DRIVER11 = Path(__file__).with_name("bwc11_driver.js")
DRIVER10 = Path(__file__).with_name("bwc10_driver.js")
BASE_PATH = "/bws/api"

#: Seconds one driver command may take (HTTP calls + client-side crypto).
CALL_TIMEOUT = 60.0


class BwcError(Exception):
    """An error the client library reported (its own ``bwc.Error<CODE>`` or a plain Error)."""

    def __init__(self, cmd: str, error: dict):
        self.cmd = cmd
        self.name = error.get("name")
        self.code = error.get("code")
        self.message = error.get("message")
        super().__init__(f"{cmd}: {self.name} ({self.code}): {self.message}")


# ---------------------------------------------------------------------------
# python -m bws


def _version_ok(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(base_url + "/v1/version/", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


class BwsProcess:
    """``python -m bws --config FILE`` on a free port, pointed at SecantusDB and litecoind."""

    def __init__(self, workdir: Path, mongo_uri: str, node_rpc_url: str, watch_wallet: str = "bws-interop"):
        self.workdir = Path(workdir)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}{BASE_PATH}"
        self.config_path = self.workdir / "bws-config.json"
        self.config = {
            "basePath": BASE_PATH,
            "host": "127.0.0.1",
            "port": self.port,
            "storageOpts": {"mongoDb": {"uri": mongo_uri}},
            "lockOpts": {"mode": "local"},
            "messageBrokerOpts": {"mode": "local"},
            # the suites create many wallets from 127.0.0.1 (limits are on by default)
            "rateLimits": {"enabled": False},
            "blockchainExplorerOpts": {
                # A watch-only wallet of its own on the shared node, so other suites'
                # imports never show up in our wallets' history.
                "btc": {"testnet": {"provider": "bitcoind", "url": f"{node_rpc_url}/wallet/{watch_wallet}"}},
            },
        }
        self.proc: Optional[ManagedProcess] = None

    def start(self) -> "BwsProcess":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(json.dumps(self.config, indent=2))
        self.proc = ManagedProcess(
            "bws",
            [sys.executable, "-m", "bws", "--config", str(self.config_path)],
            ready=lambda: _version_ok(self.base_url),
            log_dir=self.workdir,
            cwd=str(ROOT),
            timeout=30,
        ).start()
        return self

    @property
    def log_path(self) -> Path:
        return self.proc.log_path

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


# ---------------------------------------------------------------------------
# node bwc_driver.js


class _Client:
    """``driver.client("alice").createAddress()`` == ``driver.call("alice", "createAddress")``."""

    def __init__(self, driver: "BwcDriver", name: str):
        self._driver = driver
        self.name = name

    def __getattr__(self, cmd: str):
        if cmd.startswith("_"):
            raise AttributeError(cmd)
        return lambda **args: self._driver.call(self.name, cmd, **args)

    def __repr__(self) -> str:
        return f"<bwc client {self.name}>"


class BwcDriver:
    """One ``node bwc_driver.js`` process (many named clients), driven step by step."""

    #: the JSON-lines driver script this class runs
    script: Path = DRIVER

    def __init__(self, base_url: str, log_dir: Path, name: str = "bwc"):
        self.base_url = base_url
        self.stderr_path = Path(log_dir) / f"{name}-driver.log"
        self.stderr_path.parent.mkdir(parents=True, exist_ok=True)
        self._ids = itertools.count(1)
        self._replies: "queue.Queue[Optional[str]]" = queue.Queue()
        self._stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(
            [require_binary("node"), str(self.script), base_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=str(ROOT),
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        #: (seconds, cmd) per call, for the timing report.
        self.timings: list[tuple[float, str, str]] = []

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._replies.put(line.decode())
        self._replies.put(None)

    def call(self, client: str, cmd: str, **args: Any) -> Any:
        req_id = next(self._ids)
        line = json.dumps({"id": req_id, "client": client, "cmd": cmd, "args": args}) + "\n"
        t0 = time.monotonic()
        try:
            self.proc.stdin.write(line.encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise RuntimeError(f"bwc driver died: {self.stderr_tail()}") from None
        try:
            reply = self._replies.get(timeout=CALL_TIMEOUT)
        except queue.Empty:
            raise TimeoutError(f"{client}.{cmd}: no reply in {CALL_TIMEOUT}s; driver log: {self.stderr_tail()}")
        if reply is None:
            raise RuntimeError(f"bwc driver exited ({self.proc.poll()}): {self.stderr_tail()}")
        self.timings.append((time.monotonic() - t0, client, cmd))
        msg = json.loads(reply)
        assert msg["id"] == req_id, (msg, req_id)
        if "error" in msg:
            raise BwcError(f"{client}.{cmd}", msg["error"])
        return msg["result"]

    def client(self, name: str) -> _Client:
        return _Client(self, name)

    def new_copayer(self, name: str, network: str = "testnet", coin: str = "btc") -> _Client:
        self.call(name, "newCopayer", network=network, coin=coin)
        return self.client(name)

    def stderr_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.stderr_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()


class Bwc11Driver(BwcDriver):
    """One ``node bwc11_driver.js`` process: bitcore-wallet-client 11.5.2, same protocol.

    11.x makes a copayer from a ``Key`` (seed) and per-wallet credentials, whose root path
    depends on n (``m/44'/…`` for 1-of-1, ``m/48'/…`` for multisig), so m and n are given
    when the copayer is made, not only at createWallet."""

    script = DRIVER11

    def __init__(self, base_url: str, log_dir: Path, name: str = "bwc11"):
        super().__init__(base_url, log_dir, name)

    def new_copayer(  # type: ignore[override]
        self, name: str, m: int = 1, n: int = 1, network: str = "testnet", coin: str = "btc", **key_opts: Any
    ) -> _Client:
        """A new Key (random, or ``words=``/``xPrivKey=``) and credentials for an m-of-n wallet."""
        self.call(name, "newCopayer", m=m, n=n, network=network, coin=coin, **key_opts)
        return self.client(name)



class Bwc10Driver(Bwc11Driver):
    """One ``node bwc10_driver.js`` process: bitcore-wallet-client 10.10.15 (node callbacks
    wrapped in promises by the driver), same protocol and the same Key/credentials model as
    11.x; its address list is ``GET /v1/addresses/`` (docs/spec/protocol-bwc11.md §5)."""

    script = DRIVER10

    def __init__(self, base_url: str, log_dir: Path, name: str = "bwc10"):
        super().__init__(base_url, log_dir, name)


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.3, what: str = "condition"):
    """Poll ``predicate()`` until it returns a truthy value (returned); TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached in {timeout}s (last: {last!r})")
        time.sleep(interval)
