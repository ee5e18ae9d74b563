"""Subscriptions repository: push notification subscriptions
(``push_notification_subs``, bws/model/pushnotificationsub.py; one per copayer
and device token) and transaction confirmation subscriptions
(``tx_confirmation_subs``, bws/model/txconfirmationsub.py; one per copayer
and txid, ``confirmedBlock`` *added*: the block that fired it), as
bitcore-wallet-service lib/storage.js; and the v2 push subscriptions of
bitcore-wallet-client 10.x/11.x (``push_subs_v2``, one per copayer and
externalUserId: upstream's Braze fields; a device token given with one is a
``push_notification_subs`` document carrying its ``externalUserId``).
"""

from __future__ import annotations

from typing import Iterable, Optional

from pymongo import ASCENDING

from bws.storage.mongo import Doc, Mongo

V2 = "push_subs_v2"


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

    # -- v2 push subscriptions (bitcore-wallet-client 10.x/11.x, docs/spec/protocol-bwc11.md §3.4) --

    async def fetch_push_subs_v2(self, copayer_id: str) -> list[Doc]:
        """The copayer's v2 subscriptions (``push_subs_v2``), oldest first."""
        return await self._m.find(V2, {"copayerId": copayer_id}, sort=[("_id", ASCENDING)])

    async def store_push_sub_v2(self, sub: Doc, device: Optional[Doc]) -> None:
        """Upsert ``sub`` by (copayerId, externalUserId); the device subscriptions
        registered earlier under that externalUserId are replaced by ``device``
        (a ``push_notification_subs`` document carrying ``externalUserId``) or
        removed when it is None.  One transaction: a crash never leaves the v2
        subscription beside a stale device token."""
        m = self._m
        key = {"copayerId": sub["copayerId"], "externalUserId": sub["externalUserId"]}
        stale: Doc = dict(key)
        if device is not None:
            stale["token"] = {"$ne": device["token"]}

        async def work(session):
            await m.c(V2).replace_one(key, {k: v for k, v in sub.items() if k != "_id"}, upsert=True, session=session)
            await m.c("push_notification_subs").delete_many(stale, session=session)
            if device is not None:
                await m.c("push_notification_subs").replace_one(
                    {"copayerId": device["copayerId"], "token": device["token"]},
                    {k: v for k, v in device.items() if k != "_id"},
                    upsert=True,
                    session=session,
                )

        await m.in_transaction(work)

    async def remove_push_sub_v2(self, copayer_id: str, external_user_id: str) -> int:
        """Delete the (copayer, externalUserId) v2 subscription and the device
        subscriptions registered with it (one transaction); how many v2
        subscriptions were removed."""
        m = self._m
        key = {"copayerId": copayer_id, "externalUserId": external_user_id}
        removed = [0]

        async def work(session):
            await m.c("push_notification_subs").delete_many(key, session=session)
            removed[0] = (await m.c(V2).delete_many(key, session=session)).deleted_count

        await m.in_transaction(work)
        return removed[0]

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
