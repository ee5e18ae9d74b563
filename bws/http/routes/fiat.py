"""Fiat rate routes (docs/spec/api.md §4.26, §4.29): read-only views of what
fiatrateservice stored.

No authentication (client-version gate only).  The look-ups are service
methods (bws/service/fiat.py over bws/fiat.py); these handlers only map the
request onto them.

====================================================  =====  ==================================
``GET /v1/fiatrates/:code/?coin=&provider=&ts=``      none   ``{ts, rate?, fetchedOn?}`` (ts ms)
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


def register(router: Router) -> None:
    """Add the fiat rate routes to ``router``."""

    @router.add("GET", "/v1/fiatrates/:code/", auth=NONE)
    async def fiat_rate(r: ApiRequest):
        return await r.service.get_fiat_rate(_rate_opts(r))

    @router.add("GET", "/v1/rates/eth/", auth=NONE)
    async def rates_eth(r: ApiRequest):
        return await r.service.get_coin_rates({"coin": "eth"})

    @router.add("GET", "/v1/rates/try/", auth=NONE)
    async def rates_try(r: ApiRequest):
        return await r.service.get_coin_rates({"coin": "try"})
