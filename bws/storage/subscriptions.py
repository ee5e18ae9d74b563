"""Subscriptions repository: push notification subscriptions
(``push_notification_subs``, bws/model/pushnotificationsub.py; one per copayer
and device token) and transaction confirmation subscriptions
(``tx_confirmation_subs``, bws/model/txconfirmationsub.py; one per copayer
and txid, ``confirmedBlock`` *added*: the block that fired it), as
bitcore-wallet-service lib/storage.js.
"""

from __future__ import annotations

from typing import Iterable, Optional

from pymongo import ASCENDING

from bws.storage.mongo import Doc, Mongo


class SubscriptionsRepo:
    def __init__(self, mongo: Mongo):
        self._m = mongo

    # -- push notification subscriptions ---------------------------------------------

    async def fetch_push_subs(self, copayer_id: str) -> list[Doc]:
        """The copayer's device subscriptions, oldest first."""
        return await self._m.find("push_notification_subs", {"copayerId": copayer_id}, sort=[("_id", ASCENDING)])

    async def store_push_sub(self, sub: Doc) -> None:
        """Upsert by (copayerId, token)."""
        await self._m.replace("push_notification_subs", {"copayerId": sub["copayerId"], "token": sub["token"]}, sub)

    async def remove_push_sub(self, copayer_id: str, token: str) -> int:
        """How many were removed."""
        q = {"copayerId": copayer_id, "token": token}
        return (await self._m.run(self._m.c("push_notification_subs").delete_many(q))).deleted_count

    async def remove_push_token(self, token: str) -> int:
        """Remove a device token from every copayer (the provider said it is unregistered)."""
        return (await self._m.run(self._m.c("push_notification_subs").delete_many({"token": token}))).deleted_count

    # -- transaction confirmation subscriptions ------------------------------------------

    async def fetch_active_confirmation_subs(
        self, copayer_id: Optional[str] = None, txids: Optional[Iterable[str]] = None
    ) -> list[Doc]:
        """Active subscriptions, of one copayer and/or for some txids."""
        q: Doc = {"isActive": True}
        if copayer_id is not None:
            q["copayerId"] = copayer_id
        if txids is not None:
            q["txid"] = {"$in": list(txids)}
        return await self._m.find("tx_confirmation_subs", q)

    async def fetch_confirmation_subs_by_block(self, block_hashes: Iterable[str]) -> list[Doc]:
        """Subscriptions a monitor fired for one of these blocks (``confirmedBlock``; reorg undo)."""
        return await self._m.find("tx_confirmation_subs", {"confirmedBlock": {"$in": list(block_hashes)}})

    async def store_confirmation_sub(self, sub: Doc) -> None:
        """Upsert by (copayerId, txid)."""
        await self._m.replace("tx_confirmation_subs", {"copayerId": sub["copayerId"], "txid": sub["txid"]}, sub)

    async def remove_confirmation_sub(self, copayer_id: str, txid: str) -> int:
        """How many were removed."""
        q = {"copayerId": copayer_id, "txid": txid}
        return (await self._m.run(self._m.c("tx_confirmation_subs").delete_many(q))).deleted_count
