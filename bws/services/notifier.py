"""The one store-then-publish Notifier: every producer of notifications uses it.

Producers are the wallet service (API process) and the block monitors
(bcmonitor, BTC and EVM). A notification is first inserted into
``notifications`` -- the store is the source of truth -- and only then
published on the broker as a wake-up for the durable consumers
(bws/delivery/stream.py StreamConsumer; the design in docs/notifications.md).
The broker message is the stored notification itself (the reference payload,
docs/spec/services.md §2.3; bitcore-wallet-service lib/server.js
_notify / lib/messagebroker.js send).

Three ways in, one rule:

* :meth:`Notifier.notify` -- a lone notification: store, then publish.
* :meth:`Notifier.notify_with_tx` -- a proposal change and the notifications
  announcing it, stored in one transaction only if the stored proposal still
  matches ``expect`` (so of the API and the monitors marking the same
  proposal broadcast exactly one announces it), then published.
* :meth:`Notifier.commit` -- any other write that must land together with its
  notifications (a joining copayer, new addresses, a removed proposal): the
  caller's storage call gets the documents and the id renewal, the Notifier
  publishes what it stored.

Ids come from the :class:`bws.model.NotificationIds` generator passed in (one
per process, built at start-up). Two processes can give the same id in the
same millisecond; the unique index refuses the second insert and the storage
retries with a fresh id from ``renew_id`` (bws/storage/notifications.py
NotificationsRepo.store_after). A failed store raises and publishes nothing; a
failed publish is logged, never raised (consumers read the store after any
later wake-up or poll).
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Iterable, Optional

from bws.model import Notification, NotificationIds

log = logging.getLogger(__name__)

Doc = dict[str, Any]
#: ``async (notification documents, renew_id) -> stored documents | None`` (None: nothing was written)
StoreWithNotifications = Callable[[list[Doc], Callable[[], str]], Awaitable[Optional[list[Doc]]]]


class Notifier:
    """Store, then publish.

    storage: :class:`bws.storage.Storage` (``notifications.store``,
    ``proposals.store_with_notifications``); broker: has ``publish(message: dict)``
    (bws/interfaces.py Broker), or None (store only: a process without consumers to
    wake, e.g. tests); ids: the process's :class:`bws.model.NotificationIds`."""

    def __init__(self, storage: Any, broker: Any, ids: NotificationIds) -> None:
        self.storage = storage
        self.broker = broker
        self.ids = ids

    def new(
        self, type_: str, data: dict, wallet_id: str, creator_id: Any = None, *, now_ms: Optional[int] = None
    ) -> Notification:
        """A notification with its id, not stored yet. ``creator_id``: a
        copayer id, None (null: global notifications) or ``UNDEFINED``
        (omitted: monitor notifications); ``now_ms``: epoch ms of the event
        (default: the ids' clock) -- the id and ``createdOn`` both come from it."""
        ms = self.ids.now_ms() if now_ms is None else int(now_ms)
        return Notification.create(type_, data, wallet_id, creatorId=creator_id, now_ms=ms, id=self.ids.next(ms))

    def renew_id(self) -> str:
        """A fresh id (after an id collision in storage)."""
        return self.ids.next()

    async def notify(self, notification: Notification) -> Doc:
        """Insert ``notification``, then publish it; returns the stored document
        (its ``id`` renewed after a collision). Storage errors are raised and
        nothing is published."""
        stored = await self.commit([notification], self._store_one)
        assert stored is not None  # a lone insert always writes
        return stored[0]

    async def notify_with_tx(
        self, txp: Doc, notifications: Iterable[Notification], *, expect: Optional[Doc] = None
    ) -> Optional[list[Doc]]:
        """Replace-upsert the proposal document ``txp`` and insert ``notifications``
        (in order) in one transaction, then publish them. ``expect``: conditions
        the stored proposal must still meet (e.g. ``{"status": "accepted"}``):
        the proposal is then only replaced, never inserted. Returns the stored
        notifications, or None when the stored proposal no longer matched
        (someone else made the change first; nothing stored or published)."""

        async def store(docs: list[Doc], renew_id: Callable[[], str]) -> Optional[list[Doc]]:
            return await self.storage.proposals.store_with_notifications(txp, docs, renew_id=renew_id, expect=expect)

        return await self.commit(notifications, store)

    async def commit(self, notifications: Iterable[Notification], store: StoreWithNotifications) -> Optional[list[Doc]]:
        """``await store(docs, renew_id)`` -- a storage call that writes its change
        and the notification documents together (``Storage.*_and_notifications``)
        -- then publish what it returns, in order. Notifications without an id
        get one here. Returns the stored documents, or None (``store`` wrote
        nothing)."""
        docs = []
        for n in notifications:
            if not n.id:
                n.id = self.ids.next()
            docs.append(n.to_dict())
        stored = await store(docs, self.renew_id)
        if stored is None:
            return None
        out = [{k: v for k, v in d.items() if k != "_id"} for d in stored]
        for doc in out:
            self._publish(doc)
        return out

    async def _store_one(self, docs: list[Doc], renew_id: Callable[[], str]) -> list[Doc]:
        return [await self.storage.notifications.store(docs[0], renew_id=renew_id)]

    def _publish(self, doc: Doc) -> None:
        if self.broker is None:
            return
        try:
            self.broker.publish(doc)
        except Exception:  # stored is what counts: consumers read the store after any wake-up
            log.exception("publishing notification %s failed (stored; consumers read the store)", doc.get("id"))
