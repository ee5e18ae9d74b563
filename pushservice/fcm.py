"""FCM HTTP v1 transport through pyfcm (blocking requests, run in a thread).

Wire protocol (Firebase Cloud Messaging HTTP v1): OAuth2 access token from the
service account (JWT bearer grant to the account's ``token_uri``), then
``POST {endpointBase}/{projectId}/messages:send`` with
``Authorization: Bearer <token>`` and ``{"message": {"token", "notification":
{"title","body"}, "data": {...strings}, "android": {...}}, "validate_only": false}``.
200 → ``{"name": "projects/p/messages/<id>"}``; 404 UNREGISTERED → the token is
dead; 5xx/429/network errors → retry later. The legacy ``/fcm/send`` endpoint
with a server key was retired by Google and is not implemented.
"""

from __future__ import annotations

from typing import Any, Optional

from twisted.internet import threads

from bws.delivery.outbox import PermanentError, TransientError

__all__ = ["FcmSender", "Unregistered"]


class Unregistered(PermanentError):
    """The provider says the device token is not (or no longer) registered."""


class FcmSender:
    """``endpoint_base``: ``https://fcm.googleapis.com/v1/projects`` (tests: a local fake).
    Credentials: a service-account JSON file, or ``credentials`` (a google-auth object)."""

    def __init__(
        self,
        reactor,
        *,
        service_account_file: str = "",
        project_id: str = "",
        endpoint_base: str = "https://fcm.googleapis.com/v1/projects",
        credentials: Any = None,
        timeout: float = 30.0,
    ):
        from pyfcm import FCMNotification
        from requests.adapters import HTTPAdapter

        cls = type("BwsFCMNotification", (FCMNotification,), {"FCM_END_POINT_BASE": endpoint_base.rstrip("/")})
        self.reactor = reactor
        self.timeout = timeout
        self.client = cls(
            service_account_file=service_account_file or None,
            project_id=project_id or None,
            credentials=credentials,
            # No hidden in-thread retries (pyfcm retries 502/503 with sleeps by default):
            # the outbox retries with durable state and backoff instead.
            adapter=HTTPAdapter(max_retries=0),
        )

    def _notify(self, token: str, title: str, body: str, data: dict[str, str], package_name: Optional[str]):
        from pyfcm import errors

        android: dict[str, Any] = {
            "priority": "high",
            "notification": {"sound": "default", "click_action": "FCM_PLUGIN_ACTIVITY", "icon": "fcm_push_icon"},
        }
        if package_name:
            android["restricted_package_name"] = package_name
        try:
            return self.client.notify(
                fcm_token=token,
                notification_title=title,
                notification_body=body,
                data_payload=data,
                android_config=android,
                timeout=self.timeout,
            )
        except errors.FCMNotRegisteredError as e:
            raise Unregistered(f"FCM: token not registered ({e})") from e
        except (errors.InvalidDataError, errors.FCMSenderIdMismatchError) as e:
            raise PermanentError(f"FCM: {type(e).__name__}: {e}") from e
        except Exception as e:  # FCMServerError, AuthenticationError, requests errors
            raise TransientError(f"FCM: {type(e).__name__}: {e}") from e

    async def send(self, token: str, title: str, body: str, data: dict[str, str], package_name: Optional[str] = None) -> dict:
        result = await threads.deferToThreadPool(
            self.reactor, self.reactor.getThreadPool(), self._notify, token, title, body, data, package_name
        )
        return {"providerId": (result or {}).get("name")}
