"""Readiness checks behind ``GET /bws/api/v1/health`` (bws/http/routes/ops.py).

:func:`check_health` runs every check concurrently, each with its own timeout
(:data:`CHECK_TIMEOUT`, 2 s), and returns ``(ok, checks)`` where ``checks`` maps a
name to ``{"ok": bool, "ms": int, ...details}`` (failed: ``"error": str``). A
check that does not answer in time fails as ``"no answer in 2s"`` at once, even
if its work does not stop when cancelled (pymongo finishes a cancelled server
selection only when that ends), so health answers within the timeout whatever
hangs (docs/security.md §8, Finding 11):

* ``database`` — a ``ping`` command round trip to MongoDB/SecantusDB;
* ``broker``   — the broker client is connected (``connected`` property; an
  in-process broker always is);
* ``lock``     — a probe token (unique per process) is acquired and released at
  once, waiting at most ``LOCK_PROBE_WAIT`` s (proves the locker/Redis answers);
* ``node:<coin>:<network>`` — every configured explorer answers its chain height.

Nothing here changes state except the short-lived probe lock.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Awaitable, Callable

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime

#: Seconds one check may take before it counts as failed (probes time out at a few seconds).
CHECK_TIMEOUT = 2.0
#: Seconds the lock probe waits for its (otherwise unused) token (< CHECK_TIMEOUT, so a
#: busy lock reports "not granted" rather than "no answer").
LOCK_PROBE_WAIT = 1.5
LOCK_PROBE_TOKEN = f"bws-health-probe-{os.getpid()}"


async def check_database(storage: Any) -> dict:
    await storage.ping()
    return {}


async def check_broker(broker: Any) -> dict:
    if broker is None:
        return {"ok": False, "error": "no broker configured"}
    connected = getattr(broker, "connected", True)
    if not connected:
        return {"ok": False, "error": "not connected"}
    return {}


async def check_lock(lock: Any) -> dict:
    release = await lock.acquire(LOCK_PROBE_TOKEN, LOCK_PROBE_WAIT, 5.0)
    release()
    return {}


async def check_node(explorer: Any) -> dict:
    return {"height": await explorer.get_blockchain_height()}


async def _outcome(check: Callable[[], Awaitable[dict]]) -> dict:
    """The check's result as ``{"ok", ...}``; never raises."""
    try:
        return {"ok": True, **((await check()) or {})}
    except (Exception, asyncio.CancelledError) as e:  # noqa: BLE001 - any failure is a failed check
        # asyncio.CancelledError is a BaseException: a cancelled pymongo call ends with it
        name = type(e).__name__
        msg = str(e) or name
        if name == "LockTimeout":
            msg = f"lock not granted in {LOCK_PROBE_WAIT:g}s"
        return {"ok": False, "error": msg[:200]}


async def _run(check: Callable[[], Awaitable[dict]], timeout: float, clock: Any) -> dict:
    started = clock.seconds()
    first: defer.Deferred = defer.Deferred()

    def settle(result: dict) -> None:
        if not first.called:
            first.callback(result)

    work = defer.ensureDeferred(_outcome(check))
    work.addCallback(settle)
    timer = clock.callLater(timeout, settle, {"ok": False, "error": f"no answer in {timeout:g}s"})
    out = await first
    if timer.active():
        timer.cancel()
    if not work.called:
        # Best effort: the answer is already given; the work's late end is dropped by settle.
        work.cancel()
    out["ms"] = round((clock.seconds() - started) * 1000)
    return out


async def check_health(
    service: Any, timeout: float = CHECK_TIMEOUT, *, clock: IReactorTime
) -> tuple[bool, dict[str, dict]]:
    """Run every readiness check of ``service`` (:class:`bws.services.Services`) concurrently,
    each failed after ``timeout`` s; ``(all ok, checks)``. clock: the reactor
    (``service.clock`` in the API), which times the checks out and measures ``ms``."""
    checks: dict[str, Callable[[], Awaitable[dict]]] = {
        "database": lambda: check_database(service.storage),
        "broker": lambda: check_broker(service.broker),
        "lock": lambda: check_lock(service.lock),
    }
    for (coin, network), explorer in sorted((service.explorers or {}).items()):
        if hasattr(explorer, "get_blockchain_height"):
            checks[f"node:{coin}:{network}"] = (lambda e=explorer: check_node(e))
    names = list(checks)
    results = await defer.gatherResults([defer.ensureDeferred(_run(checks[n], timeout, clock)) for n in names])
    out = dict(zip(names, results))
    return all(r["ok"] for r in out.values()), out
