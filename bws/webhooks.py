"""Signed webhook delivery (added): every notification of a wallet → each registered URL.

Wire protocol (one HTTP request per delivery attempt)::

    POST <registered url>
    Content-Type: application/json
    User-Agent: bws-twisted-webhooks/1
    X-BWS-Event: <notification type>
    X-BWS-Delivery: <delivery id = "<notificationId>:<webhookId>", same on every retry>
    X-BWS-Webhook-Id: <webhook id>
    X-BWS-Timestamp: <unix seconds of this attempt>
    X-BWS-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>

    <body: the notification as JSON — {"version","createdOn","id","type","data","walletId","creatorId"?}>

Any 2xx answer = delivered. Anything else (non-2xx, timeout, connection
error) is retried with exponential backoff (``retryBackoff * 2**(attempt-1)``,
capped at ``maxBackoff``) up to ``maxAttempts``. Every attempt is recorded in
``webhook_deliveries`` (status, attempts, lastAttemptOn, lastError, responseStatus).
The body bytes are fixed when the delivery is queued, so every retry signs and
sends the same body; receivers should drop repeats by ``X-BWS-Delivery`` and
reject timestamps older than a few minutes (replay protection).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any, Optional

from bws.outbox import Outbox, PermanentError, TransientError

log = logging.getLogger("webhooks")

COLLECTION = "webhook_deliveries"

__all__ = ["WebhookService", "TreqPoster", "sign", "verify_signature", "notification_body"]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, ``"<timestamp>." + body``)."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """Receiver-side check (constant time)."""
    return hmac.compare_digest(sign(secret, timestamp, body), header or "")


_FIELDS = ("version", "createdOn", "id", "type", "data", "walletId", "creatorId")


def notification_body(notification: dict[str, Any]) -> str:
    return json.dumps({k: notification[k] for k in _FIELDS if k in notification}, separators=(",", ":"), default=str)


class TreqPoster:
    """HTTP client for webhook POSTs (treq on the running reactor)."""

    def __init__(self, reactor, timeout: float = 10.0):
        self.reactor = reactor
        self.timeout = timeout

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        import treq

        try:
            resp = await treq.post(
                url, data=body, headers={k: [v] for k, v in headers.items()}, timeout=self.timeout, reactor=self.reactor
            )
            await treq.content(resp)  # drain so the connection is released
        except Exception as e:  # connection refused, TLS, timeout
            raise TransientError(f"{type(e).__name__}: {e}") from e
        return resp.code


class WebhookService:
    """``handle(notification)`` for the stream consumer; ``outbox`` posts and retries."""

    def __init__(self, storage, opts, clock, poster=None, *, reactor=None):
        self.storage = storage
        self.opts = opts
        self.clock = clock
        self.poster = poster or TreqPoster(reactor or clock, opts.timeout)
        self.outbox = Outbox(
            storage,
            COLLECTION,
            self._send,
            clock,
            channel="webhook",
            max_attempts=opts.maxAttempts,
            backoff=opts.retryBackoff,
            max_backoff=opts.maxBackoff,
            lease_seconds=opts.leaseSeconds,
            poll_interval=opts.pollInterval,
            logger=log,
        )

    def start(self) -> None:
        self.outbox.start()

    def stop(self) -> None:
        self.outbox.stop()

    async def build_rows(self, notification: dict[str, Any]) -> list[dict[str, Any]]:
        wallet_id = notification.get("walletId")
        if not wallet_id or not notification.get("id"):
            return []
        hooks = await self.storage.fetch_webhooks(wallet_id)
        if not hooks:
            return []
        body = notification_body(notification)
        now = self.clock.seconds()
        return [
            {
                "id": f"{notification['id']}:{h['id']}",
                "notificationId": notification["id"],
                "type": notification.get("type"),
                "webhookId": h["id"],
                "walletId": wallet_id,
                "copayerId": h.get("copayerId"),
                "url": h["url"],
                "body": body,
                "status": "pending",
                "attempts": 0,
                "createdOn": int(now),
                "lastAttemptOn": None,
                "nextAttemptOn": now,
                "leaseUntil": None,
                "seq": i,
            }
            for i, h in enumerate(hooks)
        ]

    async def handle(self, notification: dict[str, Any]) -> int:
        rows = await self.build_rows(notification)
        if not rows:
            return 0
        inserted = await self.storage.outbox_insert(COLLECTION, rows)
        self.outbox.kick()
        return inserted

    async def _send(self, row: dict[str, Any]) -> Optional[dict]:
        hook = await self.storage.fetch_webhook(row["webhookId"])
        if not hook:
            raise PermanentError("webhook was removed")
        url = hook["url"]  # follow a re-registration to a new URL
        body = row["body"].encode("utf-8")
        ts = str(int(self.clock.seconds()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "bws-twisted-webhooks/1",
            "X-BWS-Event": str(row.get("type") or ""),
            "X-BWS-Delivery": row["id"],
            "X-BWS-Webhook-Id": row["webhookId"],
            "X-BWS-Timestamp": ts,
            "X-BWS-Signature": sign(hook["secret"], ts, body),
        }
        code = await self.poster.post(url, body, headers)
        if not 200 <= code < 300:
            await self.storage.outbox_update(COLLECTION, row["id"], {"responseStatus": code})
            raise TransientError(f"HTTP {code}")
        return {"responseStatus": code, "url": url}
