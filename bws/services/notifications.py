"""Notification polling (docs/spec/api.md §4.24, §5.7)."""

from __future__ import annotations

from typing import Optional

from bws.model import constants as C
from bws.model.base import js_number

from .base import Aggregate
from .context import Caller


def time_span_seconds(value) -> float:
    """``timeSpan`` query value -> seconds: absent -> 60; else
    ``min(+value || 0, 1209600)`` (NaN -> 0), and at least 0.

    The reference lets a negative span through: -10 asks for notifications
    from 10 s in the future (none); -1e308 makes its floor Infinity, which
    the port's integer id floor cannot hold (a 500).  0 answers the same as a
    small negative span and never overflows."""
    if value is None:
        return C.NOTIFICATIONS_TIMESPAN
    n = js_number(value) if not isinstance(value, list) else None
    if n is None or n != n:
        n = 0
    return max(0, min(n, C.MAX_NOTIFICATIONS_TIMESPAN))


class Notifications(Aggregate):
    """getNotifications."""

    async def get_notifications(self, caller: Caller, opts: Optional[dict] = None) -> list[dict]:
        """Notifications of the caller's wallet and, from its network
        pseudo-wallet, those of the network-wide types
        (``C.NETWORK_NOTIFICATION_TYPES``: NewBlock), ascending by id, every
        ``walletId`` rewritten to the caller's.  Only those types: anything
        else stored under a network name (a wallet created with the id
        "testnet" before ids were checked) is not another wallet's business.

        opts: ``{timeSpan?: seconds (str|number), notificationId?: str,
        minTs?: ms}`` -- the floor is ``max(pad14(minTs)+"0000",
        notificationId)``; ``minTs`` defaults to ``now - timeSpan``.
        Errors: WALLET_NOT_FOUND."""
        opts = opts or {}
        network = (await self._wallet_facts(caller)).network  # fixed: one read per wallet and process
        min_ts = opts.get("minTs")
        if not isinstance(min_ts, (int, float)) or isinstance(min_ts, bool):
            min_ts = self.now_ms() - time_span_seconds(opts.get("timeSpan")) * 1000
        nid = opts.get("notificationId")
        nid = nid if isinstance(nid, str) and nid else None
        scoped = {network: C.NETWORK_NOTIFICATION_TYPES} if network != caller.wallet_id else None
        docs = await self.storage.notifications.fetch([caller.wallet_id], nid, int(min_ts), scoped=scoped)
        out = []
        for d in docs:
            d = {k: v for k, v in d.items() if k != "_id"}
            d["walletId"] = caller.wallet_id
            out.append(d)
        return out
