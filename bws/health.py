"""Readiness checks behind ``GET /bws/api/v1/health`` (bws/api_ops.py).

:func:`check_health` runs every check concurrently, each with its own timeout, and
returns ``(ok, checks)`` where ``checks`` maps a name to ``{"ok": bool, ...details}``:

* ``database`` — a ``ping`` command round trip to MongoDB/SecantusDB;
* ``broker``   — the broker client is connected (``connected`` property; an
  in-process broker always is);
* ``lock``     — a probe token (unique per process) is acquired and released at
  once, waiting at most ``LOCK_PROBE_WAIT`` s (proves the locker/Redis answers);
* ``node:<coin>:<network>`` — every configured explorer answers its chain height.

Nothing here changes state except the short-lived probe lock.
"""

from __future__ import annotations

import os
import time
from typing import Any, Awaitable, Callable

from twisted.internet import defer

#: Seconds one check may take before it counts as failed.
CHECK_TIMEOUT = 3.0
#: Seconds the lock probe waits for its (otherwise unused) token.
LOCK_PROBE_WAIT = 2.0
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


async def _run(check: Callable[[], Awaitable[dict]], timeout: float) -> dict:
    from twisted.internet import reactor

    started = time.monotonic()
    try:
        d = defer.ensureDeferred(check())
        d.addTimeout(timeout, reactor)
        details = await d
        out = {"ok": True, **(details or {})}
    except defer.TimeoutError:
        out = {"ok": False, "error": f"no answer in {timeout:g}s"}
    except Exception as e:  # noqa: BLE001 - any failure is a failed check
        name = type(e).__name__
        msg = str(e) or name
        if name == "LockTimeout":
            msg = f"lock not granted in {LOCK_PROBE_WAIT:g}s"
        out = {"ok": False, "error": msg[:200]}
    out["ms"] = round((time.monotonic() - started) * 1000)
    return out


async def check_health(service: Any, timeout: float = CHECK_TIMEOUT) -> tuple[bool, dict[str, dict]]:
    """Run every readiness check of ``service`` (a WalletService); ``(all ok, checks)``."""
    checks: dict[str, Callable[[], Awaitable[dict]]] = {
        "database": lambda: check_database(service.storage),
        "broker": lambda: check_broker(service.broker),
        "lock": lambda: check_lock(service.lock),
    }
    for (coin, network), explorer in sorted((service.explorers or {}).items()):
        if hasattr(explorer, "get_blockchain_height"):
            checks[f"node:{coin}:{network}"] = (lambda e=explorer: check_node(e))
    names = list(checks)
    results = await defer.gatherResults([defer.ensureDeferred(_run(checks[n], timeout)) for n in names])
    out = dict(zip(names, results))
    return all(r["ok"] for r in out.values()), out
