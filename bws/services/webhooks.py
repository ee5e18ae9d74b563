"""Webhook registrations (added; no reference has them). Transport-free service logic.

A copayer registers one HTTPS callback URL per wallet; every notification of
that wallet is then POSTed to it, signed (see bws/delivery/webhooks.py and
docs/notifications.md). Routes (authenticated like every copayer route):

* ``POST /v1/webhooks/`` ``{url, secret?}`` → :func:`register_webhook`
* ``GET /v1/webhooks/`` → :func:`list_webhooks`
* ``DELETE /v1/webhooks/:id`` → :func:`remove_webhook`
* ``GET /v1/webhooks/:id/deliveries`` → :func:`list_webhook_deliveries`

The routes (bws/http/routes/webhooks.py) call :class:`Webhooks`'
methods, which apply the operator's webhook options.

A URL whose host does not resolve, or resolves to an address that is not
public (loopback, private, link-local such as 169.254.169.254, reserved,
multicast; odd spellings such as ``0x7f000001`` resolve like any other host)
is refused unless the operator allowed its network in
``webhookOpts.allowPrivateNetworks`` (bws/delivery/destinations.py DestinationPolicy;
delivery checks again, issue 15 finding 4).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any, Optional
from urllib.parse import urlsplit

from bws.errors import bad_request
from bws.model import constants as C
from bws.delivery.destinations import DestinationPolicy, DestinationRefused

from .base import Aggregate
from .context import Caller

__all__ = [
    "Webhooks",
    "register_webhook",
    "list_webhooks",
    "remove_webhook",
    "list_webhook_deliveries",
    "public_view",
]


def _check_url(url: Any, allow_http: bool) -> str:
    if not isinstance(url, str) or not url:
        raise bad_request("Required argument url missing.")
    if len(url) > C.MAX_URL_LENGTH:
        raise bad_request("Invalid url: too long")
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        raise bad_request("Invalid url: must be an https:// URL")
    if not parts.hostname:
        raise bad_request("Invalid url: no host")
    if parts.username or parts.password:
        raise bad_request("Invalid url: credentials are not allowed in the URL")
    try:
        parts.port
    except ValueError:
        raise bad_request("Invalid url: bad port") from None
    return url


#: one answer for "does not resolve" and "not public", so registration tells
#: nothing about the operator's internal names
NOT_PUBLIC = "Invalid url: the host must resolve to public addresses only"


def _check_secret(secret: Any) -> str:
    if secret is None:
        return secrets.token_hex(32)
    if not isinstance(secret, str) or not 16 <= len(secret) <= 256:
        raise bad_request("Invalid secret: must be a string of 16 to 256 characters")
    return secret


def public_view(hook: dict[str, Any]) -> dict[str, Any]:
    """A registration without its secret."""
    return {k: v for k, v in hook.items() if k not in ("secret", "_id")}


async def register_webhook(
    storage,
    wallet_id: str,
    copayer_id: str,
    args: dict[str, Any],
    *,
    allow_http: bool = False,
    policy: Optional[DestinationPolicy] = None,
    now: float,
) -> dict[str, Any]:
    """Create or replace the caller's webhook for its wallet.

    ``args``: ``url`` (required, https, its host resolving to addresses that
    ``policy`` allows: public ones by default), ``secret`` (optional, 16–256
    chars; generated when absent). Returns ``{id, walletId, copayerId, url,
    secret, createdOn, updatedOn}`` — the only response that contains the
    secret. ``now``: unix seconds from the caller's clock (``createdOn`` /
    ``updatedOn``). Errors: BADREQUEST "Invalid url: ..." / "Invalid secret: ...".
    """
    args = args or {}
    url = _check_url(args.get("url"), allow_http)
    secret = _check_secret(args.get("secret"))
    try:
        await (policy or DestinationPolicy()).addresses(url)
    except DestinationRefused:
        raise bad_request(NOT_PUBLIC) from None
    ts = int(now)
    existing = await storage.webhooks.fetch_for_wallet(wallet_id, copayer_id)
    hook = {
        "version": 1,
        "id": existing[0]["id"] if existing else str(uuid.uuid4()),
        "walletId": wallet_id,
        "copayerId": copayer_id,
        "url": url,
        "secret": secret,
        "createdOn": existing[0].get("createdOn", ts) if existing else ts,
        "updatedOn": ts,
    }
    await storage.webhooks.store(hook)
    return dict(hook)


async def list_webhooks(storage, wallet_id: str, copayer_id: str) -> list[dict[str, Any]]:
    """The caller's webhooks for its wallet (secrets omitted)."""
    return [public_view(h) for h in await storage.webhooks.fetch_for_wallet(wallet_id, copayer_id)]


async def remove_webhook(storage, wallet_id: str, copayer_id: str, webhook_id: str) -> dict[str, Any]:
    """Delete one of the caller's webhooks → ``{"ok": 1, "n": deleted}``."""
    if not isinstance(webhook_id, str) or not webhook_id:
        raise bad_request("Required argument id missing.")
    n = await storage.webhooks.remove(wallet_id, copayer_id, webhook_id)
    return {"ok": 1, "n": n}


async def list_webhook_deliveries(
    storage, wallet_id: str, copayer_id: str, webhook_id: str, limit: int = 50
) -> list[dict[str, Any]]:
    """The newest deliveries of one of the caller's webhooks (status, attempts, lastError, ...)."""
    hook = await storage.webhooks.fetch(webhook_id)
    if not hook or hook.get("walletId") != wallet_id or hook.get("copayerId") != copayer_id:
        raise bad_request("Webhook not found")
    rows = await storage.webhooks.fetch_deliveries(webhook_id, limit=max(1, min(int(limit), 500)))
    return [{k: v for k, v in r.items() if k not in ("body", "leaseUntil")} for r in rows]


class Webhooks(Aggregate):
    """The webhook routes' service methods: the caller's own registrations,
    with the operator's ``webhookOpts`` (tunables ``webhook_allow_http``,
    ``webhook_allow_private_networks``) applied here, not by the HTTP layer."""

    async def webhook_register(self, caller: Caller, opts: dict) -> dict[str, Any]:
        """``opts``: ``{url, secret?}`` -> :func:`register_webhook`'s answer
        (the secret included)."""
        return await register_webhook(
            self.storage,
            caller.wallet_id,
            caller.copayer_id,
            opts,
            allow_http=bool(self.tunables.webhook_allow_http),
            policy=DestinationPolicy(self.tunables.webhook_allow_private_networks),
            now=self.now_s(),
        )

    async def webhook_list(self, caller: Caller, opts: dict) -> list[dict[str, Any]]:
        """The caller's webhooks (:func:`list_webhooks`); ``opts`` unused."""
        return await list_webhooks(self.storage, caller.wallet_id, caller.copayer_id)

    async def webhook_remove(self, caller: Caller, opts: dict) -> dict[str, Any]:
        """``opts``: ``{id}`` -> ``{"ok": 1, "n": deleted}`` (:func:`remove_webhook`)."""
        return await remove_webhook(self.storage, caller.wallet_id, caller.copayer_id, opts.get("id"))

    async def webhook_deliveries(self, caller: Caller, opts: dict) -> list[dict[str, Any]]:
        """``opts``: ``{id}`` -> the newest deliveries (:func:`list_webhook_deliveries`)."""
        return await list_webhook_deliveries(self.storage, caller.wallet_id, caller.copayer_id, opts.get("id"))
