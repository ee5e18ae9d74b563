"""Balance and UTXO routes (docs/spec/api.md §4.17, §4.20).

``GET /v1/balance/?coin=&twoStep=1`` -> get_balance;
``GET /v1/utxos/?addresses=a,b,c`` -> get_utxos (signed copayers);
``POST /v1/clearcache/[?tokenAddress=]`` -> addresses.clear_cache (the
wallet's balance and history caches; bwc 10.x/11.x ``clearCache``).
"""

from __future__ import annotations

from typing import Any

from bws.errors import bad_request
from bws.http.request import ApiRequest
from bws.http.routing import Router

#: query options of bwc 10.x/11.x (EVM tokens and multisig contracts) this server does not
#: implement: a set value is a 400 naming it, never ignored (docs/compatibility.md)
UNSUPPORTED_QUERY = ("tokenAddress", "multisigContractAddress")


def refuse_unsupported(r: ApiRequest) -> None:
    """400 naming the first of :data:`UNSUPPORTED_QUERY` given a value."""
    for name in UNSUPPORTED_QUERY:
        if r.query_str(name):
            raise bad_request(f"{name} is not supported: no token or multisig-contract wallets here")


def _balance_opts(r: ApiRequest) -> dict[str, Any]:
    refuse_unsupported(r)
    opts: dict[str, Any] = {}
    if r.query_str("coin"):
        opts["coin"] = r.query_str("coin")
    if r.query_flag("twoStep"):
        opts["twoStep"] = True
    return opts


def _utxos_opts(r: ApiRequest) -> dict[str, Any]:
    addresses = r.query_str("addresses")
    return {"addresses": addresses.split(",")} if addresses else {}


def register(router: Router) -> None:
    """Add the balance and UTXO routes to ``router``."""

    @router.add("GET", "/v1/balance/")
    async def balance(r: ApiRequest):
        return await r.services.balance.get_balance(r.caller, _balance_opts(r))

    @router.add("GET", "/v1/utxos/")
    async def utxos(r: ApiRequest):
        return await r.services.balance.get_utxos(r.caller, _utxos_opts(r))

    @router.add("POST", "/v1/clearcache/")
    async def clear_cache(r: ApiRequest):
        return await r.services.addresses.clear_cache(r.caller, {"tokenAddress": r.query_str("tokenAddress")})
