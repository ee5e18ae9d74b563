"""Fiat rates as service methods (docs/spec/api.md §4.26, §4.29): read-only
views of what fiatrateservice stored; the look-ups are in bws/fiat.py.

The routes (bws/http/routes/fiat.py) call these methods, so the operator's
``fiatRateServiceOpts.defaultProvider`` (tunable
``fiat_default_provider``) is applied here, not by the HTTP layer.
"""

from __future__ import annotations

from typing import Any, Optional

from bws.fiat import (
    DEFAULT_PROVIDER,
    fiat_rate_for_request,
    fiat_rates,
    get_coin_rates,
    historical_rates,
    parse_strict_ts,
)

from bws.errors import ClientError

from .base import Aggregate
from .context import Caller


class Fiat(Aggregate):
    """get_fiat_rate, get_coin_rates, get_historical_rates, get_fiat_rates,
    get_fiat_rates_by_coin (no caller needed)."""

    def _provider(self, opts: dict) -> str:
        return opts.get("provider") or self.tunables.fiat_default_provider or DEFAULT_PROVIDER

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

    async def get_historical_rates(self, caller: Caller, opts: dict) -> dict[str, list[dict[str, Any]]]:
        """``GET /v2/fiatrates/:code``. ``opts``: ``{code, coin?, provider?, ts?}`` (query
        strings as sent; ts epoch ms, default now − 10 min) -> ``{coin: [{ts, rate, fetchedOn}]}``
        newest first. Raises ClientError for a missing/unknown code, unknown coin, bad ts
        (upstream fiatrateservice.ts ``getHistoricalRates``)."""
        coin = opts.get("coin")
        return await historical_rates(
            self.storage,
            opts.get("code"),
            coin=coin.lower() if coin else None,
            provider=self._provider(opts),
            ts=parse_strict_ts(opts.get("ts")),
            now_ms=self.now_ms(),
        )

    async def get_fiat_rates(self, caller: Caller, opts: dict) -> dict[str, list[dict[str, Any]]]:
        """``GET /v3/fiatrates/``. ``opts``: ``{code?, provider?, ts?}`` -> ``{coin: [{ts, rate?,
        fetchedOn?, code, name}]}`` for every stored coin x code. Raises ClientError for an
        unknown code or a bad ts (upstream ``getFiatRates``)."""
        return await fiat_rates(
            self.storage,
            code=opts.get("code") or None,
            provider=self._provider(opts),
            ts=parse_strict_ts(opts.get("ts")),
            now_ms=self.now_ms(),
        )

    async def get_fiat_rates_by_coin(self, caller: Caller, opts: dict) -> list[dict[str, Any]]:
        """``GET /v3/fiatrates/:coin``. ``opts``: ``{coin, code?, provider?, ts?}`` ->
        ``[{ts, rate?, fetchedOn?, code, name}]``. Raises ClientError for an unknown coin or
        code, or a bad ts (upstream ``getFiatRatesByCoin``)."""
        coin = (opts.get("coin") or "").lower()
        if not coin:
            raise ClientError("Required argument coin missing.")
        by_coin = await fiat_rates(
            self.storage,
            code=opts.get("code") or None,
            coin=coin,
            provider=self._provider(opts),
            ts=parse_strict_ts(opts.get("ts")),
            now_ms=self.now_ms(),
        )
        return by_coin[coin]


__all__ = ["Fiat"]
