"""Transaction note routes (docs/spec/api.md §4.25).

``GET /v1/txnotes/:txid/`` -> get_tx_note; ``PUT /v1/txnotes/:txid/``
``{body}`` -> edit_tx_note; ``GET /v1/txnotes/?minTs=`` -> get_tx_notes
(signed copayers).
"""

from __future__ import annotations

from bws.http.request import ApiRequest
from bws.http.routing import Router


def register(router: Router) -> None:
    """Add the tx note routes to ``router``."""

    @router.add("GET", "/v1/txnotes/:txid/")
    async def get_tx_note(r: ApiRequest):
        return await r.service.get_tx_note({"txid": r.params["txid"]})

    @router.add("PUT", "/v1/txnotes/:txid/")
    async def edit_tx_note(r: ApiRequest):
        return await r.service.edit_tx_note({**r.body, "txid": r.params["txid"]})

    @router.add("GET", "/v1/txnotes/")
    async def get_tx_notes(r: ApiRequest):
        return await r.service.get_tx_notes({"minTs": r.query_str("minTs")})
