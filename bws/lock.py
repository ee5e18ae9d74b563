"""Per-wallet locks: the interface the services use, and the in-process lock.

Every write to a wallet runs under that wallet's lock (spec/api.md §6.17):
acquisition waits up to ``wait_time`` seconds (default 10) and then fails with
ClientError('WALLET_BUSY'); a held lock is force-released after ``max_hold``
seconds (default 300) so a stuck holder cannot block a wallet forever.

Implementations (chosen by ``lockOpts.mode``):
- :class:`LocalLock` (``local``): in-process FIFO per token, the reference's
  ``lib/locallock.js`` semantics (spec/services.md §1.2). One bws process only.
- :class:`bws.lock_locker.LockerClient` (``locker``): client of ``python -m
  locker`` (npm locker-server protocol); FIFO per token across processes; a
  holder whose process dies releases at once (the TCP connection drops).
- :class:`bws.lock_redis.RedisLock` (``redis``): ``SET NX PX`` with an owner
  token, renewed lease, compare-and-delete release.

:func:`make_lock` builds the one the configuration asks for. A tiny CLI for
operators and the multi-process tests: ``python -m bws.lock_cli``.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Awaitable, Callable, Optional, Protocol, TypeVar

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IReactorTime

from bws.errors import Errors

T = TypeVar("T")

DEFAULT_WAIT = 10.0
DEFAULT_MAX_HOLD = 300.0


class LockTimeout(Exception):
    """The lock was not granted within the wait time."""


class Lock(Protocol):
    """What the services need from a lock backend."""

    async def acquire(self, token: str, wait_time: float, max_hold: float) -> Callable[[], None]:
        """Wait for ``token``; returns a release function. Raises LockTimeout after ``wait_time`` s."""
        ...


async def run_locked(
    lock: Lock,
    token: str,
    task: Callable[[], Awaitable[T]],
    wait_time: Optional[float] = None,
    max_hold: Optional[float] = None,
) -> T:
    """Run ``task()`` holding ``token``; raises ClientError('WALLET_BUSY') if not granted in time.

    The lock is released when the task finishes, whether it returned or raised.
    """
    try:
        release = await lock.acquire(token, wait_time or DEFAULT_WAIT, max_hold or DEFAULT_MAX_HOLD)
    except LockTimeout:
        raise Errors.WALLET_BUSY from None
    try:
        return await task()
    finally:
        release()


class _Waiter:
    __slots__ = ("deferred", "wait_call", "hold_call", "running")

    def __init__(self) -> None:
        self.deferred: Deferred = Deferred()
        self.wait_call: Any = None
        self.hold_call: Any = None
        self.running = False


class LocalLock:
    """In-process FIFO lock per token; the clock is injectable for tests.

    Semantics of the reference LocalLock: waiters queue per token; the head
    runs; a waiter still queued after ``wait_time`` fails; a holder past
    ``max_hold`` is released and the next waiter starts; release is idempotent.
    """

    def __init__(self, clock: Optional[IReactorTime] = None):
        if clock is None:
            from twisted.internet import reactor as clock  # type: ignore[no-redef]
        self.clock = clock
        self._queues: dict[str, deque[_Waiter]] = {}

    def is_locked(self, token: str) -> bool:
        q = self._queues.get(token)
        return bool(q) and q[0].running

    async def acquire(self, token: str, wait_time: float = DEFAULT_WAIT, max_hold: float = DEFAULT_MAX_HOLD) -> Callable[[], None]:
        q = self._queues.setdefault(token, deque())
        w = _Waiter()
        q.append(w)
        if wait_time > 0:
            w.wait_call = self.clock.callLater(wait_time, self._give_up, token, w)
        self._start_next(token, max_hold)
        try:
            await w.deferred
        except CancelledError:
            self._remove(token, w)
            raise
        return lambda: self._release(token, w, max_hold)

    def _start_next(self, token: str, max_hold: float) -> None:
        q = self._queues.get(token)
        if not q or q[0].running:
            return
        head = q[0]
        head.running = True
        if head.wait_call is not None and head.wait_call.active():
            head.wait_call.cancel()
        if max_hold > 0:
            head.hold_call = self.clock.callLater(max_hold, self._release, token, head, max_hold)
        head.deferred.callback(None)

    def _give_up(self, token: str, w: _Waiter) -> None:
        if w.running:
            return
        self._remove(token, w)
        w.deferred.errback(LockTimeout(f"Could not acquire lock {token}"))

    def _remove(self, token: str, w: _Waiter) -> None:
        q = self._queues.get(token)
        if q and w in q:
            q.remove(w)
        if q is not None and not q:
            del self._queues[token]

    def _release(self, token: str, w: _Waiter, max_hold: float) -> None:
        if not w.running:
            return  # already released (or force-released by the hold timer)
        w.running = False
        if w.hold_call is not None and w.hold_call.active():
            w.hold_call.cancel()
        self._remove(token, w)
        self._start_next(token, max_hold)


def make_lock(config: Any, reactor: Any = None) -> Lock:
    """The lock backend selected by ``config.lockOpts.mode`` (``locker`` | ``redis`` | ``local``).

    ``config`` is a :class:`bws.config.Config`. Connections are opened lazily,
    on the first ``acquire``.
    """
    opts = config.lockOpts
    if reactor is None:
        from twisted.internet import reactor  # type: ignore[no-redef]
    if opts.mode == "local":
        return LocalLock(reactor)
    if opts.mode == "locker":
        from bws.lock_locker import LockerClient

        return LockerClient(opts.lockerServer.host, opts.lockerServer.port, reactor, secret=opts.secret or None)
    if opts.mode == "redis":
        from bws.lock_redis import RedisLock

        return RedisLock(config.redis.url, reactor, lease=getattr(opts, "leaseTime", 15.0))
    raise ValueError(f"lockOpts.mode: unknown mode {opts.mode!r}")
