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
``GET  /v3/wallets/?…&serverMessageArray=&tokenAddress=…``  sig  get_status (v3)
``GET  /v1/wallets/all/``                   multi  get_status_all (x-identities)
``POST /v1/wallets/exist``                  none   wallets_exist
``GET  /v1/wallets/:identifier/``           staff  get_status of the wallet found
==========================================  =====  ===============================

``/v1/wallets/:identifier!all/``: the staff route never takes the literal
``all`` (bws/http/routing.py), so the bulk route is the only one for that path
(upstream registers the bulk route first; ours do not depend on order).
``walletCheck=1`` on the staff route is accepted: upstream re-syncs its
explorer's copy of the wallet's addresses first; ours reads balances from the
node on every status, so there is nothing to re-sync (docs/compatibility.md).
"""

from __future__ import annotations

from bws.http.auth import NONE, STAFF, AuthRequest, authenticate_identities, staff_on
from bws.http.request import ApiRequest
from bws.http.routing import Router
from bws.services.wallet_status import per_copayer_options


def _status_opts(r: ApiRequest) -> dict:
    return {"includeExtendedInfo": r.query_flag("includeExtendedInfo"), "twoStep": r.query_flag("twoStep")}


def _status_v3_opts(r: ApiRequest) -> dict:
    """The v3 / bulk status query (upstream ``routes/wallets.ts`` ``/v3/wallets/``)."""
    return {
        **_status_opts(r),
        "includeServerMessages": r.query_flag("serverMessageArray"),
        "tokenAddress": r.query_str("tokenAddress"),
        "multisigContractAddress": r.query_str("multisigContractAddress"),
        "network": r.query_str("network"),
        "numberFormat": r.query_str("numberFormat"),
    }


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

    @router.add("GET", "/v3/wallets/")
    async def wallet_status_v3(r: ApiRequest):
        return await r.services.wallets.get_status(r.caller, _status_v3_opts(r))

    @router.add("GET", "/v1/wallets/all/", auth=NONE)
    async def wallet_status_all(r: ApiRequest):
        # auth=NONE at the router: x-identities + one x-signature are checked here, per identity
        areq = AuthRequest(r.method, r.url, None, None, r.headers)
        identities = await authenticate_identities(r.services, areq)
        opts = {
            **_status_v3_opts(r),
            "silentFailure": r.query_flag("silentFailure"),
            "perCopayer": {cid: per_copayer_options(r.query, cid) for cid, _ in identities},
        }
        return await r.services.wallets.get_status_all(identities, opts)

    @router.add("POST", "/v1/wallets/exist", auth=NONE)
    async def wallets_exist(r: ApiRequest):
        return await r.services.wallets.wallets_exist(r.caller, r.body)

    @router.add("GET", "/v1/wallets/:identifier!all/", auth=STAFF)
    async def wallet_from_identifier(r: ApiRequest):
        wallets = r.services.wallets
        wallet_id = await wallets.get_wallet_from_identifier(r.caller, {"identifier": r.params["identifier"]})
        return await wallets.get_status(staff_on(r.caller, wallet_id), _status_opts(r)) if wallet_id else None
