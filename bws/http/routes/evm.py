"""HTTP routes of the ETH / Tri / TRY area (docs/spec/api.md §4.29; issue 6).
``/v1/rates/eth|try`` live in bws/http/routes/fiat.py.

==============================================  =====  =====================================
``GET /v1/eth/address_nonce/:address``          sig    ``{"nonce"}`` on the eth chain
``GET /v1/try/address_nonce/:address``          sig    same (TRY lives on the eth chain)
``GET /v1/tri/address_nonce/:address``          sig    same on the Trias chain (port addition)
``GET /v1/get_transaction_pending_status/``     none   ``{code, status|message}``, always 200
==============================================  =====  =====================================

The nonce uses the ``pending`` block tag (docs/spec/api.md §10 Q22); failures
answer the reference's ``500 {"error": "获取ETH地址信息失败，请稍后再试"}``.  The
pending-status route skips the client-version gate (Q27: it must always
answer 200).
"""

from __future__ import annotations

from bws.http.auth import NONE
from bws.http.request import ApiRequest
from bws.http.routing import Handler, Router


def _nonce_route(coin: str) -> Handler:
    async def handler(r: ApiRequest):
        return await r.service.get_address_nonce({"coin": coin, "address": r.params.get("address")})

    handler.__name__ = f"address_nonce_{coin}"
    return handler


def register(router: Router) -> None:
    """Add the ETH / Tri / TRY routes to ``router``."""
    for coin in ("eth", "try", "tri"):
        router.add("GET", f"/v1/{coin}/address_nonce/:address/")(_nonce_route(coin))

    @router.add("GET", "/v1/get_transaction_pending_status/", auth=NONE, version_gate=False)
    async def transaction_pending_status(r: ApiRequest):
        return await r.service.get_transaction_pending_status(
            {k: r.query_str(k) for k in ("coin", "network", "txid") if r.query_str(k) is not None}
        )
