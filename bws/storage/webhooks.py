"""Webhook registrations repository (collection ``webhooks``, *added*; their
deliveries are outbox rows in ``webhook_deliveries``, bws/storage/outbox.py).

A registration is ``{id, walletId, copayerId, url, secret, createdOn, ...}``
(bws/service/webhooks.py), one per (wallet, copayer).
"""

from __future__ import annotations

from typing import Optional

from pymongo import ASCENDING, DESCENDING

from bws.storage.mongo import Doc, Mongo


class WebhooksRepo:
    def __init__(self, mongo: Mongo):
        self._m = mongo

    async def store(self, hook: Doc) -> None:
        """Upsert the (walletId, copayerId) registration."""
        await self._m.replace("webhooks", {"walletId": hook["walletId"], "copayerId": hook["copayerId"]}, hook)

    async def fetch_for_wallet(self, wallet_id: str, copayer_id: Optional[str] = None) -> list[Doc]:
        """The wallet's registrations (one copayer's with ``copayer_id``), oldest first."""
        q: Doc = {"walletId": wallet_id}
        if copayer_id is not None:
            q["copayerId"] = copayer_id
        return await self._m.find("webhooks", q, sort=[("createdOn", ASCENDING), ("id", ASCENDING)])

    async def fetch(self, webhook_id: str) -> Optional[Doc]:
        return await self._m.find_one("webhooks", {"id": webhook_id})

    async def remove(self, wallet_id: str, copayer_id: str, webhook_id: str) -> int:
        """Delete the copayer's registration ``webhook_id``; how many were deleted (0 or 1)."""
        q = {"walletId": wallet_id, "copayerId": copayer_id, "id": webhook_id}
        r = await self._m.run(self._m.c("webhooks").delete_many(q))
        return r.deleted_count

    async def fetch_deliveries(self, webhook_id: str, limit: int = 50) -> list[Doc]:
        """The registration's delivery rows, newest first."""
        return await self._m.find(
            "webhook_deliveries",
            {"webhookId": webhook_id},
            sort=[("createdOn", DESCENDING), ("id", DESCENDING)],
            limit=limit,
        )
