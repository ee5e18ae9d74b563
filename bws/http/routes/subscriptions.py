"""Push-notification and transaction-confirmation subscriptions
(docs/spec/api.md §4.27).

==================================================  =====  ==================================
``POST   /v1/pushnotifications/subscriptions/``     sig    push_notifications_subscribe
``DELETE /v1/pushnotifications/subscriptions/``     sig    unsubscribe token "dummy" (as upstream)
``DELETE /v2/pushnotifications/subscriptions/:token/``  sig  push_notifications_unsubscribe
``POST   /v1/txconfirmations/``                     sig    tx_confirmation_subscribe
``DELETE /v1/txconfirmations/:txid/``               sig    tx_confirmation_unsubscribe
==================================================  =====  ==================================
"""

from __future__ import annotations

from bws.http.request import ApiRequest
from bws.http.routing import Router


def register(router: Router) -> None:
    """Add the subscription routes to ``router``."""

    @router.add("POST", "/v1/pushnotifications/subscriptions/")
    async def push_subscribe(r: ApiRequest):
        return await r.service.push_notifications_subscribe(r.body)

    @router.add("DELETE", "/v1/pushnotifications/subscriptions/")
    async def push_unsubscribe_v1(r: ApiRequest):
        return await r.service.push_notifications_unsubscribe({"token": "dummy"})

    @router.add("DELETE", "/v2/pushnotifications/subscriptions/:token/")
    async def push_unsubscribe_v2(r: ApiRequest):
        return await r.service.push_notifications_unsubscribe({"token": r.params["token"]})

    @router.add("POST", "/v1/txconfirmations/")
    async def txconfirmation_subscribe(r: ApiRequest):
        return await r.service.tx_confirmation_subscribe(r.body)

    @router.add("DELETE", "/v1/txconfirmations/:txid/")
    async def txconfirmation_unsubscribe(r: ApiRequest):
        return await r.service.tx_confirmation_unsubscribe({"txid": r.params["txid"]})
