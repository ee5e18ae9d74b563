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

Destinations (SSRF guard, issue 15 finding 4; docs/security.md §8): before
every attempt the URL's host is resolved as the HTTP client would
(``getaddrinfo``: ``0x7f000001``, ``2130706433``, ``127.1`` are 127.0.0.1) and
every address must be public (:func:`address_allowed`) or inside
``webhookOpts.allowPrivateNetworks``; the POST then goes to that checked
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
import ipaddress
import json
import logging
import socket
from typing import Any, Awaitable, Callable, Iterable, Optional
from urllib.parse import urlsplit

from twisted.internet.endpoints import TCP4ClientEndpoint, TCP6ClientEndpoint, wrapClientTLS
from twisted.internet.error import ConnectError
from twisted.web.iweb import IAgentEndpointFactory
from zope.interface import implementer

from bws.outbox import Outbox, PermanentError, TransientError

log = logging.getLogger("webhooks")

COLLECTION = "webhook_deliveries"

#: ``lastError`` of every attempt that got no HTTP answer, whatever the cause.
DELIVERY_FAILED = "delivery failed"

__all__ = [
    "WebhookService", "TreqPoster", "DestinationPolicy", "DestinationRefused", "address_allowed", "resolve_host",
    "DELIVERY_FAILED", "sign", "verify_signature", "notification_body",
]


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


# -- destinations (SSRF guard) -------------------------------------------------------

#: NAT64 well-known prefix (RFC 6052): the low 32 bits are an IPv4 address.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class DestinationRefused(Exception):
    """The URL's host does not resolve, or resolves to an address webhooks may not reach."""


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified
    )


def address_allowed(address: str, allowed: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network] = ()) -> bool:
    """True when a webhook may connect to ``address`` (an IP literal, IPv6 zone allowed).

    Public (``is_global`` and none of private, loopback, link-local, reserved,
    multicast, unspecified), or inside one of the ``allowed`` networks. An IPv6
    address that carries an IPv4 one (IPv4-mapped ``::ffff:a.b.c.d``, NAT64
    ``64:ff9b::/96``) is judged by that IPv4 address; 6to4 and Teredo
    addresses need their embedded IPv4 address to pass as well."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    allowed = list(allowed)
    if any(ip.version == net.version and ip in net for net in allowed):
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if inner is not None:
            return address_allowed(str(inner), allowed)
        tunnel = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if tunnel is not None and not address_allowed(str(tunnel), allowed):
            return False
    return _is_public(ip)


async def resolve_host(host: str, port: int) -> list[str]:
    """The addresses ``getaddrinfo`` gives for ``host`` (what the system's HTTP
    clients connect to), in its order, without duplicates; raises ``OSError``."""
    from twisted.internet.threads import deferToThread

    infos = await deferToThread(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


class DestinationPolicy:
    """Which webhook URLs may be contacted: used at registration (API process)
    and before every delivery attempt (pushservice).

    allowed_networks: CIDR strings (``webhookOpts.allowPrivateNetworks``) whose
    addresses are allowed although not public; resolve: ``async (host, port)
    -> [address]`` (default :func:`resolve_host`)."""

    def __init__(
        self,
        allowed_networks: Iterable[str] = (),
        resolve: Optional[Callable[[str, int], Awaitable[list[str]]]] = None,
    ) -> None:
        self.allowed = [ipaddress.ip_network(n) for n in allowed_networks]
        self.resolve = resolve or resolve_host

    async def addresses(self, url: str) -> list[str]:
        """The checked addresses of ``url``'s host; raises :class:`DestinationRefused`
        when it has none or any of them is not allowed (a mixed answer is refused whole)."""
        parts = urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise DestinationRefused("invalid port") from None
        host = parts.hostname
        if not host:
            raise DestinationRefused("no host")
        try:
            found = await self.resolve(host, port)
        except (OSError, UnicodeError) as e:
            raise DestinationRefused(f"{host} does not resolve ({e})") from None
        if not found:
            raise DestinationRefused(f"{host} does not resolve")
        refused = [a for a in found if not address_allowed(a, self.allowed)]
        if refused:
            raise DestinationRefused(
                f"{host} resolves to {', '.join(refused)}: not public and not in webhookOpts.allowPrivateNetworks"
            )
        return found


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
