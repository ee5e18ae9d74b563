"""In-process caches of facts that never change once written.

Every authenticated request starts with the copayer lookup (copayerId ->
walletId, request keys) and the notification poll needs the wallet's network;
each is one database round trip (~0.2 ms of CPU in pymongo, see
bench/profiles/NOTES.md), paid again on every request of every poll.  Both
facts are (nearly) immutable, so a process may keep them:

* a copayer's ``walletId`` never changes (a copayer joins one wallet, the
  reference refuses a second join); its ``requestPubKeys`` only grow (addAccess).
  A cached lookup can therefore only miss a *newer* key: when a signature does
  not verify against the cached keys, the caller re-reads the lookup
  (:meth:`CopayerLookups.get` with ``fresh=True``) before answering 401.  Only
  found lookups are cached, so a copayer created in another process is visible
  at once.  Entries expire after ``ttl`` seconds, which bounds how long an
  operator's manual change (support-staff flag, removed wallet) takes to apply.
* a wallet's network is fixed at creation.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

from cachetools import LRUCache, TTLCache

#: seconds a cached copayer lookup is trusted before it is read again
LOOKUP_TTL = 60.0
#: entries kept per process (a lookup is a few hundred bytes)
LOOKUP_MAXSIZE = 100_000


class CopayerLookups:
    """Copayer lookups read through a TTL cache.

    storage: :class:`bws.storage.Storage` (``fetch_copayer_lookup``);
    ttl: seconds; timer: monotonic seconds (tests move it)."""

    def __init__(
        self,
        storage: Any,
        *,
        ttl: float = LOOKUP_TTL,
        maxsize: int = LOOKUP_MAXSIZE,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.storage = storage
        self._cache: TTLCache = TTLCache(maxsize=maxsize, ttl=ttl, timer=timer)

    async def get(self, copayer_id: str, *, fresh: bool = False) -> Optional[dict]:
        """``{copayerId, walletId, requestPubKeys, isSupportStaff?}`` or None
        (not cached). fresh: bypass the cache (and refresh it)."""
        if not fresh:
            doc = self._cache.get(copayer_id)
            if doc is not None:
                return doc
        doc = await self.storage.fetch_copayer_lookup(copayer_id)
        if doc:
            self._cache[copayer_id] = doc
        else:
            self._cache.pop(copayer_id, None)
        return doc

    def forget(self, copayer_id: str) -> None:
        """Drop one entry (after this process changed the lookup)."""
        self._cache.pop(copayer_id, None)


class WalletNetworks:
    """walletId -> network ("livenet"/"testnet"/...), read once per process."""

    def __init__(self, *, maxsize: int = LOOKUP_MAXSIZE) -> None:
        self._cache: LRUCache = LRUCache(maxsize=maxsize)

    def get(self, wallet_id: str) -> Optional[str]:
        """The network, or None when this process has not seen the wallet."""
        return self._cache.get(wallet_id)

    def remember(self, wallet_id: str, network: str) -> None:
        """Record a wallet's network (read from its stored document)."""
        if wallet_id and network:
            self._cache[wallet_id] = network


__all__ = ["CopayerLookups", "WalletNetworks", "LOOKUP_TTL"]
