"""One lock test suite, run against both cross-process backends:
``locker`` (our ``python -m locker`` process + LockerClient) and ``redis`` (RedisLock)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import pytest_twisted
from twisted.internet import reactor, task
from twisted.internet.defer import ensureDeferred

from bws.errors import ClientError
from bws.interfaces import LockTimeout, run_locked
from bws.adapters.lock.locker import LockerClient
from bws.adapters.lock.redis import RedisLock
from tests.servers.proc import ROOT, ManagedProcess, free_port, port_open


def sleep(s):
    return task.deferLater(reactor, s, lambda: None)


@pytest.fixture(scope="module")
def locker_server(tmp_path_factory):
    port = free_port()
    proc = ManagedProcess(
        "locker", [sys.executable, "-m", "locker", "--port", str(port)], ready=lambda: port_open(port),
        log_dir=tmp_path_factory.mktemp("locker"), cwd=str(ROOT),
    ).start()
    proc.port = port
    yield proc
    proc.stop()


@pytest.fixture(params=["locker", "redis"])
def backend(request):
    """(mode, make_client(), env for `python -m ops.lock_cli`)."""
    made = []
    if request.param == "locker":
        srv = request.getfixturevalue("locker_server")

        def make():
            c = LockerClient("127.0.0.1", srv.port, reactor)
            made.append(c)
            return c

        env = {"BWS_LOCK_MODE": "locker", "BWS_LOCKER_PORT": str(srv.port)}
    else:
        rs = request.getfixturevalue("redis_server")
        prefix = f"test:{time.monotonic_ns()}:"

        def make():
            c = RedisLock(rs.url, reactor, lease=1.0, prefix=prefix)
            made.append(c)
            return c

        env = {"BWS_LOCK_MODE": "redis", "BWS_REDIS_URL": rs.url, "BWS__lockOpts__leaseTime": "1"}
    yield request.param, make, env
    for c in made:
        c.close()


@pytest_twisted.ensureDeferred
async def test_second_waits_for_release_then_gets_it(backend):
    _, make, _ = backend
    a, b = make(), make()
    release_a = await a.acquire("wallet-1", 2.0, 10.0)
    t0 = reactor.seconds()
    pending = ensureDeferred(b.acquire("wallet-1", 3.0, 10.0))
    await sleep(0.4)
    assert not pending.called
    release_a()
    release_b = await pending
    assert 0.35 <= reactor.seconds() - t0 < 2.0
    release_b()


@pytest_twisted.ensureDeferred
async def test_timeout_is_wallet_busy_never_500(backend):
    _, make, _ = backend
    a, b = make(), make()
    release_a = await a.acquire("wallet-2", 2.0, 10.0)

    async def task_():
        raise AssertionError("must not run")

    t0 = reactor.seconds()
    with pytest.raises(ClientError) as e:
        await run_locked(b, "wallet-2", task_, wait_time=1.0, max_hold=10.0)
    assert e.value.code == "WALLET_BUSY"
    assert 0.9 <= reactor.seconds() - t0 < 2.0
    release_a()
    # and the timed-out request left nothing behind: the lock is free now
    release = await b.acquire("wallet-2", 1.0, 10.0)
    release()


@pytest_twisted.ensureDeferred
async def test_different_tokens_do_not_block(backend):
    _, make, _ = backend
    a, b = make(), make()
    r1 = await a.acquire("wallet-3a", 1.0, 10.0)
    r2 = await b.acquire("wallet-3b", 1.0, 10.0)
    r1()
    r2()


@pytest_twisted.ensureDeferred
async def test_max_hold_force_releases(backend):
    _, make, _ = backend
    a, b = make(), make()
    await a.acquire("wallet-4", 1.0, 0.5)  # never released
    t0 = reactor.seconds()
    release = await b.acquire("wallet-4", 3.0, 10.0)
    assert 0.3 <= reactor.seconds() - t0 < 2.5
    release()


@pytest_twisted.ensureDeferred
async def test_release_is_idempotent_and_only_by_owner(backend):
    _, make, _ = backend
    a, b = make(), make()
    ra = await a.acquire("wallet-5", 1.0, 0.3)
    await sleep(0.6)  # a's hold expired
    rb = await b.acquire("wallet-5", 1.0, 10.0)
    ra()  # late release by the old holder must not free b's lock
    ra()
    with pytest.raises(LockTimeout):
        await a.acquire("wallet-5", 0.5, 10.0)
    rb()


def _cli(env, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "ops.lock_cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **env}, cwd="/", start_new_session=True,
    )


def test_two_os_processes_contend_and_a_killed_holder_releases(backend):
    mode, _, env = backend
    holder = _cli(env, "wallet-proc", "--hold", "-1")
    try:
        assert holder.stdout.readline().strip() == "GRANTED wallet-proc"
        t0 = time.monotonic()
        second = _cli(env, "wallet-proc", "--wait", "1")
        out, err = second.communicate(timeout=20)
        elapsed = time.monotonic() - t0
        assert second.returncode == 3, (out, err)
        assert out.startswith("WALLET_BUSY Wallet is busy, try later"), out
        assert elapsed >= 1.0
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(5)
        t1 = time.monotonic()
        third = _cli(env, "wallet-proc", "--wait", "5")
        out, err = third.communicate(timeout=20)
        assert third.returncode == 0, (out, err)
        assert out.splitlines()[:2] == ["GRANTED wallet-proc", "RELEASED wallet-proc"]
        # locker: the TCP drop frees it at once; redis: within one lease (1 s)
        assert time.monotonic() - t1 < 5
    finally:
        if holder.poll() is None:
            os.killpg(holder.pid, signal.SIGKILL)
            holder.wait(5)


# -- locker-only behaviour --------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_locker_down_gives_wallet_busy_and_client_recovers_when_it_comes_back(tmp_path):
    port = free_port()
    client = LockerClient("127.0.0.1", port, reactor)
    try:
        t0 = reactor.seconds()
        with pytest.raises(ClientError) as e:
            await run_locked(client, "w", lambda: None, wait_time=0.5)
        assert e.value.code == "WALLET_BUSY" and reactor.seconds() - t0 < 2.0
        proc = ManagedProcess("locker2", [sys.executable, "-m", "locker", "--port", str(port)],
                              ready=lambda: port_open(port), log_dir=tmp_path, cwd=str(ROOT))
        pending = ensureDeferred(client.acquire("w", 8.0, 10.0))  # server still down: retries connecting
        await sleep(0.3)
        proc.start()
        try:
            release = await pending
            release()
            # the server restarts: a later acquire reconnects
            proc.stop()
            proc.start()
            release = await client.acquire("w", 5.0, 10.0)
            release()
        finally:
            proc.stop()
    finally:
        client.close()


@pytest_twisted.ensureDeferred
async def test_locker_client_authenticates_with_secret(tmp_path):
    port = free_port()
    proc = ManagedProcess("locker3", [sys.executable, "-m", "locker", "--port", str(port), "--secret", "pw"],
                          ready=lambda: port_open(port), log_dir=tmp_path, cwd=str(ROOT)).start()
    good = LockerClient("127.0.0.1", port, reactor, secret="pw")
    bad = LockerClient("127.0.0.1", port, reactor, secret="nope")
    try:
        release = await good.acquire("w", 2.0, 10.0)
        release()
        with pytest.raises(LockTimeout):
            await bad.acquire("w", 0.5, 10.0)
        await sleep(0.1)
        assert "wrong shared secret" in proc.tail()
    finally:
        good.close()
        bad.close()
        proc.stop()


@pytest_twisted.ensureDeferred
async def test_locker_wait_zero_asks_once(locker_server):
    a = LockerClient("127.0.0.1", locker_server.port, reactor)
    b = LockerClient("127.0.0.1", locker_server.port, reactor)
    try:
        release = await a.acquire("w0", 0, 10.0)
        t0 = reactor.seconds()
        with pytest.raises(LockTimeout):
            await b.acquire("w0", 0, 10.0)
        assert reactor.seconds() - t0 < 0.4
        release()
    finally:
        a.close()
        b.close()
