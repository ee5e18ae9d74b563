"""The monitors' notifications, through the one Notifier (bws/services/notifier.py).

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

from bws.model import UNDEFINED
from bws.services.notifier import Notifier

log = logging.getLogger("bcmonitor")


class MonitorNotices:
    """``await notify(type, data, wallet_id, creator_id=UNDEFINED)`` -> the stored notification.

    notifier: the process's :class:`bws.services.notifier.Notifier` (its
    ``storage`` is the monitor's)."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    async def notify(self, type_: str, data: dict, wallet_id: str, creator_id: Any = UNDEFINED) -> dict:
        doc = await self.notifier.notify(self.notifier.new(type_, data, wallet_id, creator_id))
        log.info("notify %s wallet=%s data=%s", type_, wallet_id, data)
        return doc
