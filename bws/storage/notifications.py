"""Notifications repository (collection ``notifications``).

A notification is ``{version, createdOn, id, type, data, walletId,
creatorId?}`` (bws/model/notification.py); ``walletId`` is a wallet id or, for
NewBlock, a network name. Ids are unique across processes (unique index):
two processes that build the same id in the same millisecond collide, the
loser takes a fresh id from ``renew_id()`` and retries.

Every write that announces a state change (a proposal, a wallet and its
lookups, new addresses) goes through :meth:`NotificationsRepo.store_after`, so
the change and its notifications commit together: a crash or a failed write
leaves neither. Callers publish the result on the broker after the commit
(bws/services/notifier.py Notifier).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Iterable, Mapping, Optional

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from bws.errors import StorageError
from bws.storage.compat import notification_floor
from bws.storage.mongo import Doc, Mongo

#: a write announced by notifications: ``write(session)``; False = its condition
#: no longer held, nothing changed (then no notification is stored)
Write = Callable[[Any], Awaitable[Optional[bool]]]


class NotificationsRepo:
    def __init__(self, mongo: Mongo):
        self._m = mongo

    async def store(self, notification: Doc, renew_id: Optional[Callable[[], str]] = None) -> Doc:
        """Insert a notification; returns it (possibly with a renewed ``id``)."""
        return (await self.store_after(None, [notification], renew_id))[0]

    async def store_after(
        self, write: Optional[Write], notifications: Iterable[Doc], renew_id: Optional[Callable[[], str]]
    ) -> Optional[list[Doc]]:
        """``write(session)`` then the insert of ``notifications`` (in order),
        atomically when there is a ``write`` (one transaction, or those writes in
        order on a server without transactions: bws/storage/mongo.py
        Mongo.in_transaction); returns the stored notifications.

        A ``write`` that returns False found nothing to change (its condition
        no longer held): no notification is stored and None is returned.

        After an id collision every notification not yet stored takes a fresh
        id from ``renew_id()`` (in order, so the ids keep the given order) and
        the step is retried, up to 20 times (then StorageError). Any other
        duplicate key raises pymongo's DuplicateKeyError."""
        m = self._m
        docs = [dict(n) for n in notifications]
        # written / kept: the write / the first ``kept`` notifications done for good (no
        # transaction); changed: False when the write's condition no longer held
        state = {"collided": False, "written": False, "kept": 0, "changed": True}

        async def work(session):
            state["changed"] = True  # a transaction may run several times (transient retries)
            if write is not None and not state["written"]:
                if await write(session) is False:
                    state["changed"] = False
                    return
                state["written"] = session is None
            for i in range(state["kept"], len(docs)):
                try:
                    await m.c("notifications").insert_one(dict(docs[i]), session=session)
                except DuplicateKeyError:
                    state["collided"] = True
                    raise
                if session is None:
                    state["kept"] = i + 1

        for _ in range(20):
            state["collided"] = False
            try:
                if write is None:  # a lone insert: no transaction needed
                    await m.run(work(None))
                else:
                    await m.in_transaction(work)
                return docs if state["changed"] else None
            except DuplicateKeyError:
                if not state["collided"] or renew_id is None:
                    raise
                for d in docs[state["kept"]:]:
                    d["id"] = renew_id()
        raise StorageError("could not allocate a unique notification id")

    async def fetch(
        self,
        wallet_ids: Iterable[str],
        notification_id: Optional[str] = None,
        min_ts_ms: Optional[int] = None,
        *,
        scoped: Optional[Mapping[str, Iterable[str]]] = None,
    ) -> list[Doc]:
        """The poll (GET /v1/notifications/): notifications of the given wallet
        ids with id > max(notification_id, the id floor of min_ts_ms; see
        bws/storage/compat.py), ascending. scoped: more walletIds, each with the
        only notification types taken from it (a network name -> NewBlock)."""
        floor = notification_floor(notification_id, min_ts_ms)
        # One $in on the (walletId, id) index; the scoped ids' other types are
        # dropped here: an $or of per-scope filters made SecantusDB scan the
        # collection (4x the database CPU per poll in bench.run).
        own = list(wallet_ids)
        allowed = {wallet_id: set(types) for wallet_id, types in (scoped or {}).items()}
        docs = await self._m.find(
            "notifications", {"walletId": {"$in": own + list(allowed)}, "id": {"$gt": floor}}, sort=[("id", ASCENDING)]
        )
        if not allowed:
            return docs
        mine = set(own)
        return [d for d in docs if d.get("walletId") in mine or d.get("type") in allowed.get(d.get("walletId"), ())]

    async def fetch_latest_id(self) -> str:
        """The greatest notification id stored ("" when there is none)."""
        m = self._m
        doc = await m.run(m.c("notifications").find_one({}, {"id": True}, sort=[("id", DESCENDING)]))
        return doc["id"] if doc else ""

    async def fetch_after(self, after_id: str, limit: int = 500) -> list[Doc]:
        """The global stream: every notification with id > after_id, ascending (durable consumers)."""
        return await self._m.find("notifications", {"id": {"$gt": after_id}}, sort=[("id", ASCENDING)], limit=limit)

    async def fetch_by_id(self, notification_id: str) -> Optional[Doc]:
        return await self._m.find_one("notifications", {"id": notification_id})

    async def find_one(self, wallet_id: str, type_: str, match: Optional[Doc] = None) -> Optional[Doc]:
        """One notification of ``wallet_id`` and ``type_`` whose fields equal ``match``
        (dotted keys, e.g. ``{"data.txid": t, "data.address": a}``), or None (monitor dedup)."""
        return await self._m.find_one("notifications", {"walletId": wallet_id, "type": type_, **(match or {})})

    async def fetch_for_txids(self, type_: str, wallet_ids: Iterable[str], txids: Iterable[str]) -> list[Doc]:
        """``[{walletId, data}]`` of the notifications of ``type_`` of these wallets
        whose ``data.txid`` is in ``txids`` (monitor dedup for a whole block; one
        query instead of one :meth:`find_one` per payment)."""
        q = {"walletId": {"$in": list(wallet_ids)}, "type": type_, "data.txid": {"$in": list(txids)}}
        return await self._m.find("notifications", q, projection={"_id": 0, "walletId": 1, "data": 1})
