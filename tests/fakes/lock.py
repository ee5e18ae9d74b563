"""In-memory :class:`bws.interfaces.Lock`: FIFO per token, timed by the injected clock.

``acquire`` queues the caller; the head of a token's queue holds it. A waiter
still queued ``wait_time`` clock seconds later fails with
:class:`bws.interfaces.LockTimeout`; a holder past ``max_hold`` is released.
With ``twisted.internet.task.Clock`` nothing happens until the test calls
``clock.advance(...)``.  ``granted`` records every token handed out, in order.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime

from bws.interfaces import LockTimeout


class _Waiter:
    def __init__(self) -> None:
        self.granted: Deferred = Deferred()
        self.holding = False
        self.timers: list[Any] = []


class FakeLock:
    """A :class:`bws.interfaces.Lock` in memory (one process)."""

    def __init__(self, clock: IReactorTime) -> None:
        self.clock = clock
        self.queues: dict[str, deque[_Waiter]] = {}
        self.granted: list[str] = []

    def is_held(self, token: str) -> bool:
        q = self.queues.get(token)
        return bool(q) and q[0].holding

    async def acquire(self, token: str, wait_time: float, max_hold: float) -> Callable[[], None]:
        w = _Waiter()
        self.queues.setdefault(token, deque()).append(w)
        if wait_time > 0:
            w.timers.append(self.clock.callLater(wait_time, self._time_out, token, w))
        self._grant_next(token, max_hold)
        await w.granted
        return lambda: self._release(token, w, max_hold)

    def _grant_next(self, token: str, max_hold: float) -> None:
        q = self.queues.get(token)
        if not q or q[0].holding:
            return
        head = q[0]
        head.holding = True
        self._cancel(head)
        if max_hold > 0:
            head.timers.append(self.clock.callLater(max_hold, self._release, token, head, max_hold))
        self.granted.append(token)
        head.granted.callback(None)

    def _time_out(self, token: str, w: _Waiter) -> None:
        self.queues[token].remove(w)
        w.granted.errback(LockTimeout(f"Could not acquire lock {token}"))

    def _release(self, token: str, w: _Waiter, max_hold: float) -> None:
        if not w.holding:
            return  # idempotent (and the hold timer may have released it already)
        w.holding = False
        self._cancel(w)
        q = self.queues[token]
        q.remove(w)
        if not q:
            del self.queues[token]
        self._grant_next(token, max_hold)

    @staticmethod
    def _cancel(w: _Waiter) -> None:
        for t in w.timers:
            if t.active():
                t.cancel()
        w.timers.clear()
