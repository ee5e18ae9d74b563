"""Cache repository (collection ``cache``, docs/spec/services.md §7.3).

One document per (walletId, type, key); walletId None for global entries
(e.g. ``ethPriceCache``). Types in use: ``addressesWithBalance`` (the balance
cache), ``historyCache`` (one transaction per integer position, counted from
the oldest) and ``historyCacheStatus`` (key None: ``{totalItems, updatedOn,
isComplete, isUpdated, rev}``), plus the per-coin caches of the services.

The history cache's ``rev`` protects fills from resets (bws/services/history.py
explains the fill): a fill reads the status's rev before asking the explorer
and stores its result only if the rev is unchanged
(:meth:`CacheRepo.store_history_fill`); every soft reset renews the rev
(:meth:`CacheRepo.soft_reset`, the one reset for one wallet, several or all),
so a fill that was already in flight cannot mark the cache fresh again.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

import pymongo
from pymongo import ASCENDING

from bws.storage.mongo import Doc, Mongo, new_rev

_STATUS = "historyCacheStatus"


class CacheRepo:
    def __init__(self, mongo: Mongo):
        self._m = mongo

    # -- generic entries ---------------------------------------------------------

    async def get(self, wallet_id: Optional[str], type_: str, key: Any = None) -> Optional[Doc]:
        return await self._m.find_one("cache", {"walletId": wallet_id, "type": type_, "key": key})

    async def set(self, wallet_id: Optional[str], type_: str, key: Any, fields: Doc) -> None:
        """Upsert ``fields`` ($set) into the cache document (walletId, type, key)."""
        q = {"walletId": wallet_id, "type": type_, "key": key}
        await self._m.run(self._m.c("cache").update_one(q, {"$set": fields}, upsert=True))

    async def delete(self, wallet_id: Optional[str], type_: str, key: Any = ...) -> None:
        """Delete the entries (walletId, type, key); every key of the type when ``key`` is not given."""
        q: Doc = {"walletId": wallet_id, "type": type_}
        if key is not ...:
            q["key"] = key
        await self._m.run(self._m.c("cache").delete_many(q))

    async def get_many(self, wallet_ids: Iterable[str], type_: str, key: Any = None) -> dict[str, Doc]:
        """walletId -> cache document (walletId, type_, key), for those that exist (one query)."""
        docs = await self._m.find("cache", {"walletId": {"$in": list(wallet_ids)}, "type": type_, "key": key})
        return {d["walletId"]: d for d in docs}

    async def set_many(self, type_: str, key: Any, fields_by_wallet: dict[str, Doc]) -> None:
        """:meth:`set` for several wallets in one bulk write."""
        if not fields_by_wallet:
            return
        ops = [
            pymongo.UpdateOne({"walletId": w, "type": type_, "key": key}, {"$set": fields}, upsert=True)
            for w, fields in fields_by_wallet.items()
        ]
        await self._m.run(self._m.c("cache").bulk_write(ops, ordered=False))

    async def fetch_range(self, wallet_id: str, type_: str, key_min: int, key_max: int) -> list[Doc]:
        """Cache docs with integer keys in [key_min, key_max) (history cache positions), by key."""
        q = {"walletId": wallet_id, "type": type_, "key": {"$gte": key_min, "$lt": key_max}}
        return await self._m.find("cache", q, sort=[("key", ASCENDING)])

    # -- the history cache ---------------------------------------------------------

    async def soft_reset(self, *wallet_ids: str, all_wallets: bool = False) -> None:
        """Mark the history caches of ``wallet_ids`` stale (their next read
        misses), in one write; every wallet's with ``all_wallets`` (a new
        block); nothing when neither is given.

        Every reset renews the status's ``rev``, so a fill that read the
        status before the reset does not mark it updated again
        (:meth:`store_history_fill`), and readers can tell a reset happened
        even when the cache was already stale. For the given wallets a missing
        status is created (``isUpdated: false``) for the same reason; the
        reset of all wallets only touches existing ones."""
        change = {"$set": {"isUpdated": False, "rev": new_rev()}}
        cache = self._m.c("cache")
        if all_wallets:
            await self._m.run(cache.update_many({"type": _STATUS}, change))
            return
        if not wallet_ids:
            return
        ids = list(dict.fromkeys(wallet_ids))
        # one update for the statuses that exist (a block's payments touch many wallets:
        # an upsert per wallet cost the monitor ~2x per block), upserts only for the rest
        res = await self._m.run(cache.update_many({"walletId": {"$in": ids}, "type": _STATUS, "key": None}, change))
        if res.matched_count >= len(ids):
            return  # every status existed (the usual case): no need to look for missing ones
        present = {d["walletId"] for d in await self._m.find(
            "cache", {"walletId": {"$in": ids}, "type": _STATUS, "key": None}, projection={"walletId": 1})}
        ops = [
            pymongo.UpdateOne({"walletId": w, "type": _STATUS, "key": None}, change, upsert=True)
            for w in ids
            if w not in present
        ]
        if ops:
            await self._m.run(cache.bulk_write(ops, ordered=False))

    async def init_history_status(self, wallet_id: str) -> Optional[str]:
        """Make sure the wallet has a history-cache status (a new one is
        ``{isUpdated: false, rev}``) and return its ``rev`` (None for a status
        written before revs existed). A fill that found no status calls this
        before asking the explorer, then stores with this rev as expected."""
        rev = new_rev()
        q: Doc = {"walletId": wallet_id, "type": _STATUS, "key": None}
        res = await self._m.run(
            self._m.c("cache").update_one(q, {"$setOnInsert": {"isUpdated": False, "rev": rev}}, upsert=True)
        )
        if res.upserted_id is not None:
            return rev
        doc = await self._m.find_one("cache", q)
        return (doc or {}).get("rev")

    async def store_history_fill(
        self, wallet_id: str, first_position: int, txs: list[Doc], status: Doc, expected_rev: Optional[str]
    ) -> bool:
        """One history-cache fill: ``txs`` at positions first_position,
        first_position+1, ... (one batched write), then ``status`` with a
        fresh ``rev`` -- only if the status still has ``expected_rev`` (the rev
        the fill read before asking the explorer; None = a status without
        rev). False when it changed meanwhile (soft reset, scan, another
        fill): the positions are still written (a position always holds the
        same tx, they count from the oldest), the status is left alone."""
        cache = self._m.c("cache")
        if txs:
            ops = [
                pymongo.UpdateOne(
                    {"walletId": wallet_id, "type": "historyCache", "key": first_position + i},
                    {"$set": {"tx": tx}},
                    upsert=True,
                )
                for i, tx in enumerate(txs)
            ]
            await self._m.run(cache.bulk_write(ops, ordered=True))
        res = await self._m.run(
            cache.update_one(
                {"walletId": wallet_id, "type": _STATUS, "key": None, "rev": expected_rev},
                {"$set": {**status, "rev": new_rev()}},
            )
        )
        return res.matched_count == 1

    async def clear_history(self, wallet_id: str) -> None:
        """Delete the wallet's history cache and its status (a scan starts over)."""
        q = {"walletId": wallet_id, "type": {"$in": ["historyCache", _STATUS]}}
        await self._m.run(self._m.c("cache").delete_many(q))
