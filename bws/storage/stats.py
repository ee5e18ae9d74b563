"""Stats repository: the reads of GET /v1/stats (docs/spec/api.md §4.28) over
``wallets`` and ``txs``. Documents stored without a ``coin`` count as btc
(bws/storage/compat.py)."""

from __future__ import annotations

from pymongo import ASCENDING

from bws.storage.compat import coin_filter
from bws.storage.mongo import Doc, Mongo


class StatsRepo:
    def __init__(self, mongo: Mongo):
        self._m = mongo

    async def fetch_wallets(self, coin: str, network: str, from_ts: int, to_ts: int) -> list[Doc]:
        """Wallets of coin/network created in [from_ts, to_ts] (unix s), oldest first."""
        return await self._m.find(
            "wallets",
            {"network": network, "coin": coin_filter(coin), "createdOn": {"$gte": from_ts, "$lte": to_ts}},
            sort=[("createdOn", ASCENDING)],
        )

    async def fetch_txps(self, coin: str, network: str, from_ts: int, to_ts: int) -> list[Doc]:
        """Broadcast proposals of coin/network with ``broadcastedOn`` in [from_ts, to_ts] (unix s)."""
        q = {"network": network, "coin": coin_filter(coin), "status": "broadcasted",
             "broadcastedOn": {"$gte": from_ts, "$lte": to_ts}}
        return await self._m.find("txs", q, sort=[("broadcastedOn", ASCENDING)])
