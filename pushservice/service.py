"""Push service: notification -> rendered pushes in ``push_deliveries`` -> FCM / APNs.

Pipeline for one notification (docs/spec/services.md §5, with the port's fixes):

1. same seven types as e-mail; missing wallet or ``NewTxProposal`` in a 1-of-N
   wallet → nothing;
2. recipients in wallet copayer order (bws/delivery/recipients.py ``push_recipients``):
   ``TxConfirmation`` → only its creator, every other type → everyone but the creator;
3. render title/body per (language, unit) from the ``.plain`` templates;
4. one row per (recipient, subscription token), deterministic id, inserted in
   one command (a replay inserts nothing); the payload ``data`` carries
   ``walletId``/``copayerId`` as SHA-256 hex, ``title``, ``body``, ``notification_type``
   as the reference did;
5. the outbox (bws/delivery/outbox.py) sends each row: platform ``ios`` goes to APNs when APNs is
   configured, everything else to FCM HTTP v1. A token the provider reports
   unregistered is removed from ``push_notification_subs`` (for every copayer).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from typing import Any, Optional

from bws.delivery.outbox import Outbox, PermanentError, new_row
from bws.delivery.recipients import push_recipients
from bws.delivery.templates import TEMPLATE_BY_TYPE, TemplateError, TemplateSet, build_template_data
from pushservice.fcm import Unregistered

log = logging.getLogger("pushservice")

COLLECTION = "push_deliveries"

__all__ = ["PushService", "sha256hex", "push_row_id"]


def sha256hex(text: str) -> str:
    return hashlib.sha256(str(text).encode("utf-8")).hexdigest()


def push_row_id(notification_id: str, copayer_id: str, token: str) -> str:
    return f"{notification_id}:{sha256hex(copayer_id + '|' + token)[:32]}"


class PushService:
    """``handle(notification)`` for the stream consumer.

    ``fcm``: has ``async send(token, title, body, data, package_name)``;
    ``apns``: has ``async send(token, title, body, custom, apns_id)`` or None.
    """

    def __init__(
        self,
        storage,
        opts,
        clock,
        *,
        fcm=None,
        apns=None,
        templates: Optional[TemplateSet] = None,
        max_attempts: int = 5,
        backoff: float = 30.0,
        lease_seconds: float = 120.0,
        poll_interval: float = 5.0,
    ):
        self.storage = storage
        self.opts = opts
        self.clock = clock
        self.fcm = fcm
        self.apns = apns
        self.templates = templates or TemplateSet(opts.templatePath)
        self.outbox = Outbox(
            storage,
            COLLECTION,
            self._send,
            clock,
            channel="push",
            max_attempts=max_attempts,
            backoff=backoff,
            lease_seconds=lease_seconds,
            poll_interval=poll_interval,
            logger=log,
        )

    def start(self) -> None:
        self.outbox.start()

    def stop(self) -> None:
        self.outbox.stop()

    def _transport(self, platform: Any) -> Optional[str]:
        if isinstance(platform, str) and platform.lower() == "ios" and self.apns is not None:
            return "apns"
        if self.fcm is not None:
            return "fcm"
        return None

    async def build_rows(self, notification: dict[str, Any]) -> list[dict[str, Any]]:
        basename = TEMPLATE_BY_TYPE.get(notification.get("type"))
        if not basename:
            return []
        wallet = await self.storage.wallets.fetch(notification.get("walletId"))
        if not wallet:
            return []
        try:
            prefs = await self.storage.preferences.fetch(notification["walletId"]) or []
        except Exception as e:  # the reference only logs preference errors
            log.warning("push: preferences of %s unavailable: %s", notification["walletId"], e)
            prefs = []
        recipients = push_recipients(
            notification, wallet, prefs, self.templates.languages, self.opts.defaultLanguage, self.opts.defaultUnit
        )
        if not recipients:
            return []
        prefix = (self.opts.subjectPrefix or "").strip()
        prefix = prefix + " " if prefix else ""
        contents: dict[tuple[str, str], Any] = {}
        rows = []
        now = self.clock.seconds()
        seq = 0
        for r in recipients:
            subs = await self.storage.subscriptions.fetch_push_subs(r.copayerId)
            if not subs:
                continue
            key = (r.language, r.unit)
            if key not in contents:
                data = build_template_data(notification, wallet, r.unit, prefix)
                contents[key] = self.templates.render(r.language, basename, data, html=False)
            c = contents[key]
            title, body = c.subject.strip(), c.body.strip()
            for sub in subs:
                transport = self._transport(sub.get("platform"))
                if transport is None:
                    log.warning("push: no transport configured for platform %r", sub.get("platform"))
                    continue
                rows.append(
                    new_row(
                        push_row_id(notification["id"], r.copayerId, sub["token"]),
                        notification["id"],
                        wallet_id=wallet["id"],
                        copayer_id=r.copayerId,
                        now=now,
                        seq=seq,
                        fields={
                            "token": sub["token"],
                            "platform": sub.get("platform"),
                            "packageName": sub.get("packageName"),
                            "transport": transport,
                            "language": r.language,
                            "unit": r.unit,
                            "title": title,
                            "body": body,
                            "data": {
                                "walletId": sha256hex(wallet["id"]),
                                "copayerId": sha256hex(r.copayerId),
                                "title": title,
                                "body": body,
                                "notification_type": notification["type"],
                            },
                        },
                    )
                )
                seq += 1
        return rows

    async def handle(self, notification: dict[str, Any]) -> int:
        try:
            rows = await self.build_rows(notification)
        except (TemplateError, ValueError) as e:
            log.error("push: notification %s not pushed: %s", notification.get("id"), e)
            return 0
        if not rows:
            return 0
        inserted = await self.storage.outbox.insert(COLLECTION, rows)
        self.outbox.kick()
        return inserted

    async def _send(self, row: dict[str, Any]):
        try:
            if row["transport"] == "apns":
                if self.apns is None:
                    raise PermanentError("APNs is not configured")
                apns_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "bws-push:" + row["id"]))
                custom = {k: v for k, v in row["data"].items() if k not in ("title", "body")}
                return await self.apns.send(row["token"], row["title"], row["body"], custom, apns_id)
            if self.fcm is None:
                raise PermanentError("FCM is not configured")
            return await self.fcm.send(row["token"], row["title"], row["body"], row["data"], row.get("packageName"))
        except Unregistered:
            n = await self.storage.subscriptions.remove_push_token(row["token"])
            log.info("push: token %s… unregistered; removed %d subscription(s)", row["token"][:8], n)
            raise
