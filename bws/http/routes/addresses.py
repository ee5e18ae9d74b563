"""Address routes (docs/spec/api.md §4.16, §4.23): new addresses, the main
address list, and the address scan.

==========================================  =====  ===============================
``POST /v1/addresses/``                     sig    create_address (gap ignored)
``POST /v2/addresses/``                     sig    create_address (gap ignored)
``POST /v3/addresses/``                     sig    create_address ({ignoreMaxGap})
``POST /v4/addresses/``                     sig    create_address ({ignoreMaxGap, isChange})
``GET  /v1/addresses/?limit=&reverse=``     sig    get_main_addresses
``GET  /v2/addresses/?limit=&skip=&...``    sig    get_addresses (bwc 10.x/11.x)
``POST /v1/addresses/scan/``                sig    start_scan
==========================================  =====  ===============================
"""

from __future__ import annotations

from typing import Any, Optional

from bws.errors import bad_request
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


def _count(text: Optional[str]) -> Any:
    """A ``skip``/``limit`` query value: int when it is one, else the text
    itself, which the service refuses (400) instead of ignoring."""
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return text


def _addresses_opts(r: ApiRequest) -> dict[str, Any]:
    """``GET /v2/addresses`` query -> get_addresses opts (upstream routes/walletdata.ts)."""
    opts: dict[str, Any] = {
        "reverse": r.query_flag("reverse"),
        "noChange": (r.query_str("noChange") or "").lower() in ("1", "true"),
        "skip": _count(r.query_str("skip")),
        "limit": _count(r.query_str("limit")),
    }
    addresses = r.query_str("addresses")
    if addresses:
        opts["addresses"] = addresses.split(",")
    return opts


def _v4_opts(body: dict) -> dict[str, Any]:
    """``POST /v4/addresses/`` body -> create_address opts: ``ignoreMaxGap``
    and ``isChange`` (booleans or null; anything else is 400 naming it)."""
    opts: dict[str, Any] = {}
    for name in ("ignoreMaxGap", "isChange"):
        value = body.get(name)
        if value is not None and not isinstance(value, bool):
            raise bad_request(f"Invalid {name}: expected a boolean")
        opts[name] = bool(value)
    return opts


def register(router: Router) -> None:
    """Add the address routes to ``router``."""

    @router.add("POST", "/v1/addresses/")
    async def create_address_v1(r: ApiRequest):
        return await r.services.addresses.create_address(r.caller, {"ignoreMaxGap": True})

    @router.add("POST", "/v2/addresses/")
    async def create_address_v2(r: ApiRequest):
        return await r.services.addresses.create_address(r.caller, {"ignoreMaxGap": True})

    @router.add("POST", "/v3/addresses/")
    async def create_address_v3(r: ApiRequest):
        return await r.services.addresses.create_address(r.caller, {"ignoreMaxGap": r.body.get("ignoreMaxGap")})

    @router.add("POST", "/v4/addresses/")
    async def create_address_v4(r: ApiRequest):
        return await r.services.addresses.create_address(r.caller, _v4_opts(r.body))

    @router.add("GET", "/v2/addresses/")
    async def addresses_v2(r: ApiRequest):
        return await r.services.addresses.get_addresses(r.caller, _addresses_opts(r))

    @router.add("GET", "/v1/addresses/")
    async def main_addresses(r: ApiRequest):
        return await r.services.addresses.get_main_addresses(r.caller, _main_addresses_opts(r))

    @router.add("POST", "/v1/addresses/scan/")
    async def start_scan(r: ApiRequest):
        opts = {"includeCopayerBranches": r.body.get("includeCopayerBranches")}
        return await r.services.scan.start_scan(r.caller, opts)
