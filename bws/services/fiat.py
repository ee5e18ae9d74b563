"""Fiat rates as service methods (docs/spec/api.md §4.26, §4.29): read-only
views of what fiatrateservice stored; the look-ups are in bws/fiat.py.

The routes (bws/http/routes/fiat.py) call these methods, so the operator's
``fiatRateServiceOpts.defaultProvider`` (tunable
``fiat_default_provider``) is applied here, not by the HTTP layer.
"""

from __future__ import annotations

from typing import Any, Optional

from bws.fiat import DEFAULT_PROVIDER, fiat_rate_for_request, get_coin_rates

from .base import Aggregate
from .context import Caller


class Fiat(Aggregate):
    """get_fiat_rate, get_coin_rates (no caller needed)."""

    async def get_fiat_rate(self, caller: Caller, opts: dict) -> dict[str, Any]:
        """``opts``: ``{code, coin?, provider?, ts?}`` (query strings as sent;
        ts in epoch ms, default now) -> ``{ts, rate?, fetchedOn?}``.
        Raises ClientError "Required argument code missing." (upstream
        bitcore-wallet-service lib/server.js ``getFiatRate``)."""
        args = {k: opts[k] for k in ("coin", "provider", "ts") if opts.get(k) is not None}
        default_provider = self.tunables.fiat_default_provider or DEFAULT_PROVIDER
        return await fiat_rate_for_request(
            self.storage, opts.get("code"), args, default_provider=default_provider, now_ms=self.now_ms()
        )

    async def get_coin_rates(self, caller: Caller, opts: dict) -> Optional[list[dict[str, Any]]]:
        """``opts``: ``{coin: "eth" | "try"}`` -> ``[{code, name, rate}]`` per
        1 coin, or None before fiatrateservice's first fetch round."""
        return await get_coin_rates(self.storage, opts["coin"])


__all__ = ["Fiat"]
