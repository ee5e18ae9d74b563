"""Operations routes: ``GET /v1/health`` (readiness, for start.sh and load balancers).

The checks live in bws/http/health.py; this handler only maps their result onto
200 ``{"status": "ok", "checks": {...}}`` or 503 ``{"status": "fail", "checks": {...}}``
(every check is listed either way, each ``{"ok", "ms", ...}``; failed ones carry
``error``). No authentication and no client-version gate: probes are not wallet
clients. Prometheus ``/metrics`` is served at the server root, outside basePath
(bws/http/metrics.py).
"""

from __future__ import annotations

from bws.http.auth import NONE
from bws.http.health import check_health
from bws.http.request import ApiRequest, HttpError
from bws.http.routing import Router


def register(router: Router) -> None:
    """Add the health route to ``router``."""

    @router.add("GET", "/v1/health/", auth=NONE, version_gate=False)
    async def health(r: ApiRequest):
        ok, checks = await check_health(r.services, clock=r.services.clock)
        body = {"status": "ok" if ok else "fail", "checks": checks}
        if not ok:
            raise HttpError(503, body)
        return body
