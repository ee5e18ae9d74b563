"""Background jobs of the wallet service (two-step balance follow-ups, address
scans — docs/spec/api.md §6.4, §6.15, §10.1).

A job is a coroutine started without being awaited by the request that
spawned it; its failure is logged, never raised.  The :class:`JobTracker` is
built once per process (bws/services/context.py ``State``) so tests (and a
graceful shutdown) can wait for the jobs::

    await service.state.jobs.drain()     # every job spawned so far is done
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from twisted.internet import defer, task
from twisted.internet.interfaces import IReactorTime

log = logging.getLogger(__name__)


class JobTracker:
    """Background jobs run on ``clock`` (``IReactorTime``: ``callLater``),
    tracked until they end."""

    def __init__(self, clock: IReactorTime) -> None:
        self.clock = clock
        self._jobs: set[defer.Deferred] = set()

    def spawn(self, make: Callable[[], Awaitable[Any]], delay: float = 0.0, name: str = "job") -> defer.Deferred:
        """Run ``make()`` in the background after ``delay`` seconds (clock time).
        Returns the job's Deferred (fires with None whatever happens)."""

        async def run() -> None:
            try:
                await make()
            except Exception:
                log.exception("background %s failed", name)

        d = task.deferLater(self.clock, delay, lambda: defer.ensureDeferred(run()))
        self._jobs.add(d)

        def done(result: Any) -> None:
            self._jobs.discard(d)
            return None

        d.addBoth(done)
        return d

    async def drain(self, rounds: int = 20) -> None:
        """Wait until no job is running (jobs that spawn jobs are waited for
        too, up to ``rounds`` generations)."""
        for _ in range(rounds):
            jobs = list(self._jobs)
            if not jobs:
                return
            await defer.DeferredList(jobs, consumeErrors=True)


__all__ = ["JobTracker"]
