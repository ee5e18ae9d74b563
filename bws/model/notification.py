"""Notification (docs/spec/api.md §5.7, docs/spec/services.md §2.3).

Shape::

    {"version": "1.0.0", "createdOn": int s, "id": str (18 chars), "type": str,
     "data": dict, "walletId": str (wallet id or network name), "creatorId": str | null | absent}

Ids: ``pad14(epoch ms) + pad4(ticker)``; lexicographic order == chronological
order.  :func:`next_notification_id` is process-wide and strictly increasing
(a repeated or backwards clock reuses the last millisecond and bumps the
ticker; ticker overflow past 9999 moves to the next millisecond).  Uniqueness
across processes is the storage's job (unique index + retry with
:meth:`Notification.renew_id`).
"""

from __future__ import annotations

import threading
from typing import Any

from .base import UNDEFINED, Model, now_ms as _now_ms, pad14

_TICKER_MAX = 9999

_lock = threading.Lock()
_last_ms = -1
_last_ticker = -1


def next_notification_id(now_ms: int | None = None) -> str:
    """Next notification id (18-char str), strictly greater than every id this
    process produced before.  ``now_ms``: epoch milliseconds (default: clock)."""
    global _last_ms, _last_ticker
    ms = _now_ms() if now_ms is None else int(now_ms)
    with _lock:
        if ms <= _last_ms:
            ms = _last_ms
            ticker = _last_ticker + 1
            if ticker > _TICKER_MAX:
                ms += 1
                ticker = 0
        else:
            ticker = 0
        _last_ms, _last_ticker = ms, ticker
    return format_notification_id(ms, ticker)


def format_notification_id(ms: int, ticker: int = 0) -> str:
    """``pad14(ms) + pad4(ticker)`` (the reference format)."""
    return pad14(ms) + str(int(ticker)).zfill(4)


def notification_id_ms(notification_id: str) -> int:
    """Epoch milliseconds encoded in a notification id."""
    return int(notification_id[:14])


def _reset_id_generator() -> None:
    """Tests only: forget the last id."""
    global _last_ms, _last_ticker
    with _lock:
        _last_ms, _last_ticker = -1, -1


class Notification(Model):
    """A stored + broadcast event.  Attributes: ``version``, ``created_on`` (int,
    unix seconds), ``id``, ``type``, ``data`` (dict), ``wallet_id``,
    ``creator_id`` (str, None = null, or UNDEFINED = omitted)."""

    FIELDS = (
        ("version", "version"),
        ("created_on", "createdOn"),
        ("id", "id"),
        ("type", "type"),
        ("data", "data"),
        ("wallet_id", "walletId"),
        ("creator_id", "creatorId"),
    )

    @classmethod
    def create(
        cls,
        type: str | None,
        data: Any,
        walletId: str,
        creatorId: Any = None,
        now_ms: int | None = None,
        id: str | None = None,
    ) -> "Notification":
        """New notification.  ``type`` defaults to ``"general"``; ``creatorId``
        None -> emitted as null (global notifications), ``UNDEFINED`` -> omitted
        (monitor notifications).  ``now_ms``: epoch ms (default clock); the id
        comes from :func:`next_notification_id` unless ``id`` is given."""
        ms = _now_ms() if now_ms is None else int(now_ms)
        x = cls()
        x.version = "1.0.0"
        x.id = id or next_notification_id(ms)
        x.created_on = ms // 1000
        x.type = type or "general"
        x.data = data
        x.wallet_id = walletId
        x.creator_id = creatorId
        return x

    def renew_id(self, now_ms: int | None = None) -> str:
        """Give the notification a fresh id from the generator (after a
        duplicate-key error in storage); returns it.  ``createdOn`` is kept."""
        self.id = next_notification_id(now_ms)
        return self.id


__all__ = ["Notification", "next_notification_id", "format_notification_id", "notification_id_ms", "UNDEFINED"]
