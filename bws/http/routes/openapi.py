"""``GET <basePath>/openapi.json``: the OpenAPI 3 description (bws/http/openapi.py).

No authentication and no client-version gate.  Built on first request from the
router it is registered on, as that router is then, and rebuilt if routes were
added since.  The base path is given to :func:`register` by whoever builds the
router (the API's configured ``basePath``)."""

from __future__ import annotations

from typing import Any

from bws.http.auth import NONE
from bws.http.openapi import build_openapi
from bws.http.request import ApiRequest
from bws.http.routing import Router


def register(router: Router, *, base_path: str = "/bws/api") -> None:
    """Add ``GET /openapi.json`` to ``router``; base_path: the document's
    ``servers`` URL."""
    built: dict[int, dict[str, Any]] = {}  # route count -> document, this router only

    @router.add("GET", "/openapi.json", auth=NONE, version_gate=False)
    async def openapi_json(r: ApiRequest):
        key = len(router.routes)
        if key not in built:
            built.clear()
            built[key] = build_openapi(router, base_path=base_path)
        return built[key]
