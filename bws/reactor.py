"""Install Twisted's asyncio reactor before anything imports the default one.

Every entry point (``python -m bws``, ``python -m locker``, ...) calls
:func:`install` first, so asyncio libraries (pymongo's AsyncMongoClient, httpx,
AsyncWeb3) and Twisted share one event loop. Tests get the same reactor from
pytest-twisted's ``--reactor=asyncio`` (set in pyproject.toml).
"""

from __future__ import annotations

import sys


def install() -> None:
    """Install the asyncio reactor; a no-op if it is already the installed one."""
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
