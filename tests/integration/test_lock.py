"""LocalLock (spec/services.md §1.2, §12 items 1-5), run_locked and make_lock; driven by task.Clock."""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.task import Clock

from bws.config import config_from_dict
from bws.errors import ClientError
from bws.adapters.lock.local import LocalLock
from bws.interfaces import LockTimeout, run_locked
from bws.runtime import make_lock


def acquire(lock, token, wait=10.0, max_hold=300.0):
    """Start an acquisition; returns (deferred, log list) without awaiting."""
    return ensureDeferred(lock.acquire(token, wait, max_hold))


def test_second_task_runs_only_after_first_releases_fifo():  # item 1
    clock = Clock()
    lock = LocalLock(clock)
    d1, d2, d3 = acquire(lock, "w"), acquire(lock, "w"), acquire(lock, "w")
    got = []
    d1.addCallback(lambda r: got.append(("1", r)))
    d2.addCallback(lambda r: got.append(("2", r)))
    d3.addCallback(lambda r: got.append(("3", r)))
    assert [g[0] for g in got] == ["1"]
    clock.advance(5)
    assert [g[0] for g in got] == ["1"]
    got[0][1]()  # release 1
    assert [g[0] for g in got] == ["1", "2"]
    got[0][1]()  # releasing twice is a no-op
    assert [g[0] for g in got] == ["1", "2"]
    got[1][1]()
    assert [g[0] for g in got] == ["1", "2", "3"]


def test_different_tokens_run_concurrently():  # item 2
    lock = LocalLock(Clock())
    got = []
    acquire(lock, "a").addCallback(got.append)
    acquire(lock, "b").addCallback(got.append)
    assert len(got) == 2
    assert lock.is_locked("a") and lock.is_locked("b")


def test_waiter_times_out_with_could_not_acquire():  # item 3
    clock = Clock()
    lock = LocalLock(clock)
    acquire(lock, "w")
    d2 = acquire(lock, "w", wait=1.0)
    errors = []
    d2.addErrback(lambda f: errors.append(f.value))
    clock.advance(0.99)
    assert errors == []
    clock.advance(0.02)
    assert len(errors) == 1 and isinstance(errors[0], LockTimeout)
    assert "Could not acquire lock w" in str(errors[0])


def test_holder_exceeding_max_is_force_released():  # item 4
    clock = Clock()
    lock = LocalLock(clock)
    got = []
    acquire(lock, "w", max_hold=2.0).addCallback(got.append)
    acquire(lock, "w", wait=10.0, max_hold=2.0).addCallback(got.append)
    assert len(got) == 1
    clock.advance(2.0)
    assert len(got) == 2
    got[0]()  # the force-released holder releasing late does nothing
    assert lock.is_locked("w")


def test_forced_release_starts_only_one_pending_task():  # item 5
    clock = Clock()
    lock = LocalLock(clock)
    got = []
    for _ in range(3):
        acquire(lock, "w", wait=100.0, max_hold=5.0).addCallback(got.append)
    assert len(got) == 1
    clock.advance(5.0)
    assert len(got) == 2  # only the second started
    clock.advance(1.0)
    assert len(got) == 2
    got[1]()
    assert len(got) == 3


def test_wait_zero_means_forever_in_local_lock():
    clock = Clock()
    lock = LocalLock(clock)
    got = []
    acquire(lock, "w", max_hold=0).addCallback(got.append)  # max 0: no auto-release
    acquire(lock, "w", wait=0).addCallback(got.append)
    clock.advance(10_000)
    assert len(got) == 1
    got[0]()
    assert len(got) == 2


def test_run_locked_maps_timeout_to_wallet_busy_and_releases_on_error():
    clock = Clock()
    lock = LocalLock(clock)

    async def boom():
        raise ValueError("task failed")

    d = ensureDeferred(run_locked(lock, "w", boom))
    errors = []
    d.addErrback(lambda f: errors.append(f.value))
    assert isinstance(errors[0], ValueError)
    assert not lock.is_locked("w")  # released although the task raised

    hold = Deferred()

    async def long_task():
        await hold
        return 42

    first = ensureDeferred(run_locked(lock, "w", long_task))
    second = ensureDeferred(run_locked(lock, "w", long_task, wait_time=1.0))
    busy = []
    second.addErrback(lambda f: busy.append(f.value))
    clock.advance(1.0)
    assert isinstance(busy[0], ClientError) and busy[0].code == "WALLET_BUSY"
    assert busy[0].message == "Wallet is busy, try later"
    results = []
    first.addCallback(results.append)
    hold.callback(None)
    assert results == [42] and not lock.is_locked("w")


def test_make_lock_selects_by_mode():
    from bws.adapters.lock.locker import LockerClient
    from bws.adapters.lock.redis import RedisLock

    clock = Clock()
    assert isinstance(make_lock(config_from_dict({"lockOpts": {"mode": "local"}}), clock), LocalLock)
    lc = make_lock(config_from_dict({"lockOpts": {"mode": "locker", "lockerServer": {"port": 1234}}}), clock)
    assert isinstance(lc, LockerClient) and lc.port == 1234
    assert isinstance(make_lock(config_from_dict({"lockOpts": {"mode": "redis"}}), clock), RedisLock)
