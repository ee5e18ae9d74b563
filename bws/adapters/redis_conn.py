"""One Redis connection recipe for the Redis lock, the Redis broker and the rate limiter.

``redis.url`` (``redis://[user:password@]host[:port][/db]``) becomes a lazy,
self-reconnecting txredisapi connection.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlparse

import txredisapi


def parse_redis_url(url: str) -> dict[str, Any]:
    """``redis://[user:password@]host[:port][/db]`` -> keyword arguments for txredisapi."""
    u = urlparse(url)
    if u.scheme not in ("redis", ""):
        raise ValueError(f"unsupported Redis URL scheme {u.scheme!r} (use redis://)")
    db = u.path.lstrip("/")
    return {
        "host": u.hostname or "127.0.0.1",
        "port": u.port or 6379,
        "dbid": int(db) if db else None,
        "password": unquote(u.password) if u.password else None,
        "username": unquote(u.username) if u.username else None,
    }


def redis_connection(url: str, max_delay: float = 2.0) -> Any:
    """A lazy, self-reconnecting txredisapi connection (strings stay strings)."""
    kw = parse_redis_url(url)
    conn = txredisapi.lazyConnection(
        kw["host"], kw["port"], dbid=kw["dbid"], password=kw["password"], username=kw["username"],
        reconnect=True, convertNumbers=False,
    )
    conn._factory.initialDelay = 0.2
    conn._factory.maxDelay = max_delay
    return conn
