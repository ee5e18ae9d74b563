"""``GET <basePath>/openapi.json``: the OpenAPI 3 description (bws/openapi.py).

No authentication and no client-version gate.  Built on first request from the
route table as it is then, and rebuilt if routes were added since."""

from __future__ import annotations

from typing import Any

from bws.api import NONE, ROUTES, ApiRequest

_cache: dict[tuple[str, int], dict[str, Any]] = {}


@ROUTES.add("GET", "/openapi.json", auth=NONE, version_gate=False)
async def openapi_json(r: ApiRequest):
    from bws.openapi import build_openapi

    base = r.service.options.get("basePath", "/bws/api")
    key = (base, len(ROUTES.routes))
    if key not in _cache:
        _cache[key] = build_openapi(ROUTES, base_path=base)
    return _cache[key]
