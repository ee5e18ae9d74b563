"""Fiat rates repository (collection ``fiat_rates``; docs/spec/services.md §6).

History: one document ``{provider, coin, code, ts, value}`` per provider, coin,
currency code and fetch (``ts``: epoch ms of the fetch; ``value``: fiat per 1
coin). Rates are only inserted, never overwritten.
"""

from __future__ import annotations

from typing import Iterable, Optional

from pymongo import DESCENDING

from bws.storage.mongo import Doc, Mongo


class FiatRepo:
    def __init__(self, mongo: Mongo):
        self._m = mongo

    async def store_rates(self, provider: str, coin: str, rates: Iterable[Doc], ts: int) -> int:
        """Insert one document per rate; returns how many.

        rates: ``[{code: str, value: float}]``; ts: int, epoch ms of the fetch."""
        docs = [{"provider": provider, "coin": coin, "code": r["code"], "ts": ts, "value": r["value"]} for r in rates]
        if not docs:
            return 0
        await self._m.run(self._m.c("fiat_rates").insert_many(docs, ordered=False))
        return len(docs)

    async def fetch_rate(self, provider: str, code: str, ts: int, coin: str = "btc") -> Optional[Doc]:
        """Newest ``{provider, coin, code, ts, value}`` with ``ts`` <= the given ts (epoch ms), or None."""
        return await self._m.find_one(
            "fiat_rates",
            {"provider": provider, "coin": coin, "code": code, "ts": {"$lte": ts}},
            sort=[("ts", DESCENDING)],
        )

    async def stored_keys(self, provider: str) -> tuple[list[str], list[str]]:
        """``(coins, codes)``: every coin and every currency code ``provider``
        has stored at least once, each sorted."""
        coll = self._m.c("fiat_rates")
        coins = await self._m.run(coll.distinct("coin", {"provider": provider}))
        codes = await self._m.run(coll.distinct("code", {"provider": provider}))
        return sorted(coins), sorted(codes)

    async def rates_between(
        self,
        provider: str,
        min_ts: int,
        max_ts: Optional[int] = None,
        *,
        coin: Optional[str] = None,
        code: Optional[str] = None,
    ) -> list[Doc]:
        """``[{provider, coin, code, ts, value}]`` with ``min_ts <= ts`` (and ``ts <= max_ts``
        when given; epoch ms), narrowed to ``coin`` / ``code`` when given; newest first."""
        query: Doc = {"provider": provider, "ts": {"$gte": min_ts}}
        if max_ts is not None:
            query["ts"]["$lte"] = max_ts
        if coin is not None:
            query["coin"] = coin
        if code is not None:
            query["code"] = code
        return await self._m.find("fiat_rates", query, sort=[("ts", DESCENDING)])
