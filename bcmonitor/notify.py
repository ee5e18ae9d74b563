"""The monitors' notifications, through the one Notifier (bws/service/notifier.py).

:class:`MonitorNotices` is the monitors' short form of
``notifier.notify(notifier.new(...))``: monitor notifications have no creator
unless they name one (``creatorId`` omitted, as the reference's
blockchainmonitor sends them: bitcore-wallet-service lib/blockchainmonitor.js
_handleIncomingPayments / _notifyNewBlock). Amounts stay ints of any size:
wei amounts beyond int64 are stored as Decimal128 and read back as int
(bws/storage/mongo.py CODEC_OPTIONS).
"""

from __future__ import annotations

import logging
from typing import Any

from bws.model import UNDEFINED, TxProposal
from bws.service.notifier import Notifier

log = logging.getLogger("bcmonitor")


class MonitorNotices:
    """``await notify(type, data, wallet_id, creator_id=UNDEFINED)`` -> the stored notification.

    notifier: the process's :class:`bws.service.notifier.Notifier` (its
    ``storage`` is the monitor's)."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    async def notify(self, type_: str, data: dict, wallet_id: str, creator_id: Any = UNDEFINED) -> dict:
        doc = await self.notifier.notify(self.notifier.new(type_, data, wallet_id, creator_id))
        log.info("notify %s wallet=%s data=%s", type_, wallet_id, data)
        return doc


async def mark_broadcast_by_third_party(storage, notices: MonitorNotices, txid: str, now: float) -> bool:
    """The accepted proposal whose tx ``txid`` a monitor saw on the network is
    marked broadcast and announced (NewOutgoingTxByThirdParty ``{txProposalId,
    txid, amount}``) once: the mark only lands on a proposal still stored as
    accepted, so a monitor racing the API (``GET /v1/txproposals/``) or
    another monitor cannot announce it twice. Returns
    whether this call marked it."""
    doc = await storage.proposals.fetch_by_txid(txid)
    if not doc or doc.get("status") != "accepted":
        return False
    txp = TxProposal.from_dict(doc)
    txp.set_broadcasted(now=now)
    notifier = notices.notifier
    n = notifier.new(
        "NewOutgoingTxByThirdParty",
        {"txProposalId": txp.id, "txid": txid, "amount": txp.get_total_amount()},
        txp.wallet_id,
        UNDEFINED,
    )
    # under the proposal's own walletId, only if it is still stored as accepted
    stored = await notifier.notify_with_tx(txp.to_storage(), [n], expect={"status": "accepted"})
    if stored is None:
        return False
    log.info("notify %s wallet=%s txid=%s", n.type, txp.wallet_id, txid)
    await storage.cache.soft_reset(txp.wallet_id)
    return True
