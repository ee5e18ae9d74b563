"""The in-process per-wallet lock (``lockOpts.mode = "local"``).

Every write to a wallet runs under that wallet's lock (docs/spec/api.md §6.17):
acquisition waits up to ``wait_time`` seconds (default 10) and then fails with
:class:`bws.interfaces.LockTimeout` (ClientError('WALLET_BUSY') through
:func:`bws.interfaces.run_locked`); a held lock is force-released after
``max_hold`` seconds (default 300) so a stuck holder cannot block a wallet forever.

:class:`LocalLock` has the reference's lib/locallock.js semantics
(docs/spec/services.md §1.2): in-process FIFO per token, so one bws process
only. The other backends are bws/adapters/lock/locker.py (``locker``) and
redis.py (``redis``); bws/runtime.py ``make_lock`` chooses one. A tiny CLI for
operators and the multi-process tests: ``python -m ops.lock_cli``.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IReactorTime

from bws.interfaces import DEFAULT_MAX_HOLD, DEFAULT_WAIT, LockTimeout


class _Waiter:
    __slots__ = ("deferred", "wait_call", "hold_call", "running")

    def __init__(self) -> None:
        self.deferred: Deferred = Deferred()
        self.wait_call: Any = None
        self.hold_call: Any = None
        self.running = False


class LocalLock:
    """In-process FIFO lock per token; ``clock``: the reactor (IReactorTime; task.Clock in tests).

    Semantics of the reference LocalLock: waiters queue per token; the head
    runs; a waiter still queued after ``wait_time`` fails; a holder past
    ``max_hold`` is released and the next waiter starts; release is idempotent.
    """

    def __init__(self, clock: IReactorTime):
        self.clock = clock
        self._queues: dict[str, deque[_Waiter]] = {}

    def is_locked(self, token: str) -> bool:
        q = self._queues.get(token)
        return bool(q) and q[0].running

    async def acquire(
        self, token: str, wait_time: float = DEFAULT_WAIT, max_hold: float = DEFAULT_MAX_HOLD
    ) -> Callable[[], None]:
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
