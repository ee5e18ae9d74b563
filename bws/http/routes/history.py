"""Transaction history (docs/spec/api.md §4.22).

``GET /v1/txhistory/?skip=&limit=`` -> get_tx_history (signed copayers);
``skip``/``limit`` are read as JS ``+value`` and left out when not a finite
number.
"""

from __future__ import annotations

from bws.http.request import ApiRequest
from bws.http.routes.balance import refuse_unsupported
from bws.http.routing import Router


def _history_opts(r: ApiRequest) -> dict:
    refuse_unsupported(r)  # bwc 11.x tokenAddress / multisigContractAddress
    opts = {name: r.query_number(name) for name in ("skip", "limit")}
    return {k: v for k, v in opts.items() if v is not None}


def register(router: Router) -> None:
    """Add the history route to ``router``."""

    @router.add("GET", "/v1/txhistory/")
    async def tx_history(r: ApiRequest):
        return await r.services.history.get_tx_history(r.caller, _history_opts(r))
