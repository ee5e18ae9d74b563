"""Operations routes: ``GET /v1/health`` (readiness, for start.sh and load balancers).

The checks live in :mod:`bws.health`; this handler only maps their result onto
200 ``{"status": "ok", "checks": {...}}`` or 503 ``{"status": "fail", "checks": {...}}``
(every check is listed either way, each ``{"ok", "ms", ...}``; failed ones carry
``error``). No authentication and no client-version gate: probes are not wallet
clients. Prometheus ``/metrics`` is served at the server root, outside basePath
(bws/metrics.py).
"""

from __future__ import annotations

from bws.api import NONE, ROUTES, ApiRequest, HttpError
from bws.health import check_health


@ROUTES.add("GET", "/v1/health/", auth=NONE, version_gate=False)
async def health(r: ApiRequest):
    ok, checks = await check_health(r.service)
    body = {"status": "ok" if ok else "fail", "checks": checks}
    if not ok:
        raise HttpError(503, body)
    return body
