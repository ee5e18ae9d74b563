"""Background jobs of the wallet service (two-step balance follow-ups, address
scans — spec api.md §6.4, §6.15, §10.1).

A job is a coroutine started without being awaited by the request that
spawned it; its failure is logged, never raised.  Jobs are tracked per storage
object so tests (and a graceful shutdown) can wait for them::

    await drain_jobs(service)      # every job spawned through `service` is done
"""

from __future__ import annotations

import logging
import weakref
from typing import Any, Awaitable, Callable

from twisted.internet import defer, task

log = logging.getLogger(__name__)

_JOBS: "weakref.WeakKeyDictionary[Any, set]" = weakref.WeakKeyDictionary()


def _jobs_of(owner: Any) -> set:
    try:
        return _JOBS.setdefault(owner, set())
    except TypeError:  # not weak-referenceable: untracked
        return set()


def spawn(owner: Any, make: Callable[[], Awaitable[Any]], delay: float = 0.0, name: str = "job") -> defer.Deferred:
    """Run ``make()`` in the background after ``delay`` seconds (reactor time).

    owner: the object jobs are tracked by (the service's storage).  Returns the
    job's Deferred (fires with None whatever happens)."""
    from twisted.internet import reactor

    async def run() -> None:
        try:
            await make()
        except Exception:
            log.exception("background %s failed", name)

    d = task.deferLater(reactor, delay, lambda: defer.ensureDeferred(run()))
    jobs = _jobs_of(owner)
    jobs.add(d)

    def done(result: Any) -> None:
        jobs.discard(d)
        return None

    d.addBoth(done)
    return d


async def drain_jobs(service: Any, rounds: int = 20) -> None:
    """Wait until no background job spawned for ``service.storage`` is running
    (jobs that spawn jobs are waited for too, up to ``rounds`` generations)."""
    for _ in range(rounds):
        jobs = list(_jobs_of(service.storage))
        if not jobs:
            return
        await defer.DeferredList(jobs, consumeErrors=True)


__all__ = ["spawn", "drain_jobs"]
