"""Wallet routes (docs/spec/api.md §4.2–§4.6; upstream bitcore-wallet-service
lib/expressapp.js): create, join, add access, status, support-staff lookup.

==========================================  =====  ===============================
``POST /v1/wallets/``                       none   create_wallet (no BIP44/P2PKH)
``POST /v2/wallets/``                       none   create_wallet
``PUT  /v1/copayers/:id/``                  none   add_access
``POST /v1/wallets/:id/copayers/``          none   join_wallet (no BIP44/P2PKH)
``POST /v2/wallets/:id/copayers/``          none   join_wallet
``GET  /v1/wallets/``                       sig    get_status (extended info)
``GET  /v2/wallets/?includeExtendedInfo=&twoStep=``  sig  get_status
``GET  /v1/wallets/:identifier/``           staff  get_status of the wallet found
==========================================  =====  ===============================
"""

from __future__ import annotations

from bws.http.auth import NONE, STAFF, staff_on
from bws.http.request import ApiRequest
from bws.http.routing import Router


def _status_opts(r: ApiRequest) -> dict:
    return {"includeExtendedInfo": r.query_flag("includeExtendedInfo"), "twoStep": r.query_flag("twoStep")}


def register(router: Router) -> None:
    """Add the wallet routes to ``router``."""

    @router.add("POST", "/v1/wallets/", auth=NONE)
    async def create_wallet_v1(r: ApiRequest):
        return await r.services.wallets.create_wallet(r.caller, {**r.body, "supportBIP44AndP2PKH": False})

    @router.add("POST", "/v2/wallets/", auth=NONE)
    async def create_wallet_v2(r: ApiRequest):
        return await r.services.wallets.create_wallet(r.caller, r.body)

    @router.add("PUT", "/v1/copayers/:id/", auth=NONE)
    async def add_access(r: ApiRequest):
        return await r.services.wallets.add_access(r.caller, {**r.body, "copayerId": r.params["id"]})

    @router.add("POST", "/v1/wallets/:id/copayers/", auth=NONE)
    async def join_wallet_v1(r: ApiRequest):
        opts = {**r.body, "walletId": r.params["id"], "supportBIP44AndP2PKH": False}
        return await r.services.wallets.join_wallet(r.caller, opts)

    @router.add("POST", "/v2/wallets/:id/copayers/", auth=NONE)
    async def join_wallet_v2(r: ApiRequest):
        return await r.services.wallets.join_wallet(r.caller, {**r.body, "walletId": r.params["id"]})

    @router.add("GET", "/v1/wallets/")
    async def wallet_status_v1(r: ApiRequest):
        return await r.services.wallets.get_status(r.caller, {"includeExtendedInfo": True})

    @router.add("GET", "/v2/wallets/")
    async def wallet_status_v2(r: ApiRequest):
        return await r.services.wallets.get_status(r.caller, _status_opts(r))

    @router.add("GET", "/v3/wallets/")  # TEMP (issue 17 txp tests): the wallets helper's route replaces it
    async def wallet_status_v3(r: ApiRequest):
        return await r.services.wallets.get_status(r.caller, _status_opts(r))

    @router.add("GET", "/v1/wallets/:identifier/", auth=STAFF)
    async def wallet_from_identifier(r: ApiRequest):
        wallets = r.services.wallets
        wallet_id = await wallets.get_wallet_from_identifier(r.caller, {"identifier": r.params["identifier"]})
        return await wallets.get_status(staff_on(r.caller, wallet_id), _status_opts(r)) if wallet_id else None
