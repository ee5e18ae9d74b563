"""Email: one queued e-mail for the email daemon (docs/spec/services.md §4.5, collection ``email_queue``).

Shape::

    {"version": 2, "createdOn": int s, "id": pad14(ms) + uuid4 (50 chars), "walletId",
     "copayerId", "from", "to", "subject", "bodyPlain", "bodyHtml": str | null,
     "status": "pending"|"sent"|"fail", "attempts": int, "lastAttemptOn": int s | null,
     "notificationId": str, "language": "en"}
"""

from __future__ import annotations

import uuid
from typing import Any

from . import constants as C
from .base import UNDEFINED, Model, js_int, now_ms as _now_ms, pad14, to_seconds


class Email(Model):
    """Queued e-mail.  Attributes: ``version``, ``created_on`` (int, unix
    seconds), ``id``, ``wallet_id``, ``copayer_id``, ``from_`` (wire ``from``),
    ``to``, ``subject``, ``body_plain``, ``body_html``, ``status``, ``attempts``
    (int), ``last_attempt_on`` (int unix seconds or None), ``notification_id``,
    ``language``."""

    FIELDS = (
        ("version", "version"),
        ("created_on", "createdOn"),
        ("id", "id"),
        ("wallet_id", "walletId"),
        ("copayer_id", "copayerId"),
        ("from_", "from"),
        ("to", "to"),
        ("subject", "subject"),
        ("body_plain", "bodyPlain"),
        ("body_html", "bodyHtml"),
        ("status", "status"),
        ("attempts", "attempts"),
        ("last_attempt_on", "lastAttemptOn"),
        ("notification_id", "notificationId"),
        ("language", "language"),
    )

    @classmethod
    def create(
        cls,
        walletId: Any = UNDEFINED,
        copayerId: Any = UNDEFINED,
        from_: Any = UNDEFINED,
        to: Any = UNDEFINED,
        subject: Any = UNDEFINED,
        bodyPlain: Any = UNDEFINED,
        bodyHtml: Any = UNDEFINED,
        notificationId: Any = UNDEFINED,
        language: str | None = None,
        now_ms: int | None = None,
    ) -> "Email":
        """New pending e-mail (attempts 0, lastAttemptOn null, language
        default ``en``).  ``now_ms``: epoch ms (default clock)."""
        ms = _now_ms() if now_ms is None else int(now_ms)
        x = cls()
        x.version = 2
        x.created_on = ms // 1000
        x.id = pad14(ms) + str(uuid.uuid4())
        x.wallet_id = walletId
        x.copayer_id = copayerId
        x.from_ = from_
        x.to = to
        x.subject = subject
        x.body_plain = bodyPlain
        x.body_html = bodyHtml
        x.status = C.EMAIL_PENDING
        x.attempts = 0
        x.last_attempt_on = None
        x.notification_id = notificationId
        x.language = language or "en"
        return x

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Email":
        """From a stored document; version 1 ``body`` becomes ``bodyPlain``
        (version 2)."""
        x = super().from_dict(d)
        if js_int(x.version) == 1:
            x.body_plain = x.extra.pop("body", UNDEFINED)
            x.version = 2
        return x

    def _log_attempt(self, result: str, now: float | None) -> None:
        self.attempts = (self.attempts or 0) + 1
        self.last_attempt_on = to_seconds(now)
        self.status = result

    def set_sent(self, now: float | None = None) -> None:
        """attempts += 1, lastAttemptOn = now (unix s), status ``sent``."""
        self._log_attempt(C.EMAIL_SENT, now)

    def set_fail(self, now: float | None = None) -> None:
        """attempts += 1, lastAttemptOn = now (unix s), status ``fail``."""
        self._log_attempt(C.EMAIL_FAIL, now)

    def is_pending(self) -> bool:
        return self.status == C.EMAIL_PENDING


__all__ = ["Email"]
