"""APNs transport: HTTP/2 with token (JWT ES256) authentication, via httpx.

Not apns2: apns2 0.7.2 does not import on Python 3.10+ and its pins downgrade
h2/hyperframe, which breaks ``twisted.web`` (see docs/notifications.md).

Wire protocol (Apple Push Notification service, HTTP/2 only):
``POST {baseUrl}/3/device/<token>`` with headers ``authorization: bearer <JWT>``
(ES256, header ``kid`` = key id, claims ``iss`` = team id, ``iat``; refreshed
every 50 minutes), ``apns-topic`` (the app bundle id), ``apns-push-type: alert``,
``apns-priority: 10``, ``apns-id`` (UUID; echoed back), body
``{"aps": {"alert": {"title", "body"}, "sound": "default"}, ...custom keys}``.
200 = accepted. 410 ``Unregistered`` and 400 ``BadDeviceToken`` /
``DeviceTokenNotForTopic`` = the token is dead. 429 and 5xx = retry later.
Other 4xx = permanent failure.
"""

from __future__ import annotations

import json
import ssl
import time
from typing import Any, Optional

from bws.aio import as_deferred
from bws.delivery.outbox import PermanentError, TransientError
from pushservice.fcm import Unregistered

__all__ = ["ApnsSender"]

_DEAD = {"BadDeviceToken", "Unregistered", "DeviceTokenNotForTopic"}


class ApnsSender:
    def __init__(
        self,
        *,
        key_pem: bytes | str,
        key_id: str,
        team_id: str,
        topic: str,
        base_url: str = "https://api.push.apple.com",
        ca_file: str = "",
        timeout: float = 30.0,
        clock=time,
    ):
        self.key_pem = key_pem
        self.key_id = key_id
        self.team_id = team_id
        self.topic = topic
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.clock = clock
        self.verify: Any = ssl.create_default_context(cafile=ca_file) if ca_file else True
        self._client = None
        self._token: Optional[tuple[float, str]] = None

    def _jwt(self) -> str:
        import jwt

        now = self.clock.time()
        if self._token is None or now - self._token[0] > 50 * 60:
            tok = jwt.encode({"iss": self.team_id, "iat": int(now)}, self.key_pem, algorithm="ES256", headers={"kid": self.key_id})
            self._token = (now, tok)
        return self._token[1]

    def _http(self):
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(http2=True, base_url=self.base_url, verify=self.verify, timeout=self.timeout)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await as_deferred(self._client.aclose())
            self._client = None

    async def send(self, token: str, title: str, body: str, custom: dict[str, Any], apns_id: str) -> dict:
        payload = {"aps": {"alert": {"title": title, "body": body}, "sound": "default"}, **custom}
        headers = {
            "authorization": f"bearer {self._jwt()}",
            "apns-topic": self.topic,
            "apns-push-type": "alert",
            "apns-priority": "10",
            "apns-id": apns_id,
        }
        try:
            resp = await as_deferred(
                self._http().post(f"/3/device/{token}", content=json.dumps(payload).encode(), headers=headers)
            )
        except Exception as e:  # connection, TLS, timeout
            raise TransientError(f"APNs {type(e).__name__}: {e}") from e
        if resp.status_code == 200:
            return {"providerId": resp.headers.get("apns-id")}
        try:
            reason = resp.json().get("reason", "")
        except ValueError:
            reason = resp.text
        text = f"APNs {resp.status_code} {reason}"
        if resp.status_code == 410 or reason in _DEAD:
            raise Unregistered(text)
        if resp.status_code == 429 or resp.status_code >= 500 or reason == "ExpiredProviderToken":
            if reason == "ExpiredProviderToken":
                self._token = None
            raise TransientError(text)
        raise PermanentError(text)
