"""Store-then-publish for monitor notifications (the durable stream, design.md).

Uses ``bws.notifications.Notifier`` when that module exists; otherwise stores
with ``storage.notifications.store`` and then publishes the stored document on
the broker. Amounts that do not fit MongoDB's int64 (wei above ~9.2 ETH) are
stored as decimal strings; everything smaller stays an int.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from bws.model import UNDEFINED, Notification, TxProposal, next_notification_id

log = logging.getLogger("bcmonitor")

_INT64_MAX = 2**63 - 1


def bson_safe(value: Any) -> Any:
    """Ints beyond int64 become decimal strings (recursively in dicts/lists)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not -_INT64_MAX - 1 <= value <= _INT64_MAX:
        return str(value)
    if isinstance(value, dict):
        return {k: bson_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [bson_safe(v) for v in value]
    return value


class MonitorNotifier:
    """``await notify(type, data, wallet_id, creator_id=UNDEFINED)`` -> stored dict."""

    def __init__(self, storage, broker=None):
        self.storage = storage
        self.broker = broker
        self._delegate = None
        if broker is None:
            return
        try:  # the shared durable-stream publisher, when present
            from bws.notifications import Notifier  # type: ignore

            self._delegate = Notifier(storage, broker)
        except Exception:  # module absent or different signature: fall back
            self._delegate = None

    async def notify(self, type_: str, data: dict, wallet_id: str, creator_id: Any = UNDEFINED) -> dict:
        n = Notification.create(type_, bson_safe(data), wallet_id, creatorId=creator_id)
        if self._delegate is not None:
            stored = await self._delegate.notify(n)
            doc = stored if isinstance(stored, dict) else n.to_dict()
        else:
            doc = await self.storage.notifications.store(n.to_dict(), renew_id=n.renew_id)
            self._publish(doc)
        log.info("notify %s wallet=%s data=%s", type_, wallet_id, data)
        return doc

    async def notify_with_tx(
        self, txp: dict, expect: dict, type_: str, data: dict, wallet_id: str, creator_id: Any = UNDEFINED
    ) -> Optional[dict]:
        """Store the proposal ``txp`` -- only if the stored one still matches
        ``expect`` -- together with the notification (one transaction:
        ``bws.storage.proposals.ProposalsRepo.store_with_notifications``), then publish it. None when the
        stored proposal no longer matched: someone else (the API, another
        monitor) made the change first, nothing was stored or published."""
        n = Notification.create(type_, bson_safe(data), wallet_id, creatorId=creator_id)
        stored = await self.storage.proposals.store_with_notifications(
            txp, [n.to_dict()], renew_id=next_notification_id, expect=expect
        )
        if stored is None:
            return None
        self._publish(stored[0])
        log.info("notify %s wallet=%s data=%s", type_, wallet_id, data)
        return stored[0]

    def _publish(self, doc: dict) -> None:
        if self.broker is None:
            return
        try:
            self.broker.publish({k: v for k, v in doc.items() if k != "_id"})
        except Exception:  # stored is what counts: consumers read the store after any wake-up
            log.exception("broker publish failed (notification %s is stored)", doc.get("id"))


async def mark_broadcast_by_third_party(storage, notifier: MonitorNotifier, txid: str, now: float) -> bool:
    """The accepted proposal whose tx ``txid`` a monitor saw on the network is
    marked broadcast and announced (NewOutgoingTxByThirdParty ``{txProposalId,
    txid, amount}``) once: the mark only lands on a proposal still stored as
    accepted, so a monitor racing the API (``GET /v1/txproposals/``) or
    another monitor cannot announce it twice (issue 15 finding 8). Returns
    whether this call marked it."""
    doc = await storage.proposals.fetch_by_txid(txid)
    if not doc or doc.get("status") != "accepted":
        return False
    txp = TxProposal.from_dict(doc)
    txp.set_broadcasted(now=now)
    stored = await notifier.notify_with_tx(
        txp.to_storage(),  # under the txp's own walletId
        {"status": "accepted"},
        "NewOutgoingTxByThirdParty",
        {"txProposalId": txp.id, "txid": txid, "amount": txp.get_total_amount()},
        txp.wallet_id,
    )
    if stored is None:
        return False
    await storage.cache.soft_reset(txp.wallet_id)
    return True
