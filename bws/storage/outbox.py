"""Outbox repository (collections ``email_queue``, ``push_deliveries`` and
``webhook_deliveries``, *added*; bws/outbox.py is the sender that uses it).

A row is one (notification, recipient) delivery with a deterministic unique
``id``; ``status`` pending -> sent | fail, ``nextAttemptOn`` (unix s) when it
is due again (null: never), ``leaseUntil`` (unix s) while one sender works on
it, ``seq`` its order within the notification.
"""

from __future__ import annotations

from typing import Optional

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import BulkWriteError

from bws.storage.mongo import Doc, Mongo, clean

def _unleased(now: float) -> list[Doc]:
    """The ``$or`` of a row nobody holds: no lease, or an expired one."""
    return [{"leaseUntil": None}, {"leaseUntil": {"$lt": now}}]


class OutboxRepo:
    def __init__(self, mongo: Mongo):
        self._m = mongo

    async def insert(self, collection: str, rows: list[Doc]) -> int:
        """Insert rows in one command; rows whose ``id`` exists are skipped. Returns how many were new."""
        if not rows:
            return 0
        try:
            r = await self._m.run(self._m.c(collection).insert_many([dict(x) for x in rows], ordered=False))
            return len(r.inserted_ids)
        except BulkWriteError as e:
            if any(err.get("code") != 11000 for err in e.details.get("writeErrors", [])):
                raise
            return e.details.get("nInserted", 0)

    async def lease(self, collection: str, row_id: str, now: float, lease_seconds: float) -> Optional[Doc]:
        """Take the row for ``lease_seconds`` if it is not sent and nobody holds it; None otherwise."""
        doc = await self._m.run(
            self._m.c(collection).find_one_and_update(
                {"id": row_id, "status": {"$ne": "sent"}, "$or": _unleased(now)},
                {"$set": {"leaseUntil": now + lease_seconds}},
                return_document=ReturnDocument.AFTER,
            )
        )
        return clean(doc)

    async def update(self, collection: str, row_id: str, fields: Doc) -> None:
        """``$set`` ``fields`` on the row."""
        await self._m.run(self._m.c(collection).update_one({"id": row_id}, {"$set": fields}))

    async def fetch_due(self, collection: str, now: float, limit: int = 100) -> list[Doc]:
        """Unsent rows whose ``nextAttemptOn`` has come and that nobody holds, in (notificationId, seq) order."""
        return await self._m.find(
            collection,
            {"status": {"$ne": "sent"}, "nextAttemptOn": {"$lte": now}, "$or": _unleased(now)},
            sort=[("notificationId", ASCENDING), ("seq", ASCENDING)],
            limit=limit,
        )

    async def count_sent(self, collection: str) -> int:
        """Delivered rows (``status: "sent"``) of an outbox collection (metrics)."""
        return await self._m.run(self._m.c(collection).count_documents({"status": "sent"}))
