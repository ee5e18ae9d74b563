"""Fiat rate routes (spec/api.md §4.26, §4.29): read-only views of what fiatrateservice stored.

No authentication (client-version gate only). The look-ups live in bws/fiat.py;
these handlers only map the request onto them.
"""

from __future__ import annotations

from bws.api import NONE, ROUTES, ApiRequest
from bws.fiat import fiat_rate_for_request, get_coin_rates


def _default_provider(r: ApiRequest) -> str:
    return r.service.options.get("fiatDefaultProvider", "BitPay")


@ROUTES.add("GET", "/v1/fiatrates/:code/", auth=NONE)
async def fiat_rate(r: ApiRequest):
    """→ ``{ts, rate?, fetchedOn?}`` for ``?coin=&provider=&ts=`` (ts in ms, default now)."""
    args = {k: r.query_str(k) for k in ("coin", "provider", "ts") if r.query_str(k) is not None}
    return await fiat_rate_for_request(r.service.storage, r.params.get("code"), args, default_provider=_default_provider(r))


@ROUTES.add("GET", "/v1/rates/eth/", auth=NONE)
async def rates_eth(r: ApiRequest):
    """→ ``[{code, name, rate}]`` per 1 ETH, or an empty body before the first fetch round."""
    return await get_coin_rates(r.service.storage, "eth")


@ROUTES.add("GET", "/v1/rates/try/", auth=NONE)
async def rates_try(r: ApiRequest):
    """→ ``[{code:"TRY", name:"Trias Token", rate:1}, ...]`` per 1 TRY, or an empty body."""
    return await get_coin_rates(r.service.storage, "try")
