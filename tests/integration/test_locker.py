"""The lock server (locker/): protocol semantics with task.Clock, exact bytes over TCP,
shared-secret auth, the CLI, and interop with the npm `locker` client the reference used."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
from twisted.internet.task import Clock

from locker.server import ACTION_AUTH, ACTION_LOCK, ACTION_UNLOCK, LockService, encode_request
from tests.servers.proc import ROOT, ManagedProcess, free_port, port_open


class FakeTransport:
    def __init__(self):
        self.out = b""
        self.closed = False

    def write(self, data):
        self.out += data

    def loseConnection(self):
        self.closed = True

    def take(self):
        out, self.out = self.out, b""
        return out


def resp(seq, action, ok):
    return seq.to_bytes(4, "little") + bytes([action, 1 if ok else 0])


def setup(secret=None):
    clock = Clock()
    svc = LockService(clock, secret=secret)
    return clock, svc


def lock(svc, conn, seq, name, wait=10_000, timeout=300_000):
    svc.frame(conn, seq, wait, timeout, ACTION_LOCK, name)


def test_fifo_wait_timeout_and_handover_order():
    clock, svc = setup()
    ta, tb, tc = FakeTransport(), FakeTransport(), FakeTransport()
    a, b, c = svc.connect(ta, "a"), svc.connect(tb, "b"), svc.connect(tc, "c")
    lock(svc, a, 1, b"w")
    assert ta.take() == resp(1, ACTION_LOCK, True)
    lock(svc, b, 1, b"w", wait=5000)
    lock(svc, c, 7, b"w", wait=1000)
    assert tb.take() == b"" and tc.take() == b""
    clock.advance(1.0)  # c's wait expires: LOCK/0
    assert tc.take() == resp(7, ACTION_LOCK, False)
    svc.frame(a, 1, 0, 0, ACTION_UNLOCK, b"")
    assert tb.take() == resp(1, ACTION_LOCK, True)  # next waiter granted...
    assert ta.take() == resp(1, ACTION_UNLOCK, True)  # ...and the ack
    svc.frame(a, 1, 0, 0, ACTION_UNLOCK, b"")  # releasing again: not held
    assert ta.take() == resp(1, ACTION_UNLOCK, False)


def test_grant_is_written_before_the_unlock_ack_on_one_connection():
    clock, svc = setup()
    t = FakeTransport()
    a = svc.connect(t, "a")
    lock(svc, a, 1, b"w")
    lock(svc, a, 2, b"w")
    svc.frame(a, 1, 0, 0, ACTION_UNLOCK, b"")
    assert t.take() == resp(1, ACTION_LOCK, True) + resp(2, ACTION_LOCK, True) + resp(1, ACTION_UNLOCK, True)


def test_wait_zero_fails_when_busy_and_succeeds_when_free():
    clock, svc = setup()
    t = FakeTransport()
    a = svc.connect(t, "a")
    lock(svc, a, 1, b"w", wait=0)
    lock(svc, a, 2, b"w", wait=0)
    assert t.take() == resp(1, ACTION_LOCK, True) + resp(2, ACTION_LOCK, False)


def test_hold_timeout_force_releases_and_grants_next():
    clock, svc = setup()
    ta, tb = FakeTransport(), FakeTransport()
    a, b = svc.connect(ta, "a"), svc.connect(tb, "b")
    lock(svc, a, 1, b"w", timeout=2000)
    lock(svc, b, 1, b"w", wait=10_000)
    clock.advance(1.9)
    assert tb.take() == b""
    clock.advance(0.2)
    assert tb.take() == resp(1, ACTION_LOCK, True)
    ta.take()
    svc.frame(a, 1, 0, 0, ACTION_UNLOCK, b"")  # already force-released
    assert ta.take() == resp(1, ACTION_UNLOCK, False)


def test_disconnect_releases_held_and_waiting_locks():
    clock, svc = setup()
    ta, tb, tc = FakeTransport(), FakeTransport(), FakeTransport()
    a, b, c = svc.connect(ta, "a"), svc.connect(tb, "b"), svc.connect(tc, "c")
    lock(svc, a, 1, b"x")
    lock(svc, a, 2, b"y")
    lock(svc, b, 1, b"y")  # b waits behind a on y... and holds nothing
    lock(svc, c, 1, b"x")
    lock(svc, b, 2, b"x")  # b waits on x behind c
    svc.disconnect(a)
    assert tc.take() == resp(1, ACTION_LOCK, True)
    assert tb.take() == resp(1, ACTION_LOCK, True)  # y
    svc.disconnect(c)
    assert tb.take() == resp(2, ACTION_LOCK, True)  # x
    svc.disconnect(b)
    assert svc.queues == {}  # nothing left behind


def test_unlock_of_a_waiting_request_withdraws_it():
    clock, svc = setup()
    ta, tb = FakeTransport(), FakeTransport()
    a, b = svc.connect(ta, "a"), svc.connect(tb, "b")
    lock(svc, a, 1, b"w")
    lock(svc, b, 5, b"w")
    svc.frame(b, 5, 0, 0, ACTION_UNLOCK, b"")
    assert tb.take() == resp(5, ACTION_UNLOCK, False)
    svc.frame(a, 1, 0, 0, ACTION_UNLOCK, b"")
    assert tb.take() == b""  # b was withdrawn, nothing granted to it
    assert svc.queues == {}


def test_secret_required_first_frame_auth():
    clock, svc = setup(secret="s3cret")
    t1, t2, t3 = FakeTransport(), FakeTransport(), FakeTransport()
    c1 = svc.connect(t1, "p1")
    lock(svc, c1, 1, b"w")  # no AUTH first
    assert t1.take() == resp(1, ACTION_LOCK, False) and t1.closed
    c2 = svc.connect(t2, "p2")
    svc.frame(c2, 0, 0, 0, ACTION_AUTH, b"wrong")
    assert t2.take() == resp(0, ACTION_AUTH, False) and t2.closed
    c3 = svc.connect(t3, "p3")
    svc.frame(c3, 0, 0, 0, ACTION_AUTH, b"s3cret")
    lock(svc, c3, 1, b"w")
    assert t3.take() == resp(0, ACTION_AUTH, True) + resp(1, ACTION_LOCK, True) and not t3.closed


# -- the real process ------------------------------------------------------------------


@pytest.fixture
def locker_proc(tmp_path):
    port = free_port()
    proc = ManagedProcess(
        "locker", [sys.executable, "-m", "locker", "--port", str(port)], ready=lambda: port_open(port),
        log_dir=tmp_path, cwd=str(ROOT),
    ).start()
    proc.port = port
    yield proc
    proc.stop()


def _recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        assert chunk, "connection closed"
        buf += chunk
    return buf


def test_worked_example_bytes_over_tcp(locker_proc):
    with socket.create_connection(("127.0.0.1", locker_proc.port), timeout=5) as s:
        # request split across two writes: the server buffers partial frames
        req = bytes.fromhex("03 01000000 10270000 e0930400 01 616263".replace(" ", ""))
        s.sendall(req[:5])
        time.sleep(0.05)
        s.sendall(req[5:])
        assert _recv_exact(s, 6) == bytes.fromhex("010000000101")
        s.sendall(bytes.fromhex("00 01000000 00000000 00000000 00".replace(" ", "")))
        assert _recv_exact(s, 6) == bytes.fromhex("010000000001")
        # two frames in one write
        s.sendall(encode_request(b"x", 2, 1000, 1000, 1) + encode_request(b"x", 3, 0, 1000, 1))
        assert _recv_exact(s, 12) == resp(2, 1, True) + resp(3, 1, False)


def test_npm_locker_client_interop(locker_proc):
    out = subprocess.run(
        ["node", str(ROOT / "tests" / "interop" / "locker_interop.js"), str(locker_proc.port)],
        capture_output=True, text=True, timeout=30,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert '"step":"done","ok":true' in out.stdout


def test_cli_refuses_non_loopback_without_secret_and_logs_refusals(tmp_path):
    r = subprocess.run([sys.executable, "-m", "locker", "--host", "0.0.0.0", "--port", "0"],
                       capture_output=True, text=True, timeout=30, cwd=str(ROOT))
    assert r.returncode == 2 and "shared secret" in r.stderr
    port = free_port()
    proc = ManagedProcess(
        "locker-secret", [sys.executable, "-m", "locker", "--host", "0.0.0.0", "--port", str(port), "--secret", "k"],
        ready=lambda: port_open(port), log_dir=tmp_path, cwd=str(ROOT),
    ).start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(encode_request(b"w", 1, 1000, 1000, 1))
            assert _recv_exact(s, 6) == resp(1, 1, False)
            assert s.recv(10) == b""  # closed
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(encode_request(b"k", 0, 0, 0, ACTION_AUTH) + encode_request(b"w", 1, 1000, 1000, 1))
            assert _recv_exact(s, 12) == resp(0, ACTION_AUTH, True) + resp(1, 1, True)
        time.sleep(0.2)
        assert "refusing" in proc.tail() and "before AUTH" in proc.tail()
    finally:
        proc.stop()


def test_help():
    r = subprocess.run([sys.executable, "-m", "locker", "--help"], capture_output=True, text=True, cwd=str(ROOT))
    assert r.returncode == 0 and "--config" in r.stdout
