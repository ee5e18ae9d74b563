"""Install Twisted's asyncio reactor before anything imports the default one.

Every entry point (``python -m bws``, ``python -m locker``, ...) calls
:func:`install` first, so asyncio libraries (pymongo's AsyncMongoClient, httpx,
AsyncWeb3) and Twisted share one event loop. Tests get the same reactor from
pytest-twisted's ``--reactor=asyncio`` (set in pyproject.toml).
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

#: The recursion limit every process runs with.  Some imports raise it for
#: their own needs (py_ecc, pulled in by eth_account, sets 100,000); C code that
#: recurses (the json parser, repr, deepcopy) is bounded only by this limit, so
#: a limit far above what the 8 MiB C stack holds turns deep input into a
#: segfault instead of a RecursionError.
RECURSION_LIMIT = 2000

#: Imported before the limit is set, so their import-time changes are undone.
_LIMIT_RAISERS = ("py_ecc",)


def pin_recursion_limit() -> None:
    """Import the known limit-raising libraries, then set RECURSION_LIMIT.

    Called by install() and again when the reactor starts running (after the
    process's own imports); logs a warning when something had raised it."""
    for name in _LIMIT_RAISERS:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    current = sys.getrecursionlimit()
    if current != RECURSION_LIMIT:
        if current > RECURSION_LIMIT:
            logging.getLogger("bws.reactor").debug("recursion limit %d lowered to %d", current, RECURSION_LIMIT)
        sys.setrecursionlimit(RECURSION_LIMIT)


def install() -> None:
    """Install the asyncio reactor (a no-op if it is already the installed one)
    and pin the recursion limit, now and once the reactor runs."""
    pin_recursion_limit()
    if "twisted.internet.reactor" in sys.modules:
        from twisted.internet import reactor

        if type(reactor).__name__ != "AsyncioSelectorReactor":
            raise RuntimeError(
                f"the {type(reactor).__name__} reactor was installed before bws.reactor.install(); "
                "call install() before importing twisted.internet.reactor"
            )
        return
    import asyncio

    from twisted.internet import asyncioreactor

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    asyncioreactor.install(loop)
    from twisted.internet import reactor as installed

    installed.callWhenRunning(pin_recursion_limit)


def reactor_loop() -> "asyncio.AbstractEventLoop":
    """The asyncio loop the installed Twisted reactor runs on (bws/aio.py runs
    asyncio libraries' awaitables on it). RuntimeError when another reactor
    is installed."""
    from twisted.internet import reactor

    loop = getattr(reactor, "_asyncioEventloop", None)
    if loop is None:
        raise RuntimeError("the asyncio reactor is not installed: call bws.reactor.install() first")
    return loop
