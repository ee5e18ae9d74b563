"""Session and notification routes (docs/spec/api.md §3.5, §4.24).

``POST /v1/login/`` -> login (a session token); ``POST /v1/logout/`` ->
logout; ``GET /v1/notifications/?timeSpan=&notificationId=`` ->
get_notifications, the one route that accepts ``x-session`` instead of a
signature (auth ``session``).
"""

from __future__ import annotations

from bws.http.auth import SESSION
from bws.http.request import ApiRequest
from bws.http.routing import Router


def register(router: Router) -> None:
    """Add the session and notification routes to ``router``."""

    @router.add("POST", "/v1/login/")
    async def login(r: ApiRequest):
        return await r.service.login({})

    @router.add("POST", "/v1/logout/")
    async def logout(r: ApiRequest):
        return await r.service.logout({})

    @router.add("GET", "/v1/notifications/", auth=SESSION)
    async def notifications(r: ApiRequest):
        return await r.service.get_notifications(
            {"timeSpan": r.query_str("timeSpan"), "notificationId": r.query_str("notificationId")}
        )
