"""Addresses repository (collection ``addresses``).

An address document has the reference's wire names (bws/model/address.py:
``{version, createdOn, address, walletId, isChange, path, publicKeys, coin,
network, type, hasActivity?, beRegistered?}``) plus ``scriptPubKey`` (hex,
*added*: the block monitors match outputs by script, never by address text).
Addresses are unique per wallet; the same string may exist in several wallets
(one per coin). New addresses are stored together with the wallet whose
address index produced them.
"""

from __future__ import annotations

from typing import Callable, Iterable, Optional

from pymongo import ASCENDING

from bws.storage.compat import coin_of
from bws.storage.mongo import Doc, Mongo, wallet_doc
from bws.storage.notifications import NotificationsRepo


class AddressesRepo:
    def __init__(self, mongo: Mongo, notifications: NotificationsRepo):
        self._m = mongo
        self._notifications = notifications

    # -- one wallet's addresses --------------------------------------------------

    async def fetch(self, wallet_id: str) -> list[Doc]:
        """All addresses of a wallet in creation order."""
        return await self._m.find(
            "addresses", {"walletId": wallet_id}, sort=[("createdOn", ASCENDING), ("_id", ASCENDING)]
        )

    async def fetch_version(self, wallet_id: str) -> Optional[str]:
        """A token that changes whenever addresses are added to the wallet, or
        None (no wallet, or a wallet stored before write tokens existed).

        It is the wallet's write token ``_rev``: every path that inserts
        addresses (:meth:`store_with_wallet`,
        bws/storage/proposals.py ProposalsRepo.store_with_addresses_and_wallet)
        stores the wallet with them and renews it, and so does every other
        wallet write. One indexed single-document read, so callers can keep
        an address list in memory and re-read it only when this changes."""
        m = self._m
        doc = await m.run(m.c("wallets").find_one({"id": wallet_id}, {"_id": False, "_rev": True}))
        rev = (doc or {}).get("_rev")
        return rev if isinstance(rev, str) else None

    async def fetch_keys(self, wallet_id: str) -> list[Doc]:
        """``{address, isChange?}`` of every address of a wallet, in creation
        order like :meth:`fetch` (history needs nothing else).

        Projected, and sorted here rather than by the server: on SecantusDB
        this is ~4x cheaper than :meth:`fetch` for 1,000 addresses."""
        docs = await self._m.find(
            "addresses", {"walletId": wallet_id}, projection={"address": True, "isChange": True, "createdOn": True}
        )

        def order(d: Doc) -> tuple:
            c = d.get("createdOn")
            # the server's sort: missing/null before numbers, then _id (insertion) order
            return (isinstance(c, (int, float)), c if isinstance(c, (int, float)) else 0, d["_id"])

        docs.sort(key=order)
        return [{k: d[k] for k in ("address", "isChange") if k in d} for d in docs]

    async def count(self, wallet_id: str) -> int:
        return await self._m.run(self._m.c("addresses").count_documents({"walletId": wallet_id}))

    async def fetch_one(self, wallet_id: str, address: str) -> Optional[Doc]:
        return await self._m.find_one("addresses", {"walletId": wallet_id, "address": address})

    # -- writes ------------------------------------------------------------------

    async def store(self, address: Doc) -> None:
        """Replace an existing address by (walletId, address); no insert
        (bitcore-wallet-service lib/storage.js storeAddress)."""
        await self._m.replace(
            "addresses", {"walletId": address["walletId"], "address": address["address"]}, address, upsert=False
        )

    async def store_with_wallet(
        self,
        wallet: Doc,
        addresses: list[Doc],
        notifications: Iterable[Doc] = (),
        renew_id: Optional[Callable[[], str]] = None,
    ) -> list[Doc]:
        """Insert new addresses, then store the wallet whose index produced
        them, then insert ``notifications`` (e.g. NewAddress), atomically (see
        bws/storage/notifications.py NotificationsRepo.store_after). Returns
        the stored notifications.

        Addresses already stored for the wallet are skipped (never duplicated).
        """
        m = self._m
        wallet_id = wallet["id"]

        async def work(session):
            for a in addresses:
                await m.c("addresses").update_one(
                    {"walletId": a["walletId"], "address": a["address"]},
                    {"$setOnInsert": {k: v for k, v in a.items() if k != "_id"}},
                    upsert=True,
                    session=session,
                )
            await m.c("wallets").replace_one({"id": wallet_id}, wallet_doc(wallet), upsert=True, session=session)

        return await self._notifications.store_after(work, notifications, renew_id) or []

    # -- any wallet (monitors, the EVM explorers) ----------------------------------

    async def fetch_by_coin(self, coin: str, address: str) -> Optional[Doc]:
        """The address record for this string; when several wallets share it, the one of ``coin``."""
        docs = await self._m.find("addresses", {"address": address})
        if not docs:
            return None
        if len(docs) == 1:
            return docs[0]
        for d in docs:
            if coin_of(d) == coin:
                return d
        return None

    async def fetch_many(self, coin: str, addresses: Iterable[str]) -> list[Doc]:
        """The records of ``coin`` whose address is one of ``addresses``."""
        return await self._m.find("addresses", {"coin": coin, "address": {"$in": list(addresses)}})

    async def fetch_by_scripts(self, scripts: Iterable[str]) -> list[Doc]:
        """Address records whose ``scriptPubKey`` (hex) is in ``scripts`` (monitors)."""
        return await self._m.find("addresses", {"scriptPubKey": {"$in": list(scripts)}})

    async def fetch_scripts(self, since: Optional[int] = None, wallet_ids: Optional[Iterable[str]] = None) -> list[Doc]:
        """``[{scriptPubKey, coin?, network?, isChange?}]`` of the address records that
        have a ``scriptPubKey`` (the BTC monitor's in-memory watch set; only these
        fields are read). All of them by default; with ``since`` (unix s) only those with
        ``createdOn >= since`` (createdOn index); with ``wallet_ids`` only those of
        these wallets (walletId index). ``coin``/``network`` are absent when the
        record has none (callers apply the defaults)."""
        # no ``scriptPubKey: {$exists: true}`` in the query: SecantusDB then scans the
        # whole collection instead of using the createdOn / walletId index
        q: Doc = {}
        if since is not None:
            q["createdOn"] = {"$gte": since}
        if wallet_ids is not None:
            q["walletId"] = {"$in": list(wallet_ids)}
        docs = await self._m.find(
            "addresses", q, projection={"_id": 0, "scriptPubKey": 1, "coin": 1, "network": 1, "isChange": 1}
        )
        return [d for d in docs if d.get("scriptPubKey")]
