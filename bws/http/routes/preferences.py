"""Preferences routes (docs/spec/api.md §4.7): the caller's preferences in
the wallet (email, language, unit, tokenAddresses...).

``GET /v1/preferences/`` -> get_preferences; ``PUT /v1/preferences/`` ->
save_preferences (signed copayers).
"""

from __future__ import annotations

from bws.http.request import ApiRequest
from bws.http.routing import Router


def register(router: Router) -> None:
    """Add the preferences routes to ``router``."""

    @router.add("GET", "/v1/preferences/")
    async def get_preferences(r: ApiRequest):
        return await r.service.get_preferences({})

    @router.add("PUT", "/v1/preferences/")
    async def save_preferences(r: ApiRequest):
        return await r.service.save_preferences(r.body)
