"""Webhook routes (a port addition, no reference has them; docs/notifications.md).
The rules, including the operator's ``webhookOpts``, are in
bws/service/webhooks.py.

==========================================  =====  ==========================
``POST   /v1/webhooks/`` ``{url, secret?}`` sig    webhook_register
``GET    /v1/webhooks/``                    sig    webhook_list
``DELETE /v1/webhooks/:id/``                sig    webhook_remove
``GET    /v1/webhooks/:id/deliveries/``     sig    webhook_deliveries
==========================================  =====  ==========================
"""

from __future__ import annotations

from bws.http.request import ApiRequest
from bws.http.routing import Router


def register(router: Router) -> None:
    """Add the webhook routes to ``router``."""

    @router.add("POST", "/v1/webhooks/")
    async def webhook_register(r: ApiRequest):
        return await r.service.webhook_register(r.body)

    @router.add("GET", "/v1/webhooks/")
    async def webhook_list(r: ApiRequest):
        return await r.service.webhook_list({})

    @router.add("DELETE", "/v1/webhooks/:id/")
    async def webhook_remove(r: ApiRequest):
        return await r.service.webhook_remove({"id": r.params["id"]})

    @router.add("GET", "/v1/webhooks/:id/deliveries/")
    async def webhook_deliveries(r: ApiRequest):
        return await r.service.webhook_deliveries({"id": r.params["id"]})
