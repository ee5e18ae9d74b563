"""The history area's per-process state (bws/services/history.py): the
block-height cache, the wallets' in-memory address sets (re-read when the
wallet's write token changes or after ``ADDRESS_SET_TTL`` seconds) and the
computations in flight.  Built once per process as part of
bws/services/context.py ``State``, never module-level (issue 16 "No hidden
global state")."""

from __future__ import annotations

from typing import Any, Hashable, Optional

from twisted.internet.defer import Deferred

from bws.chains.history import index_addresses

#: seconds an in-memory address set is trusted even if the wallet's token did not change
ADDRESS_SET_TTL = 60.0
#: addresses kept in memory per process, all wallets together (least recently used dropped)
ADDRESS_SET_MAX_ADDRESSES = 200_000


class AddressSet:
    """One wallet's ``[{address, isChange?}]`` in creation order, its index
    (:func:`index_addresses`) and the wallet token it was read under."""

    __slots__ = ("version", "addresses", "indexed", "strings", "loaded_at")

    def __init__(self, version: Optional[str], addresses: list[dict], loaded_at: float):
        self.version = version
        self.addresses = addresses
        self.indexed = index_addresses(addresses)
        self.strings = [a["address"] for a in addresses]
        self.loaded_at = loaded_at


class HistoryState:
    """The history area's per-process state, built once at start-up
    (bws/services/context.py ``State``): the block-height cache
    ``(coin, network) -> (fetched at unix s, height)`` (docs/spec/api.md
    docs/spec/api.md §6.21), the wallets' address sets, and the loads and page computations
    in flight (bws/services/concurrency.py)."""

    def __init__(self) -> None:
        self.heights: dict[tuple[str, str], tuple[float, int]] = {}
        self.address_sets: dict[str, AddressSet] = {}  # insertion order = LRU order
        self.address_count = 0
        self.flights: dict[Hashable, list[Deferred]] = {}
        self.batches: dict[Hashable, Any] = {}  # concurrency.coalesce's

    def remember(self, wallet_id: str, s: AddressSet) -> None:
        old = self.address_sets.pop(wallet_id, None)
        if old is not None:
            self.address_count -= len(old.addresses)
        self.address_sets[wallet_id] = s
        self.address_count += len(s.addresses)
        while self.address_count > ADDRESS_SET_MAX_ADDRESSES and len(self.address_sets) > 1:
            oldest = next(iter(self.address_sets))
            self.address_count -= len(self.address_sets.pop(oldest).addresses)

    def forget_address_sets(self) -> None:
        """Drop the in-memory address sets (tests and tools)."""
        self.address_sets.clear()
        self.address_count = 0


__all__ = ["ADDRESS_SET_TTL", "ADDRESS_SET_MAX_ADDRESSES", "AddressSet", "HistoryState"]
