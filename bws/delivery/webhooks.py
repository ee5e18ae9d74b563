"""Signed webhook delivery (added): every notification of a wallet → each registered URL.

Registration (and its routes) live in the wallet service
(bws/service/webhooks.py); this module delivers, in the pushservice process.

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

Destinations (SSRF guard, docs/security.md §8): before
every attempt the URL's host is resolved and checked
(bws/delivery/destinations.py DestinationPolicy); the POST then goes to that checked
address (the Host header and the TLS name stay the URL's), so a DNS answer
that changes after the check (rebinding) is never connected to. Redirects are
not followed. A refused destination and every connection-level failure
(refused, reset, timeout, TLS) are recorded as the same ``lastError``
(:data:`DELIVERY_FAILED`) so the deliveries list is no port scanner; the
process log has the detail for the operator.

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

from twisted.internet.endpoints import TCP4ClientEndpoint, TCP6ClientEndpoint, wrapClientTLS
from twisted.internet.error import ConnectError
from twisted.web.iweb import IAgentEndpointFactory
from zope.interface import implementer

from bws.delivery.destinations import DestinationPolicy, DestinationRefused
from bws.delivery.outbox import Outbox, PermanentError, TransientError, new_row

log = logging.getLogger("webhooks")

COLLECTION = "webhook_deliveries"

#: ``lastError`` of every attempt that got no HTTP answer, whatever the cause.
DELIVERY_FAILED = "delivery failed"

__all__ = ["WebhookService", "TreqPoster", "DELIVERY_FAILED", "sign", "verify_signature", "notification_body"]


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


@implementer(IAgentEndpointFactory)
class _PinnedEndpoints:
    """Connects every URI to one checked ``address``; TLS is verified against
    the URI's host name, and the Agent sends that name as Host."""

    def __init__(self, reactor, address: str, tls, timeout: float) -> None:
        self.reactor, self.address, self.tls, self.timeout = reactor, address, tls, timeout

    def endpointForURI(self, uri):
        cls = TCP6ClientEndpoint if ":" in self.address else TCP4ClientEndpoint
        endpoint = cls(self.reactor, self.address, uri.port, timeout=self.timeout)
        if uri.scheme == b"https":
            endpoint = wrapClientTLS(self.tls.creatorForNetloc(uri.host, uri.port), endpoint)
        return endpoint


class TreqPoster:
    """HTTP client for webhook POSTs (treq on the running reactor).

    Each attempt: :meth:`DestinationPolicy.addresses`, then one POST to the
    first checked address that accepts the connection (no redirects).
    ``tls``: IPolicyForHTTPS (default: the system's trust roots)."""

    def __init__(self, reactor, timeout: float = 10.0, policy: Optional[DestinationPolicy] = None, tls=None):
        self.reactor = reactor
        self.timeout = timeout
        self.policy = policy or DestinationPolicy()
        self.tls = tls

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """The HTTP status of the answer; :class:`TransientError` (:data:`DELIVERY_FAILED`) without one."""
        import treq
        from twisted.web.client import Agent, BrowserLikePolicyForHTTPS

        try:
            addresses = await self.policy.addresses(url)
        except DestinationRefused as e:
            log.warning("webhook destination refused: %s (url %s)", e, url)
            raise TransientError(DELIVERY_FAILED) from None
        tls = self.tls or BrowserLikePolicyForHTTPS()
        for address in addresses:
            agent = Agent.usingEndpointFactory(self.reactor, _PinnedEndpoints(self.reactor, address, tls, self.timeout))
            try:
                resp = await treq.client.HTTPClient(agent).post(
                    url, data=body, headers={k: [v] for k, v in headers.items()}, timeout=self.timeout,
                    allow_redirects=False,
                )
                await treq.content(resp)  # drain so the connection is released
                return resp.code
            except ConnectError as e:  # nothing was sent: the next address may answer
                log.info("webhook %s via %s: %s: %s", url, address, type(e).__name__, e)
            except Exception as e:  # reset, timeout, TLS
                log.info("webhook %s via %s: %s: %s", url, address, type(e).__name__, e)
                raise TransientError(DELIVERY_FAILED) from None
        raise TransientError(DELIVERY_FAILED)


class WebhookService:
    """``handle(notification)`` for the stream consumer; ``outbox`` posts and retries."""

    def __init__(self, storage, opts, clock, poster=None, *, reactor=None):
        self.storage = storage
        self.opts = opts
        self.clock = clock
        self.poster = poster or TreqPoster(reactor or clock, opts.timeout, DestinationPolicy(opts.allowPrivateNetworks))
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
        hooks = await self.storage.webhooks.fetch_for_wallet(wallet_id)
        if not hooks:
            return []
        body = notification_body(notification)
        now = self.clock.seconds()
        return [
            new_row(
                f"{notification['id']}:{h['id']}",
                notification["id"],
                wallet_id=wallet_id,
                copayer_id=h.get("copayerId"),
                now=now,
                seq=i,
                fields={"type": notification.get("type"), "webhookId": h["id"], "url": h["url"], "body": body},
            )
            for i, h in enumerate(hooks)
        ]

    async def handle(self, notification: dict[str, Any]) -> int:
        rows = await self.build_rows(notification)
        if not rows:
            return 0
        inserted = await self.storage.outbox.insert(COLLECTION, rows)
        self.outbox.kick()
        return inserted

    async def _send(self, row: dict[str, Any]) -> Optional[dict]:
        hook = await self.storage.webhooks.fetch(row["webhookId"])
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
            await self.storage.outbox.update(COLLECTION, row["id"], {"responseStatus": code})
            raise TransientError(f"HTTP {code}")
        return {"responseStatus": code, "url": url}
