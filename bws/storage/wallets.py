"""Wallets repository (collections ``wallets`` and ``copayers_lookup``).

A wallet document has the reference's wire names (bws/model/wallet.py) plus
``_rev``, a write token every wallet write renews and that never leaves
bws/storage/ (bws/storage/addresses.py AddressesRepo.fetch_version uses it).
A copayer lookup is ``{copayerId, walletId, requestPubKeys:[{key,
signature, ...}], isSupportStaff?}``: how a request's copayer id finds its
wallet (bitcore-wallet-service lib/storage.js fetchCopayerLookup).
"""

from __future__ import annotations

from typing import Callable, Iterable, Optional

from bws.storage.compat import upgrade_lookup
from bws.storage.mongo import Doc, Mongo, wallet_doc
from bws.storage.notifications import NotificationsRepo


class WalletsRepo:
    def __init__(self, mongo: Mongo, notifications: NotificationsRepo):
        self._m = mongo
        self._notifications = notifications

    async def fetch(self, wallet_id: str) -> Optional[Doc]:
        """The stored wallet dict (wire names) or None."""
        doc = await self._m.find_one("wallets", {"id": wallet_id})
        if doc:
            doc.pop("_rev", None)
        return doc

    async def store(self, wallet: Doc) -> None:
        """Replace-upsert the whole wallet by ``id`` (renews its ``_rev`` write token)."""
        doc = wallet_doc(wallet)
        await self._m.run(self._m.c("wallets").replace_one({"id": doc["id"]}, doc, upsert=True))

    async def store_with_lookups(
        self, wallet: Doc, notifications: Iterable[Doc] = (), renew_id: Optional[Callable[[], str]] = None
    ) -> list[Doc]:
        """Store the wallet, rebuild its copayer lookups and insert
        ``notifications`` (in order) in one step: one transaction when the
        server has them, otherwise lookups, wallet, then notifications.

        Lookup docs: ``{copayerId, walletId, requestPubKeys}``; support-staff
        flags already present on a lookup are kept. Returns the stored
        notifications (ids renewed after a collision, see
        bws/storage/notifications.py NotificationsRepo.store_after); other
        duplicate keys (a copayer id registered in another wallet) raise
        pymongo's DuplicateKeyError."""
        m = self._m
        wallet_id = wallet["id"]
        staff = {
            d["copayerId"]
            for d in await m.find("copayers_lookup", {"walletId": wallet_id, "isSupportStaff": True})
        }
        lookups = []
        for c in wallet.get("copayers", []):
            doc = {"copayerId": c["id"], "walletId": wallet_id, "requestPubKeys": c.get("requestPubKeys", [])}
            if c["id"] in staff:
                doc["isSupportStaff"] = True
            lookups.append(doc)

        async def write(session):
            await m.c("copayers_lookup").delete_many({"walletId": wallet_id}, session=session)
            if lookups:
                await m.c("copayers_lookup").insert_many([dict(d) for d in lookups], session=session)
            await m.c("wallets").replace_one({"id": wallet_id}, wallet_doc(wallet), upsert=True, session=session)

        return await self._notifications.store_after(write, notifications, renew_id) or []

    async def fetch_copayer_lookup(self, copayer_id: str) -> Optional[Doc]:
        """``{copayerId, walletId, requestPubKeys:[{key, signature, ...}], isSupportStaff?}`` or None
        (legacy lookups upgraded on read, bws/storage/compat.py)."""
        return upgrade_lookup(await self._m.find_one("copayers_lookup", {"copayerId": copayer_id}))

    async def fetch_scanning_ids(self) -> list[str]:
        """Ids of the wallets whose ``scanStatus`` is ``"running"`` (scanStatus index; the BTC monitor)."""
        docs = await self._m.find("wallets", {"scanStatus": "running"}, projection={"_id": 0, "id": 1})
        return [d["id"] for d in docs if "id" in d]
