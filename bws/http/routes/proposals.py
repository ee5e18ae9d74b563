"""Transaction proposal routes (docs/spec/api.md §3.7, §4.8–§4.15, §4.19,
docs/spec/api.md §4.21; upstream bitcore-wallet-service lib/expressapp.js).

Thin: each handler turns query/body/path into the service's ``opts`` and
returns the service's answer.

==========================================  =====  ==============================
``GET  /v1/txproposals/``                   sig    get_pending_txs
``GET  /v1/txproposals/:id/``               sig    get_tx
``POST /v1/txproposals/``                   none   retired: UPGRADE_NEEDED
``POST /v2/txproposals/``                   sig    create_tx
``POST /v1/txproposals/:id/publish/``       sig    publish_tx
``POST /v1/txproposals/:id/signatures/``    sig    sign_tx
``POST /v1/txproposals/:id/rejections/``    sig    reject_tx
``POST /v1/txproposals/:id/broadcast/``     sig    broadcast_tx
``DELETE /v1/txproposals/:id/``             sig    remove_pending_tx
``POST /v1/broadcast_raw/``                 sig    broadcast_raw_tx
``GET  /v1/sendmaxinfo/``                   sig    get_send_max_info
``POST /v3/txproposals/``                   sig    create_tx_v3 (bwc 10.x/11.x)
``GET  /v2/txproposals/``                   sig    get_pending_txs ({numberFormat})
``POST /v2/txproposals/:id/publish/``       sig    publish_tx ({numberFormat})
``POST /v2/txproposals/:id/signatures/``    sig    sign_tx ({numberFormat})
``GET  /v1/txproposalsbyhash/:txid/``       sig    get_tx_by_hash (caller's wallet)
``GET  /v1/txcoins/?coin=&network=&txId=``  sig    get_coins_for_tx
==========================================  =====  ==============================

The v3/v4 routes (docs/spec/protocol-bwc11.md §3.3) pass the ``numberFormat``
query to the service, which accepts only the rendering it has.
"""

from __future__ import annotations

from typing import Any

from bws.errors import Errors
from bws.http.auth import NONE
from bws.http.request import ApiRequest
from bws.http.routing import Router


def _send_max_opts(r: ApiRequest) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    fee_per_kb = r.query_number("feePerKb")
    if fee_per_kb is not None:
        opts["feePerKb"] = fee_per_kb
    if r.query_str("feeLevel"):
        opts["feeLevel"] = r.query_str("feeLevel")
    if r.query_flag("excludeUnconfirmedUtxos"):
        opts["excludeUnconfirmedUtxos"] = True
    if r.query_flag("returnInputs"):
        opts["returnInputs"] = True
    return opts


def _with_format(r: ApiRequest, opts: dict) -> dict:
    """``opts`` plus the ``numberFormat`` query when given."""
    fmt = r.query_str("numberFormat")
    return {**opts, "numberFormat": fmt} if fmt is not None else opts


def _txcoins_opts(r: ApiRequest) -> dict[str, Any]:
    return {name: r.query_str(name) for name in ("coin", "chain", "network", "txId")}


def register(router: Router) -> None:
    """Add the proposal routes to ``router``."""

    @router.add("GET", "/v1/txproposals/")
    async def pending_txps(r: ApiRequest):
        return await r.services.proposals.get_pending_txs(r.caller, {})

    @router.add("GET", "/v1/txproposals/:id/")
    async def get_tx(r: ApiRequest):
        return await r.services.proposals.get_tx(r.caller, {"txProposalId": r.params["id"]})

    @router.add("POST", "/v1/txproposals/", auth=NONE, version_gate=False)
    async def create_tx_v1(r: ApiRequest):
        raise Errors.UPGRADE_NEEDED

    @router.add("POST", "/v2/txproposals/")
    async def create_tx(r: ApiRequest):
        return await r.services.proposals.create_tx(r.caller, r.body)

    @router.add("POST", "/v1/txproposals/:id/publish/")
    async def publish_tx(r: ApiRequest):
        return await r.services.proposals.publish_tx(r.caller, {**r.body, "txProposalId": r.params["id"]})

    @router.add("POST", "/v1/txproposals/:id/signatures/")
    async def sign_tx(r: ApiRequest):
        return await r.services.proposals.sign_tx(r.caller, {**r.body, "txProposalId": r.params["id"]})

    @router.add("POST", "/v1/txproposals/:id/rejections/")
    async def reject_tx(r: ApiRequest):
        return await r.services.proposals.reject_tx(r.caller, {**r.body, "txProposalId": r.params["id"]})

    @router.add("POST", "/v1/txproposals/:id/broadcast/")
    async def broadcast_tx(r: ApiRequest):
        return await r.services.proposals.broadcast_tx(r.caller, {"txProposalId": r.params["id"]})

    @router.add("DELETE", "/v1/txproposals/:id/")
    async def remove_pending_tx(r: ApiRequest):
        return await r.services.proposals.remove_pending_tx(r.caller, {"txProposalId": r.params["id"]})

    @router.add("POST", "/v1/broadcast_raw/")
    async def broadcast_raw(r: ApiRequest):
        return await r.services.chain.broadcast_raw_tx(r.caller, r.body)

    @router.add("POST", "/v3/txproposals/")
    async def create_tx_v3(r: ApiRequest):
        return await r.services.proposals.create_tx_v3(r.caller, _with_format(r, r.body))

    @router.add("GET", "/v2/txproposals/")
    async def pending_txps_v2(r: ApiRequest):
        return await r.services.proposals.get_pending_txs(r.caller, _with_format(r, {}))

    @router.add("POST", "/v2/txproposals/:id/publish/")
    async def publish_tx_v2(r: ApiRequest):
        opts = _with_format(r, {**r.body, "txProposalId": r.params["id"]})
        return await r.services.proposals.publish_tx(r.caller, opts)

    @router.add("POST", "/v2/txproposals/:id/signatures/")
    async def sign_tx_v2(r: ApiRequest):
        opts = _with_format(r, {**r.body, "txProposalId": r.params["id"]})
        return await r.services.proposals.sign_tx(r.caller, opts)

    @router.add("GET", "/v1/txproposalsbyhash/:txid/")
    async def tx_by_hash(r: ApiRequest):
        return await r.services.proposals.get_tx_by_hash(r.caller, {"txid": r.params["txid"]})

    @router.add("GET", "/v1/txcoins/")
    async def coins_for_tx(r: ApiRequest):
        return await r.services.proposals.get_coins_for_tx(r.caller, _txcoins_opts(r))

    @router.add("GET", "/v1/sendmaxinfo/")
    async def send_max_info(r: ApiRequest):
        return await r.services.proposals.get_send_max_info(r.caller, _send_max_opts(r))
