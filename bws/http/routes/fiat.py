"""Fiat rate routes (docs/spec/api.md §4.26, §4.29): read-only views of what
fiatrateservice stored.

No authentication (client-version gate only).  The look-ups are service
methods (bws/services/fiat.py over bws/fiat.py); these handlers only map the
request onto them.

====================================================  =====  ==================================
``GET /v1/fiatrates/:code/?coin=&provider=&ts=``      none   ``{ts, rate?, fetchedOn?}`` (ts ms)
``GET /v2/fiatrates/:code/?ts=&coin=&provider=``      none   ``{coin: [{ts, rate, fetchedOn}]}``
``GET /v3/fiatrates/?code=&ts=&provider=``            none   ``{coin: [{ts, rate?, fetchedOn?,
                                                             code, name}]}``
``GET /v3/fiatrates/:coin/?code=&ts=&provider=``      none   ``[{ts, rate?, fetchedOn?, code,
                                                             name}]``
``GET /v1/rates/eth/``                                none   ``[{code, name, rate}]`` per 1 ETH
``GET /v1/rates/try/``                                none   ``[{code:"TRY", ...}, ...]`` per 1 TRY
====================================================  =====  ==================================

The two ``/v1/rates`` routes answer an empty body before fiatrateservice's
first fetch round (as the fork does).
"""

from __future__ import annotations

from bws.http.auth import NONE
from bws.http.request import ApiRequest
from bws.http.routing import Router


def _rate_opts(r: ApiRequest) -> dict:
    args = {k: r.query_str(k) for k in ("coin", "provider", "ts") if r.query_str(k) is not None}
    return {**args, "code": r.params.get("code")}


def _opts(r: ApiRequest, *names: str, **params: str) -> dict:
    return {**{k: r.query_str(k) for k in names if r.query_str(k) is not None}, **params}


def register(router: Router) -> None:
    """Add the fiat rate routes to ``router``."""

    @router.add("GET", "/v1/fiatrates/:code/", auth=NONE)
    async def fiat_rate(r: ApiRequest):
        return await r.services.fiat.get_fiat_rate(r.caller, _rate_opts(r))

    @router.add("GET", "/v1/rates/eth/", auth=NONE)
    async def rates_eth(r: ApiRequest):
        return await r.services.fiat.get_coin_rates(r.caller, {"coin": "eth"})

    @router.add("GET", "/v1/rates/try/", auth=NONE)
    async def rates_try(r: ApiRequest):
        return await r.services.fiat.get_coin_rates(r.caller, {"coin": "try"})

    @router.add("GET", "/v2/fiatrates/:code/", auth=NONE)
    async def historical_rates(r: ApiRequest):
        opts = _opts(r, "coin", "provider", "ts", code=r.params.get("code"))
        return await r.services.fiat.get_historical_rates(r.caller, opts)

    @router.add("GET", "/v3/fiatrates/", auth=NONE)
    async def fiat_rates(r: ApiRequest):
        return await r.services.fiat.get_fiat_rates(r.caller, _opts(r, "code", "provider", "ts"))

    @router.add("GET", "/v3/fiatrates/:coin/", auth=NONE)
    async def fiat_rates_by_coin(r: ApiRequest):
        opts = _opts(r, "code", "provider", "ts", coin=r.params.get("coin"))
        return await r.services.fiat.get_fiat_rates_by_coin(r.caller, opts)
