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
* a wallet's network is fixed at creation; once it is complete, so are its
  derivation strategy and copayer names, which decorate every proposal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from cachetools import LRUCache, TTLCache

#: seconds a cached copayer lookup is trusted before it is read again
LOOKUP_TTL = 60.0
#: entries kept per process (a lookup is a few hundred bytes)
LOOKUP_MAXSIZE = 100_000


class CopayerLookups:
    """Copayer lookups read through a TTL cache.

    storage: :class:`bws.storage.Storage` (``storage.wallets.fetch_copayer_lookup``);
    ttl: seconds; timer: the process clock's seconds (``IReactorTime.seconds``,
    given by :meth:`bws.services.context.State.build`; tests move it)."""

    def __init__(
        self,
        storage: Any,
        *,
        ttl: float = LOOKUP_TTL,
        maxsize: int = LOOKUP_MAXSIZE,
        timer: Callable[[], float],
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
        doc = await self.storage.wallets.fetch_copayer_lookup(copayer_id)
        if doc:
            self._cache[copayer_id] = doc
        else:
            self._cache.pop(copayer_id, None)
        return doc

    def forget(self, copayer_id: str) -> None:
        """Drop one entry (after this process changed the lookup)."""
        self._cache.pop(copayer_id, None)


@dataclass(frozen=True)
class WalletFacts:
    """What never changes about a wallet once it is complete: its network,
    derivation strategy and copayer names (copayers cannot leave or be
    renamed).  network: "livenet" | "testnet" | ...; copayer_names:
    copayerId -> name."""

    id: str
    network: str
    derivation_strategy: str
    copayer_names: Mapping[str, str]
    complete: bool

    @classmethod
    def of(cls, wallet: Any) -> "WalletFacts":
        """From a :class:`bws.model.Wallet`."""
        return cls(
            wallet.id,
            wallet.network,
            wallet.derivation_strategy,
            {c.id: c.name for c in wallet.copayers},
            bool(wallet.is_complete()),
        )


class WalletFactsCache:
    """walletId -> :class:`WalletFacts`, per process.  Any wallet's network is
    fixed at creation; the other facts are only trusted from a complete
    wallet (:meth:`get` with ``complete=True``)."""

    def __init__(self, *, maxsize: int = LOOKUP_MAXSIZE) -> None:
        self._cache: LRUCache = LRUCache(maxsize=maxsize)

    def get(self, wallet_id: str, *, complete: bool = False) -> Optional[WalletFacts]:
        """The facts, or None when unknown here (or, with ``complete``, not
        yet seen complete: the caller reads the wallet and calls :meth:`remember`)."""
        facts = self._cache.get(wallet_id)
        if facts is None or (complete and not facts.complete):
            return None
        return facts

    def remember(self, wallet: Any) -> WalletFacts:
        """Record the facts of a wallet just read from storage; returns them."""
        facts = WalletFacts.of(wallet)
        self._cache[wallet.id] = facts
        return facts


__all__ = ["CopayerLookups", "WalletFacts", "WalletFactsCache", "LOOKUP_TTL"]
