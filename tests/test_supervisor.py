"""The supervisor behind start.sh: restarts crashed processes, leaves exit-0 ones, stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest_twisted
from twisted.internet import defer, reactor

from bws.supervisor import ProcessSpec, Supervisor, main as supervisor_main

SLEEPER = [sys.executable, "-c", "import time\nwhile True: time.sleep(1)"]


def wait_for(pred, timeout=5.0):
    d = defer.Deferred()
    deadline = time.monotonic() + timeout

    def check():
        if pred():
            d.callback(True)
        elif time.monotonic() > deadline:
            d.callback(False)
        else:
            reactor.callLater(0.02, check)

    check()
    return d


def _alive(pid):
    from bws.supervisor import _alive as alive

    return alive(pid)


@pytest_twisted.ensureDeferred
async def test_kill_9_is_restarted_within_a_second_and_logged(tmp_path):
    lines = []
    sup = Supervisor([ProcessSpec("a", SLEEPER), ProcessSpec("done", [sys.executable, "-c", "pass"])], reactor, tmp_path, lines.append)
    sup.start_all()
    child = sup.children["a"]
    first = child.pid
    assert (tmp_path / "pids" / "a.pid").read_text().strip() == str(first)
    os.kill(first, signal.SIGKILL)
    t0 = time.monotonic()
    assert await wait_for(lambda: child.pid not in (None, first), timeout=3)
    assert time.monotonic() - t0 < 1.0
    assert (tmp_path / "pids" / "a.pid").read_text().strip() == str(child.pid)
    assert any("event=restart process=a" in l for l in lines)
    # exit 0 means "nothing to do with this configuration": not restarted
    assert await wait_for(lambda: sup.children["done"].finished, timeout=5)
    assert sup.children["done"].restarts == 0
    second = child.pid
    await sup.stop_all(grace=3)
    assert not _alive(second)
    assert not (tmp_path / "pids" / "a.pid").exists()


def test_start_and_stop_commands_leave_no_process(tmp_path):
    """start (detached supervisor) then stop: no child left, pid files gone."""
    cfg = tmp_path / "config.json"
    # Point at a database URI so no embedded server is needed; children will fail fast
    # (no servers configured) but the supervisor and stop path are what is tested.
    cfg.write_text('{"storageOpts": {"mongoDb": {"uri": "mongodb://127.0.0.1:1/x"}}, "port": 1}')
    out = subprocess.run(
        [sys.executable, "-m", "bws.supervisor", "start", "--config", str(cfg), "--run-dir", str(tmp_path), "--timeout", "3"],
        capture_output=True, text=True, timeout=60,
    )
    # 1: not every process became healthy (nothing is configured to be reachable)
    assert out.returncode == 1, out.stderr
    assert "locker" in out.stdout and "bws" in out.stdout and "NOT HEALTHY" in out.stdout
    sup_pid = int((tmp_path / "pids" / "supervisor.pid").read_text())
    assert _alive(sup_pid)
    stop = subprocess.run(
        [sys.executable, "-m", "bws.supervisor", "stop", "--run-dir", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert stop.returncode == 0, stop.stderr
    assert not _alive(sup_pid)
    assert list((tmp_path / "pids").glob("*.pid")) == []
    assert "event=stop requested" in (tmp_path / "logs" / "supervisor.log").read_text()
