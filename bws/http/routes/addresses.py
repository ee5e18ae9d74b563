"""Address routes (docs/spec/api.md §4.16, §4.23): new addresses, the main
address list, and the address scan.

==========================================  =====  ===============================
``POST /v1/addresses/``                     sig    create_address (gap ignored)
``POST /v2/addresses/``                     sig    create_address (gap ignored)
``POST /v3/addresses/``                     sig    create_address ({ignoreMaxGap})
``GET  /v1/addresses/?limit=&reverse=``     sig    get_main_addresses
``POST /v1/addresses/scan/``                sig    start_scan
==========================================  =====  ===============================
"""

from __future__ import annotations

from typing import Any

from bws.http.request import ApiRequest
from bws.http.routing import Router


def _main_addresses_opts(r: ApiRequest) -> dict[str, Any]:
    opts: dict[str, Any] = {"reverse": r.query_flag("reverse")}
    limit = r.query_str("limit")
    if limit is not None:
        try:
            opts["limit"] = int(limit)
        except ValueError:
            pass  # +"abc" is NaN: no limit
    return opts


def register(router: Router) -> None:
    """Add the address routes to ``router``."""

    @router.add("POST", "/v1/addresses/")
    async def create_address_v1(r: ApiRequest):
        return await r.service.create_address({"ignoreMaxGap": True})

    @router.add("POST", "/v2/addresses/")
    async def create_address_v2(r: ApiRequest):
        return await r.service.create_address({"ignoreMaxGap": True})

    @router.add("POST", "/v3/addresses/")
    async def create_address_v3(r: ApiRequest):
        return await r.service.create_address({"ignoreMaxGap": r.body.get("ignoreMaxGap")})

    @router.add("GET", "/v1/addresses/")
    async def main_addresses(r: ApiRequest):
        return await r.service.get_main_addresses(_main_addresses_opts(r))

    @router.add("POST", "/v1/addresses/scan/")
    async def start_scan(r: ApiRequest):
        return await r.service.start_scan({"includeCopayerBranches": r.body.get("includeCopayerBranches")})
