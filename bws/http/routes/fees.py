"""Fee level routes (docs/spec/api.md §4.18): no authentication.

``GET /v2/feelevels/?coin=&network=`` -> get_fee_levels;
``GET /v1/feelevels/?network=`` -> get_fee_levels for btc, with the v1
spelling ``feePerKB`` of each level's ``feePerKb``.
"""

from __future__ import annotations

from bws.http.auth import NONE
from bws.http.request import ApiRequest
from bws.http.routing import Router


def _v1_levels(levels: list[dict]) -> list[dict]:
    return [{("feePerKB" if k == "feePerKb" else k): v for k, v in lv.items()} for lv in levels]


def register(router: Router) -> None:
    """Add the fee level routes to ``router``."""

    @router.add("GET", "/v2/feelevels/", auth=NONE)
    async def fee_levels_v2(r: ApiRequest):
        return await r.service.get_fee_levels({k: r.query_str(k) for k in ("coin", "network") if r.query_str(k)})

    @router.add("GET", "/v1/feelevels/", auth=NONE)
    async def fee_levels_v1(r: ApiRequest):
        network = {"network": r.query_str("network")} if r.query_str("network") else {}
        return _v1_levels(await r.service.get_fee_levels({"coin": "btc", **network}))
