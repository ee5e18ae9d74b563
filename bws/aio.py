"""Bridges between asyncio libraries and Twisted code.

Every process runs Twisted on the asyncio reactor (see bws/reactor.py), so
asyncio libraries (pymongo's AsyncMongoClient, httpx, AsyncWeb3) share the
event loop with Twisted. Our own code is ``async def`` driven by Twisted
(``Deferred.fromCoroutine``); it cannot ``await`` an asyncio awaitable
directly, so it awaits ``as_deferred(awaitable)`` instead.  The loop is the
installed reactor's (bws/reactor.py ``reactor_loop``: that module installs it
and is, with bws/runtime.py, the only one that touches the global reactor).
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Coroutine, TypeVar

from twisted.internet.defer import Deferred

from bws.reactor import reactor_loop

T = TypeVar("T")


def as_deferred(awaitable: Awaitable[T]) -> Deferred[T]:
    """Run an asyncio awaitable on the reactor's loop and return a Deferred of its result."""
    return Deferred.fromFuture(asyncio.ensure_future(awaitable, loop=reactor_loop()))


def run_coroutine(coro: Coroutine[Any, Any, T]) -> Deferred[T]:
    """Drive one of our own (Twisted-flavoured) coroutines; returns its Deferred."""
    return Deferred.fromCoroutine(coro)
