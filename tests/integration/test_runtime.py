"""The one process bootstrap (bws/runtime.py), seen from outside every process.

Each of the nine processes (the API, three monitors, email, push, fiat rates,
locker, message broker) is started as ``python -m ...`` like start.sh does:
``--help`` answers with the common ``--config``; a configuration key nothing
knows stops it with exit 2 and a message naming the key; and a running one
stops cleanly on SIGTERM (stopService on the whole tree, exit 0).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.servers.proc import free_port, port_open

ROOT = Path(__file__).resolve().parents[2]

#: (module, extra argv) of the nine processes.
PROCESSES = [
    ("bws", []),
    ("bcmonitor", ["btc"]),
    ("bcmonitor", ["eth"]),
    ("bcmonitor", ["tri"]),
    ("emailservice", []),
    ("pushservice", []),
    ("fiatrateservice", []),
    ("locker", []),
    ("messagebroker", []),
]
IDS = [" ".join([m, *a]) for m, a in PROCESSES]


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BWS_")}
    return {**env, "PYTHONPATH": str(ROOT)}


def _run(argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *argv], capture_output=True, text=True, cwd=str(ROOT), env=_env(), timeout=timeout
    )


@pytest.mark.parametrize("module,extra", PROCESSES, ids=IDS)
def test_help_everywhere(module, extra):
    r = _run([module, "--help"])
    assert r.returncode == 0, r.stderr
    assert "--config" in r.stdout and "--log-level" in r.stdout


@pytest.mark.parametrize("module,extra", PROCESSES, ids=IDS)
def test_unknown_config_key_exits_2_naming_it(module, extra, tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"lockOpts": {"mode": "local", "waitTme": 5}}))
    r = _run([module, *extra, "--config", str(cfg)])
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "configuration error" in r.stderr and "lockOpts.waitTme" in r.stderr, r.stderr


def _sigterm_exits_0(argv: list[str], ready, tmp_path: Path, grace: float = 15) -> str:
    log = (tmp_path / "out.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", *argv], stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT),
                            env=_env())  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not ready():
            assert proc.poll() is None, f"exited {proc.returncode} before it was ready"
            assert time.monotonic() < deadline, "not ready after 30 s"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=grace) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.seek(0)
        out = log.read()
        log.close()
    return out


@pytest.mark.parametrize("module", ["locker", "messagebroker"])
def test_sigterm_stops_a_server_cleanly(module, tmp_path):
    port = free_port()
    out = _sigterm_exits_0([module, "--host", "127.0.0.1", "--port", str(port)], lambda: port_open(port), tmp_path)
    assert "Traceback" not in out, out


def test_sigterm_stops_the_api_cleanly_and_closes_its_port(mongo_uri, tmp_path):
    port = free_port()
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"storageOpts": {"mongoDb": {"uri": mongo_uri}}}))

    def version_answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/bws/api/v1/version/", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    out = _sigterm_exits_0(["bws", "--config", str(cfg), "--port", str(port)], version_answers, tmp_path)
    assert "Traceback" not in out, out
    assert not port_open(port)
