"""Sharing one computation between concurrent callers (the history page's
request coalescing and address-set loads, bws/services/history.py; bench
finding 3 in bench/profiles/NOTES.md).

* :func:`single_flight`: callers with the same key while a computation runs
  join it.
* :func:`coalesce`: callers with the same key that arrive before a
  computation *starts* share it; one arriving while it runs waits for the
  next one (so every answer comes from reads made after its caller arrived).

The state (``flights`` / ``batches`` dicts) belongs to the caller: these are
plain functions over it, so nothing here is process-global.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Hashable, Optional

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure

log = logging.getLogger(__name__)


def _fire(waiters: list, result: Any) -> None:
    for d in list(waiters):
        if not d.called:
            if isinstance(result, Failure):
                d.errback(result)
            else:
                d.callback(result)
    waiters.clear()


def _waiter(waiters: list) -> Deferred:
    def cancel(d: Deferred) -> None:
        if d in waiters:
            waiters.remove(d)

    d: Deferred = Deferred(canceller=cancel)
    waiters.append(d)
    return d


def single_flight(flights: dict, key: Hashable, work: Callable[[], Awaitable[Any]]) -> Deferred:
    """A Deferred of ``await work()``, shared by every caller with the same
    ``key`` while it runs (only the first caller's ``work`` runs; later ones
    join the running one).

    The work runs on its own Deferred: cancelling one caller's Deferred only
    stops that caller waiting. The result object is shared: callers must not
    mutate it."""
    waiters = flights.get(key)
    if waiters is not None:
        return _waiter(waiters)
    waiters = flights[key] = []
    mine = _waiter(waiters)

    def done(result: Any) -> None:
        if flights.get(key) is waiters:
            del flights[key]
        _fire(waiters, result)

    Deferred.fromCoroutine(work()).addBoth(done)
    return mine


class _Batches:
    """One key's state in :func:`coalesce`: the run in progress and the
    callers waiting for the next one."""

    __slots__ = ("running", "waiting", "work")

    def __init__(self) -> None:
        self.running: Optional[list] = None
        self.waiting: list = []
        self.work: Optional[Callable[[], Awaitable[Any]]] = None


def coalesce(clock: IReactorTime, batches: dict, key: Hashable, work: Callable[[], Awaitable[Any]]) -> Deferred:
    """A Deferred of ``await work()`` computed for this caller and every other
    caller with the same ``key`` that arrives before that computation starts.

    A computation starts one reactor turn after its first caller (so callers
    arriving together share it: ``clock.callLater(0, ...)``) and never while another one for the key runs:
    callers arriving meanwhile wait for the next one. Hence every answer comes
    from a computation that started after its caller arrived -- the same
    answer the caller would get alone, at some instant while it waits.
    Cancelling a caller only stops it waiting; the result object is shared
    (callers must not mutate it)."""
    b = batches.get(key)
    if b is None:
        b = batches[key] = _Batches()
    mine = _waiter(b.waiting)
    if b.work is None:
        b.work = work
        if b.running is None:
            clock.callLater(0, _start_batch, batches, key, b)
    return mine


def _start_batch(batches: dict, key: Hashable, b: _Batches) -> None:
    if b.running is not None:  # started already; done() starts the next one
        return
    work, b.work = b.work, None
    running, b.waiting = b.waiting, []
    if not running or work is None:  # every caller gave up
        if batches.get(key) is b:
            del batches[key]
        return
    b.running = running

    def done(result: Any) -> None:
        b.running = None
        if b.work is not None:  # callers arrived meanwhile: their turn
            _start_batch(batches, key, b)
        elif batches.get(key) is b:
            del batches[key]
        _fire(running, result)
        if isinstance(result, Failure) and not result.check(Exception):
            log.debug("history computation ended: %s", result.getErrorMessage())

    Deferred.fromCoroutine(work()).addBoth(done)


__all__ = ["single_flight", "coalesce"]
