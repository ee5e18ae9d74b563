"""HTTP routes of the transaction area (spec api.md §4.9–§4.15, §4.18, §4.19,
§4.21–§4.23), registered on :data:`bws.api.ROUTES` when imported.

Thin: each handler turns query/body/path into the service's ``opts`` and
returns the service's answer.  ``GET /v1/txproposals/`` (pending list) and the
retired ``POST /v1/txproposals/`` (UPGRADE_NEEDED) live in :mod:`bws.api`.

Routes (first match wins; none of these shadows another: the ``:id`` routes
have one more path segment than the collection routes):

==========================================  =====  ==============================
``GET  /v2/feelevels/?coin=&network=``      none   get_fee_levels
``GET  /v1/feelevels/?network=``            none   get_fee_levels (btc, feePerKB)
``GET  /v1/sendmaxinfo/``                   sig    get_send_max_info
``POST /v2/txproposals/``                   sig    create_tx
``POST /v1/txproposals/:id/publish/``       sig    publish_tx
``POST /v1/txproposals/:id/signatures/``    sig    sign_tx
``POST /v1/txproposals/:id/rejections/``    sig    reject_tx
``POST /v1/txproposals/:id/broadcast/``     sig    broadcast_tx
``DELETE /v1/txproposals/:id/``             sig    remove_pending_tx
``GET  /v1/txproposals/:id/``               sig    get_tx
``POST /v1/broadcast_raw/``                 sig    broadcast_raw_tx
``GET  /v1/txhistory/?skip=&limit=``        sig    get_tx_history
``POST /v1/addresses/scan/``                sig    start_scan
==========================================  =====  ==============================
"""

from __future__ import annotations

from typing import Any, Optional

from bws.api import ROUTES, ApiRequest
from bws.auth import NONE
from bws.jsnum import js_integral


def _number(text: Optional[str]) -> Any:
    """JS ``+text`` for a query value: int when integral and exact in a double,
    float otherwise, None when not a finite number (the option is then left out)."""
    if text is None or text.strip() == "":
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return js_integral(value)


# -- fee levels (§4.18) -----------------------------------------------------------


@ROUTES.add("GET", "/v2/feelevels/", auth=NONE)
async def fee_levels_v2(r: ApiRequest):
    opts = {k: r.query_str(k) for k in ("coin", "network") if r.query_str(k)}
    return await r.service.get_fee_levels(opts)


@ROUTES.add("GET", "/v1/feelevels/", auth=NONE)
async def fee_levels_v1(r: ApiRequest):
    opts = {"coin": "btc"}
    if r.query_str("network"):
        opts["network"] = r.query_str("network")
    levels = await r.service.get_fee_levels(opts)
    return [{("feePerKB" if k == "feePerKb" else k): v for k, v in lv.items()} for lv in levels]


# -- send max (§4.19) ----------------------------------------------------------------


@ROUTES.add("GET", "/v1/sendmaxinfo/")
async def send_max_info(r: ApiRequest):
    opts: dict[str, Any] = {}
    fee_per_kb = _number(r.query_str("feePerKb"))
    if fee_per_kb is not None:
        opts["feePerKb"] = fee_per_kb
    if r.query_str("feeLevel"):
        opts["feeLevel"] = r.query_str("feeLevel")
    if r.query_flag("excludeUnconfirmedUtxos"):
        opts["excludeUnconfirmedUtxos"] = True
    if r.query_flag("returnInputs"):
        opts["returnInputs"] = True
    return await r.service.get_send_max_info(opts)


# -- proposals (§4.9–§4.15) --------------------------------------------------------------


@ROUTES.add("POST", "/v2/txproposals/")
async def create_tx(r: ApiRequest):
    return await r.service.create_tx(r.body)


@ROUTES.add("POST", "/v1/txproposals/:id/publish/")
async def publish_tx(r: ApiRequest):
    return await r.service.publish_tx({**r.body, "txProposalId": r.params["id"]})


@ROUTES.add("POST", "/v1/txproposals/:id/signatures/")
async def sign_tx(r: ApiRequest):
    return await r.service.sign_tx({**r.body, "txProposalId": r.params["id"]})


@ROUTES.add("POST", "/v1/txproposals/:id/rejections/")
async def reject_tx(r: ApiRequest):
    return await r.service.reject_tx({**r.body, "txProposalId": r.params["id"]})


@ROUTES.add("POST", "/v1/txproposals/:id/broadcast/")
async def broadcast_tx(r: ApiRequest):
    return await r.service.broadcast_tx({"txProposalId": r.params["id"]})


@ROUTES.add("DELETE", "/v1/txproposals/:id/")
async def remove_pending_tx(r: ApiRequest):
    return await r.service.remove_pending_tx({"txProposalId": r.params["id"]})


@ROUTES.add("GET", "/v1/txproposals/:id/")
async def get_tx(r: ApiRequest):
    return await r.service.get_tx({"txProposalId": r.params["id"]})


# -- raw broadcast, history, scan (§4.21–§4.23) ----------------------------------------------


@ROUTES.add("POST", "/v1/broadcast_raw/")
async def broadcast_raw(r: ApiRequest):
    return await r.service.broadcast_raw_tx(r.body)


@ROUTES.add("GET", "/v1/txhistory/")
async def tx_history(r: ApiRequest):
    opts: dict[str, Any] = {}
    for name in ("skip", "limit"):
        value = _number(r.query_str(name))
        if value is not None:
            opts[name] = value
    return await r.service.get_tx_history(opts)


@ROUTES.add("POST", "/v1/addresses/scan/")
async def start_scan(r: ApiRequest):
    return await r.service.start_scan({"includeCopayerBranches": r.body.get("includeCopayerBranches")})
