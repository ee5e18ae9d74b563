"""Durable notification stream repository (collections ``stream_cursors``
and ``stream_deliveries``, *added*).

Each consumer (email, push, webhooks) has a cursor ``{consumer, lastId,
updatedOn}``, the last notification id it handled, and one delivery per
notification it took, ``{consumer, notificationId, createdOn, state,
claimedAt?, retryAt?, ...}``. The unique (consumer, notificationId) index makes
the claim the idempotency key. bws/delivery/stream.py StreamConsumer gives the
correctness argument.
"""

from __future__ import annotations

from typing import Optional

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from bws.storage.mongo import Doc, Mongo


class StreamRepo:
    def __init__(self, mongo: Mongo):
        self._m = mongo

    async def get_cursor(self, consumer: str) -> str:
        """Last notification id handled by ``consumer`` ("" when it never ran)."""
        doc = await self._m.find_one("stream_cursors", {"consumer": consumer})
        return doc["lastId"] if doc else ""

    async def set_cursor(self, consumer: str, last_id: str, *, now: int) -> None:
        """Advance (never rewind) the consumer's cursor; ``now``: unix seconds
        (its ``updatedOn``, bookkeeping only) from the caller's clock."""
        await self._m.run(
            self._m.c("stream_cursors").update_one(
                {"consumer": consumer}, {"$max": {"lastId": last_id}, "$set": {"updatedOn": int(now)}}, upsert=True
            )
        )

    async def claim(self, consumer: str, notification_id: str, extra: Optional[Doc] = None, *, now: int) -> bool:
        """Record that ``consumer`` takes ``notification_id``; False if it was already taken.
        ``now``: unix seconds (the delivery's ``createdOn``) from the caller's clock.

        Of several racing consumers exactly one gets True (unique index)."""
        doc = {"consumer": consumer, "notificationId": notification_id, "createdOn": int(now), **(extra or {})}
        try:
            await self._m.run(self._m.c("stream_deliveries").insert_one(doc))
            return True
        except DuplicateKeyError:
            return False

    async def update_delivery(self, consumer: str, notification_id: str, fields: Doc) -> None:
        """``$set`` ``fields`` on the delivery."""
        await self._m.run(
            self._m.c("stream_deliveries").update_one(
                {"consumer": consumer, "notificationId": notification_id}, {"$set": fields}
            )
        )

    async def fetch_due(self, consumer: str, claimed_before_ms: int, now_ms: int, limit: int = 100) -> list[Doc]:
        """Deliveries of ``consumer`` to run again: ``state`` "claimed" with ``claimedAt`` <
        ``claimed_before_ms`` (the claimer died), or "failed" with ``retryAt`` <= ``now_ms``."""
        return await self._m.find(
            "stream_deliveries",
            {
                "consumer": consumer,
                "$or": [
                    {"state": "claimed", "claimedAt": {"$lt": claimed_before_ms}},
                    {"state": "failed", "retryAt": {"$lte": now_ms}},
                ],
            },
            sort=[("notificationId", ASCENDING)],
            limit=limit,
        )

    async def retake(self, consumer: str, notification_id: str, expect: Doc, fields: Doc) -> bool:
        """Compare-and-set on a delivery: ``$set`` ``fields`` only if it still matches ``expect``.

        True for exactly one of several processes racing to take over the same delivery."""
        r = await self._m.run(
            self._m.c("stream_deliveries").update_one(
                {"consumer": consumer, "notificationId": notification_id, **expect}, {"$set": fields}
            )
        )
        return r.modified_count == 1
