"""The supervisor behind start.sh: restarts crashed processes, leaves exit-0 ones, stops everything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest_twisted
from twisted.internet import defer, reactor

from ops.supervisor import ProcessSpec, Supervisor, main as supervisor_main

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
    from ops.supervisor import _alive as alive

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
    def stop():
        return subprocess.run(
            [sys.executable, "-m", "ops.supervisor", "stop", "--run-dir", str(tmp_path)], capture_output=True, text=True, timeout=60
        )

    try:
        out = subprocess.run(
            [sys.executable, "-m", "ops.supervisor", "start", "--config", str(cfg), "--run-dir", str(tmp_path), "--timeout", "3"],
            capture_output=True, text=True, timeout=60,
        )
        # 1: not every process became healthy (nothing is configured to be reachable)
        assert out.returncode == 1, out.stdout + out.stderr
        assert "locker" in out.stdout and "bws" in out.stdout and "NOT HEALTHY" in out.stdout
        sup_pid = int((tmp_path / "pids" / "supervisor.pid").read_text())
        assert _alive(sup_pid)
        children = [int(f.read_text()) for f in (tmp_path / "pids").glob("*.pid") if f.stem != "supervisor"]
    finally:
        stopped = stop()  # always: a failed assertion must not leave a supervisor running
    assert stopped.returncode == 0, stopped.stderr
    assert not _alive(sup_pid)
    assert [p for p in children if _alive(p)] == []
    assert list((tmp_path / "pids").glob("*.pid")) == []
    assert "event=stop requested" in (tmp_path / "logs" / "supervisor.log").read_text()


def test_start_refuses_ports_in_use(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cfg = tmp_path / "config.json"
        cfg.write_text(json.dumps({"storageOpts": {"mongoDb": {"uri": "mongodb://127.0.0.1:1/x"}}, "port": port}))
        out = subprocess.run(
            [sys.executable, "-m", "ops.supervisor", "start", "--config", str(cfg), "--run-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=60,
        )
    assert out.returncode == 2
    assert f"bws port {port}" in out.stderr
    assert not (tmp_path / "pids" / "supervisor.pid").exists()


@pytest_twisted.ensureDeferred
async def test_kill_9_takes_the_process_group_with_it(tmp_path):
    """A killed child's grandchildren (litecoind, node under a launcher) die with it, so the
    restarted child finds its ports and data directory free."""
    code = (
        "import subprocess,sys,time\n"
        "p=subprocess.Popen([sys.executable,'-c','import time; time.sleep(60)'])\n"
        "open(sys.argv[1],'w').write(str(p.pid))\n"
        "time.sleep(60)\n"
    )
    marker = tmp_path / "grandchild.pid"
    lines = []
    sup = Supervisor([ProcessSpec("parent", [sys.executable, "-c", code, str(marker)])], reactor, tmp_path, lines.append)
    await sup.start_all()
    assert await wait_for(lambda: marker.exists() and marker.read_text().strip(), timeout=10)
    grandchild = int(marker.read_text())
    marker.unlink()
    first = sup.children["parent"].pid
    os.kill(first, signal.SIGKILL)
    assert await wait_for(lambda: not _alive(grandchild), timeout=3)
    assert await wait_for(lambda: sup.children["parent"].pid not in (None, first), timeout=3)
    await sup.stop_all(grace=3)


@pytest_twisted.ensureDeferred
async def test_port_processes_start_in_order(tmp_path):
    """The process after one with a port starts only once that port answers."""
    from devtools.process import free_port

    port = free_port()
    server = [sys.executable, "-c",
              f"import socket,time\ntime.sleep(1.0)\ns=socket.socket();s.bind(('127.0.0.1',{port}));s.listen();time.sleep(60)"]
    lines = []
    sup = Supervisor([ProcessSpec("server", server, port=port), ProcessSpec("client", SLEEPER)], reactor, tmp_path, lines.append)
    t0 = time.monotonic()
    await sup.start_all()
    assert time.monotonic() - t0 >= 0.9
    starts = [l for l in lines if l.startswith("event=start")]
    assert [l.split()[1] for l in starts] == ["process=server", "process=client"]
    await sup.stop_all(grace=3)
