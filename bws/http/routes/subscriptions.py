"""Push-notification and transaction-confirmation subscriptions
(docs/spec/api.md §4.27).

==================================================  =====  ==================================
``POST   /v1/pushnotifications/subscriptions/``     sig    push_notifications_subscribe
``DELETE /v1/pushnotifications/subscriptions/``     sig    unsubscribe token "dummy" (as upstream)
``DELETE /v2/pushnotifications/subscriptions/:token/``  sig  push_notifications_unsubscribe
``POST   /v2/pushnotifications/subscriptions/``     sig    push_subscribe_v2 (bwc 10.x/11.x)
``DELETE /v3/pushnotifications/subscriptions/:externalUserId``  sig  push_unsubscribe_v3
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
        return await r.services.subscriptions.push_notifications_subscribe(r.caller, r.body)

    @router.add("DELETE", "/v1/pushnotifications/subscriptions/")
    async def push_unsubscribe_v1(r: ApiRequest):
        return await r.services.subscriptions.push_notifications_unsubscribe(r.caller, {"token": "dummy"})

    @router.add("DELETE", "/v2/pushnotifications/subscriptions/:token/")
    async def push_unsubscribe_v2(r: ApiRequest):
        return await r.services.subscriptions.push_notifications_unsubscribe(r.caller, {"token": r.params["token"]})

    @router.add("POST", "/v2/pushnotifications/subscriptions/")
    async def push_subscribe_v2(r: ApiRequest):
        return await r.services.subscriptions.push_subscribe_v2(r.caller, r.body)

    @router.add("DELETE", "/v3/pushnotifications/subscriptions/:externalUserId/")
    async def push_unsubscribe_v3(r: ApiRequest):
        opts = {"externalUserId": r.params["externalUserId"]}
        return await r.services.subscriptions.push_unsubscribe_v3(r.caller, opts)

    @router.add("POST", "/v1/txconfirmations/")
    async def txconfirmation_subscribe(r: ApiRequest):
        return await r.services.subscriptions.tx_confirmation_subscribe(r.caller, r.body)

    @router.add("DELETE", "/v1/txconfirmations/:txid/")
    async def txconfirmation_unsubscribe(r: ApiRequest):
        return await r.services.subscriptions.tx_confirmation_unsubscribe(r.caller, {"txid": r.params["txid"]})
