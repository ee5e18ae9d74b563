"""Service version and statistics (docs/spec/api.md §2.1, §4.28): no
authentication and no client-version gate.

``GET /v1/version/`` -> get_service_version (``{serviceVersion}``);
``GET /v1/stats/?network=&coin=&from=YYYY-MM-DD&to=YYYY-MM-DD`` -> get_stats.
"""

from __future__ import annotations

from bws.http.auth import NONE
from bws.http.request import ApiRequest
from bws.http.routing import Router


def register(router: Router) -> None:
    """Add the version and stats routes to ``router``."""

    @router.add("GET", "/v1/version/", auth=NONE, version_gate=False)
    async def version(r: ApiRequest):
        return await r.service.get_service_version({})

    @router.add("GET", "/v1/stats/", auth=NONE, version_gate=False)
    async def stats(r: ApiRequest):
        return await r.service.get_stats(
            {k: r.query_str(k) for k in ("network", "coin", "from", "to") if r.query_str(k) is not None}
        )
