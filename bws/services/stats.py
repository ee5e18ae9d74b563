"""Service version and statistics (docs/spec/api.md §4.28, §2.1)."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any, Optional

from bws.errors import bad_request
from bws.model import constants as C

from .base import SERVICE_VERSION, Aggregate, truthy
from .context import Caller


def _day_start(text: Any, default: str) -> int:
    """'YYYY-MM-DD' (UTC) -> unix seconds at 00:00; BADREQUEST "Invalid date"."""
    value = text if truthy(text) else default
    if not isinstance(value, str):
        raise bad_request("Invalid date")
    try:
        d = dt.datetime.strptime(value[:10], "%Y-%m-%d")
    except ValueError:
        raise bad_request("Invalid date") from None
    return calendar.timegm(d.timetuple())


def _day(ts: int) -> str:
    return dt.datetime.fromtimestamp(int(ts), dt.timezone.utc).strftime("%Y%m%d")


class Stats(Aggregate):
    """getServiceVersion, getStats."""

    async def get_service_version(self, caller: Caller, opts: Optional[dict] = None) -> dict:
        """``{"serviceVersion": "bws-2.5.1"}``."""
        return {"serviceVersion": SERVICE_VERSION}

    async def get_stats(self, caller: Caller, opts: Optional[dict] = None) -> dict:
        """Per-day counts of new wallets and broadcast proposals (docs/spec/api.md §4.28).

        opts: ``{network?: livenet, coin?: btc, from?: YYYY-MM-DD
        (2015-01-01), to?: YYYY-MM-DD (today)}`` (UTC days, both inclusive) ->
        ``{"newWallets": {"byDay": [{day: "YYYYMMDD", coin, count}]},
        "txProposals": {"nbByDay": [{day, coin, count}], "amountByDay": [{day, amount}]}}``.
        Errors: "Invalid coin", "Invalid network", "Invalid date"."""
        opts = opts or {}
        network = opts.get("network") if truthy(opts.get("network")) else C.LIVENET
        coin = opts.get("coin") if truthy(opts.get("coin")) else C.DEFAULT_COIN
        if coin not in C.COINS:
            raise bad_request("Invalid coin")
        if network not in C.NETWORKS:
            raise bad_request("Invalid network")
        today = dt.datetime.fromtimestamp(self.now_s(), dt.timezone.utc).strftime("%Y-%m-%d")
        from_ts = _day_start(opts.get("from"), "2015-01-01")
        to_ts = _day_start(opts.get("to"), today) + 86400 - 1
        wallets = await self.storage.stats.fetch_wallets(coin, network, from_ts, to_ts)
        txps = await self.storage.stats.fetch_txps(coin, network, from_ts, to_ts)
        by_day: dict[str, int] = {}
        for w in wallets:
            d = _day(w.get("createdOn") or 0)
            by_day[d] = by_day.get(d, 0) + 1
        nb: dict[str, int] = {}
        amount: dict[str, int] = {}
        for t in txps:
            d = _day(t.get("broadcastedOn") or 0)
            nb[d] = nb.get(d, 0) + 1
            amount[d] = amount.get(d, 0) + int(t.get("amount") or 0)
        return {
            "newWallets": {"byDay": [{"day": d, "coin": coin, "count": by_day[d]} for d in sorted(by_day)]},
            "txProposals": {
                "nbByDay": [{"day": d, "coin": coin, "count": nb[d]} for d in sorted(nb)],
                "amountByDay": [{"day": d, "amount": amount[d]} for d in sorted(amount)],
            },
        }
