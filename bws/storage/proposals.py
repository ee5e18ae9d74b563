"""Transaction proposals repository (collection ``txs``).

A proposal document has the reference's wire names (bws/model/txproposal.py)
and must carry ``isPending`` (true while pending or accepted, the key of the
pending index, as bitcore-wallet-service lib/storage.js storeTx). Writes that
change a proposal's state and announce it store the notifications in the same
step (bws/storage/notifications.py NotificationsRepo.store_after).
"""

from __future__ import annotations

from typing import Callable, Iterable, Optional

from pymongo import DESCENDING

from bws.storage.mongo import Doc, Mongo, ts_range, wallet_doc
from bws.storage.notifications import NotificationsRepo


class ProposalsRepo:
    def __init__(self, mongo: Mongo, notifications: NotificationsRepo):
        self._m = mongo
        self._notifications = notifications

    # -- reads -------------------------------------------------------------------

    async def fetch(self, wallet_id: str, txp_id: str) -> Optional[Doc]:
        return await self._m.find_one("txs", {"walletId": wallet_id, "id": txp_id})

    async def fetch_by_txid(self, txid: str) -> Optional[Doc]:
        """The proposal (any wallet) whose broadcast transaction id is ``txid``."""
        return await self._m.find_one("txs", {"txid": txid})

    async def fetch_last(self, wallet_id: str, creator_id: str, limit: int = 5) -> list[Doc]:
        """The creator's newest proposals, newest first (the create back-off)."""
        return await self._m.find(
            "txs", {"walletId": wallet_id, "creatorId": creator_id}, sort=[("createdOn", DESCENDING)], limit=limit
        )

    async def fetch_pending(self, wallet_id: str) -> list[Doc]:
        """Pending and accepted proposals, newest first."""
        return await self._m.find("txs", {"walletId": wallet_id, "isPending": True}, sort=[("createdOn", DESCENDING)])

    async def fetch_broadcasted(
        self, wallet_id: str, min_ts: Optional[int] = None, max_ts: Optional[int] = None, limit: int = 0
    ) -> list[Doc]:
        """Broadcast proposals with ``broadcastedOn`` in [min_ts, max_ts] (unix s), newest created first."""
        q: Doc = {"walletId": wallet_id, "status": "broadcasted"}
        q.update(ts_range("broadcastedOn", min_ts, max_ts))
        return await self._m.find("txs", q, sort=[("createdOn", DESCENDING)], limit=limit)

    async def fetch_accepted(self) -> list[Doc]:
        """Every proposal (any wallet) with ``status == "accepted"`` (signed, not yet
        known broadcast; status index): a block monitor intersects their txids with
        a block's instead of one :meth:`fetch_by_txid` per transaction."""
        return await self._m.find("txs", {"status": "accepted"})

    async def fetch_by_txids(
        self, wallet_id: str, txids: Iterable[str], min_ts: Optional[int] = None, max_ts: Optional[int] = None
    ) -> list[Doc]:
        """The proposals a history page merges: those with ``txid`` in ``txids``
        and ``createdOn`` in [min_ts, max_ts] (unix s), newest first."""
        q: Doc = {"walletId": wallet_id, "txid": {"$in": list(txids)}}
        q.update(ts_range("createdOn", min_ts, max_ts))
        return await self._m.find("txs", q, sort=[("createdOn", DESCENDING)])

    # -- writes ------------------------------------------------------------------

    async def store(self, txp: Doc) -> None:
        """Replace-upsert a proposal by (walletId, id)."""
        await self._m.replace("txs", {"walletId": txp["walletId"], "id": txp["id"]}, txp)

    async def remove(self, wallet_id: str, txp_id: str) -> bool:
        """Delete one proposal; False when it was not there."""
        result = await self._m.run(self._m.c("txs").delete_one({"walletId": wallet_id, "id": txp_id}))
        return result.deleted_count == 1

    async def store_with_notifications(
        self,
        txp: Doc,
        notifications: Iterable[Doc],
        renew_id: Optional[Callable[[], str]] = None,
        *,
        expect: Optional[Doc] = None,
    ) -> Optional[list[Doc]]:
        """Replace-upsert a proposal and insert the notifications announcing
        its new state (in order), atomically (one transaction when the server
        has them; otherwise the proposal first). Returns the stored
        notifications (ids renewed after a collision).

        expect: conditions on the stored proposal, e.g. ``{"status": "accepted"}``
        (marking it broadcast): the proposal is then only replaced if it still
        matches, never inserted; when it no longer does (a concurrent request
        or a block monitor already made the change) nothing is written and
        None is returned, so the change is announced once."""
        m = self._m
        tdoc = {k: v for k, v in txp.items() if k != "_id"}
        key = {"walletId": tdoc["walletId"], "id": tdoc["id"]}

        async def write(session) -> bool:
            if expect is None:
                await m.c("txs").replace_one(key, tdoc, upsert=True, session=session)
                return True
            r = await m.c("txs").replace_one({**key, **expect}, tdoc, session=session)
            return r.matched_count == 1

        return await self._notifications.store_after(write, notifications, renew_id)

    async def remove_with_notifications(
        self, wallet_id: str, txp_id: str, notifications: Iterable[Doc], renew_id: Optional[Callable[[], str]] = None
    ) -> Optional[list[Doc]]:
        """Delete a proposal and insert the notifications announcing it, atomically
        (as :meth:`store_with_notifications`). None, and nothing written, when
        the proposal was already gone."""
        m = self._m

        async def write(session) -> bool:
            r = await m.c("txs").delete_one({"walletId": wallet_id, "id": txp_id}, session=session)
            return r.deleted_count == 1

        return await self._notifications.store_after(write, notifications, renew_id)

    async def store_with_addresses_and_wallet(self, txp: Doc, wallet: Optional[Doc], addresses: list[Doc]) -> None:
        """Store a new proposal together with the change address(es) it uses and
        the wallet whose change index produced them, atomically (one
        transaction when the server has them; otherwise addresses, wallet, then
        the proposal last, so a crash leaves at most an unused address).

        wallet None / addresses [] store only the proposal. Addresses already
        stored for the wallet are not duplicated."""
        m = self._m

        async def work(session):
            for a in addresses:
                await m.c("addresses").update_one(
                    {"walletId": a["walletId"], "address": a["address"]},
                    {"$setOnInsert": {k: v for k, v in a.items() if k != "_id"}},
                    upsert=True,
                    session=session,
                )
            if wallet is not None:
                doc = wallet_doc(wallet)
                await m.c("wallets").replace_one({"id": doc["id"]}, doc, upsert=True, session=session)
            tdoc = {k: v for k, v in txp.items() if k != "_id"}
            await m.c("txs").replace_one(
                {"walletId": tdoc["walletId"], "id": tdoc["id"]}, tdoc, upsert=True, session=session
            )

        await m.in_transaction(work)
