"""E-mail service: notification -> rendered e-mails in ``email_queue`` -> SMTP.

Pipeline for one notification (docs/spec/services.md §4.3, with the port's fixes):

1. unknown type, missing wallet, or ``NewTxProposal`` in a 1-of-N wallet → nothing;
2. recipients from the wallet's preferences (bws/delivery/recipients.py ``email_recipients``);
3. render every recipient's subject/plain/HTML body (per language *and* unit);
   a render error stores and sends nothing;
4. insert one Email row per recipient, status ``pending``, with a deterministic
   id (``pad14(notification ms) + uuid5(notificationId, address)``), all in one
   command — a replay of the notification inserts nothing;
5. the outbox (bws/delivery/outbox.py) sends pending rows (``sent`` on success,
   ``fail`` + backoff retry on SMTP errors, give up after ``maxAttempts``).
"""

from __future__ import annotations

import logging
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from datetime import datetime, timezone
from typing import Any, Optional

from bws.delivery.outbox import Outbox, new_row
from bws.delivery.recipients import email_recipients
from bws.delivery.templates import TEMPLATE_BY_TYPE, TemplateError, TemplateSet, build_template_data

log = logging.getLogger("emailservice")

COLLECTION = "email_queue"
_NS = uuid.UUID("6f0c5a52-4d2b-4a8e-9d0f-0b3b8f2f7e11")

__all__ = ["EmailService", "build_message", "email_row_id"]


def email_row_id(notification_id: str, address: str) -> str:
    """Deterministic Email id in the reference format (14-digit ms + UUID, 50 chars)."""
    return notification_id[:14] + str(uuid.uuid5(_NS, f"{notification_id}|{address.strip().lower()}"))


def build_message(row: dict[str, Any], domain: str = "bws.localhost") -> bytes:
    """RFC 5322 bytes for one Email row (plain, plus HTML alternative when present)."""
    msg = EmailMessage()
    msg["Subject"] = row["subject"]
    msg["From"] = row["from"]
    msg["To"] = row["to"]
    msg["Date"] = format_datetime(datetime.fromtimestamp(row.get("createdOn") or 0, tz=timezone.utc))
    # Stable per (notification, recipient): a repeat after a crash is recognisable.
    msg["Message-ID"] = f"<{row['id']}@{domain}>"
    msg["X-BWS-Notification-Id"] = str(row.get("notificationId") or "")
    msg.set_content(row.get("bodyPlain") or "")
    if row.get("bodyHtml"):
        msg.add_alternative(row["bodyHtml"], subtype="html")
    return msg.as_bytes()


class EmailService:
    """``handle(notification)`` for the stream consumer; ``outbox`` does the sending.

    ``opts``: :class:`bws.config.EmailOpts`; ``sender``: has
    ``async send(from_addr, to_addrs, message_bytes)`` (:class:`emailservice.smtp.SmtpSender`).
    """

    def __init__(
        self,
        storage,
        opts,
        sender,
        clock,
        *,
        templates: Optional[TemplateSet] = None,
        max_attempts: int = 5,
        backoff: float = 30.0,
        lease_seconds: float = 120.0,
        poll_interval: float = 5.0,
    ):
        self.storage = storage
        self.opts = opts
        self.sender = sender
        self.clock = clock
        self.templates = templates or TemplateSet(opts.templatePath)
        self.outbox = Outbox(
            storage,
            COLLECTION,
            self._send,
            clock,
            channel="email",
            max_attempts=max_attempts,
            backoff=backoff,
            lease_seconds=lease_seconds,
            poll_interval=poll_interval,
            logger=log,
        )
        if opts.defaultLanguage not in self.templates.languages:
            log.warning("emailOpts.defaultLanguage %r has no templates in %s", opts.defaultLanguage, opts.templatePath)

    def start(self) -> None:
        self.outbox.start()

    def stop(self) -> None:
        self.outbox.stop()

    async def build_rows(self, notification: dict[str, Any]) -> list[dict[str, Any]]:
        """The Email rows for ``notification`` (nothing stored); raises TemplateError/ValueError."""
        basename = TEMPLATE_BY_TYPE.get(notification.get("type"))
        if not basename:
            return []
        wallet = await self.storage.wallets.fetch(notification.get("walletId"))
        if not wallet:
            return []
        prefs = await self.storage.preferences.fetch(notification["walletId"])
        recipients = email_recipients(
            notification, wallet, prefs or [], self.templates.languages, self.opts.defaultLanguage, self.opts.defaultUnit
        )
        if not recipients:
            return []
        prefix = (self.opts.subjectPrefix or "").strip() + " "
        contents: dict[tuple[str, str], Any] = {}
        for r in recipients:
            key = (r.language, r.unit)
            if key not in contents:
                data = build_template_data(
                    notification, wallet, r.unit, prefix, self.opts.publicTxUrlTemplate or {}
                )
                contents[key] = self.templates.render(r.language, basename, data)
        rows = []
        now = self.clock.seconds()
        for seq, r in enumerate(recipients):
            c = contents[(r.language, r.unit)]
            fields = {  # the reference Email model's fields (lib/model/email.js), version 2
                "version": 2,
                "from": self.opts.from_,
                "to": r.emailAddress,
                "subject": c.subject,
                "bodyPlain": c.body,
                "bodyHtml": c.html,
                "language": r.language,
                "unit": r.unit,
            }
            rows.append(
                new_row(
                    email_row_id(notification["id"], r.emailAddress),
                    notification["id"],
                    wallet_id=wallet["id"],
                    copayer_id=r.copayerId,
                    now=now,
                    seq=seq,
                    fields=fields,
                )
            )
        return rows

    async def handle(self, notification: dict[str, Any]) -> int:
        """Queue the notification's e-mails (once) and wake the sender; returns rows inserted."""
        try:
            rows = await self.build_rows(notification)
        except (TemplateError, ValueError) as e:
            log.error("email: notification %s not mailed: %s", notification.get("id"), e)
            return 0
        if not rows:
            return 0
        inserted = await self.storage.outbox.insert(COLLECTION, rows)
        self.outbox.kick()
        return inserted

    async def _send(self, row: dict[str, Any]) -> None:
        await self.sender.send(row["from"], [row["to"]], build_message(row))
