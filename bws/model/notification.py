"""Notification (bitcore-wallet-service lib/model/notification.js; docs/spec/api.md §5.7,
docs/spec/services.md §2.3).

Shape::

    {"version": "1.0.0", "createdOn": int s, "id": str (18 chars), "type": str,
     "data": dict, "walletId": str (wallet id or network name), "creatorId": str | null | absent}

Ids: ``pad14(epoch ms) + pad4(ticker)``; lexicographic order == chronological
order.  A :class:`NotificationIds` generator (one per process, built at
start-up and handed to the one store-then-publish Notifier,
bws/service/notifier.py) gives ids strictly increasing within that generator
(a repeated or backwards clock reuses the last millisecond and bumps the
ticker; ticker overflow past 9999 moves to the next millisecond).  Uniqueness
across processes is the storage's job (unique index; after a collision the
Notifier takes a fresh id from the same generator and retries).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional

from .base import UNDEFINED, Model, now_ms as _now_ms, pad14

_TICKER_MAX = 9999


class NotificationIds:
    """Notification-id generator: ``next(now_ms=None) -> str`` (18 chars),
    strictly greater than every id this generator gave before.

    clock: ``() -> int`` epoch milliseconds, used when ``next`` gets no
    ``now_ms`` (default: the wall clock).  Safe to call from several threads."""

    def __init__(self, clock: Callable[[], int] = _now_ms) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_ticker = -1

    def now_ms(self) -> int:
        """The generator's clock: int epoch milliseconds."""
        return int(self._clock())

    def next(self, now_ms: Optional[int] = None) -> str:
        """The next id; ``now_ms``: epoch milliseconds of the event (default: the clock)."""
        ms = self.now_ms() if now_ms is None else int(now_ms)
        with self._lock:
            if ms <= self._last_ms:
                ms = self._last_ms
                ticker = self._last_ticker + 1
                if ticker > _TICKER_MAX:
                    ms += 1
                    ticker = 0
            else:
                ticker = 0
            self._last_ms, self._last_ticker = ms, ticker
        return format_notification_id(ms, ticker)


def format_notification_id(ms: int, ticker: int = 0) -> str:
    """``pad14(ms) + pad4(ticker)`` (the reference format)."""
    return pad14(ms) + str(int(ticker)).zfill(4)


def notification_id_ms(notification_id: str) -> int:
    """Epoch milliseconds encoded in a notification id."""
    return int(notification_id[:14])


class Notification(Model):
    """A stored + broadcast event.  Attributes: ``version``, ``created_on`` (int,
    unix seconds), ``id`` (str, or None until the Notifier gives it one),
    ``type``, ``data`` (dict), ``wallet_id``, ``creator_id`` (str, None = null,
    or UNDEFINED = omitted)."""

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
        (monitor notifications).  ``now_ms``: epoch ms (default clock).
        ``id``: from a :class:`NotificationIds` (``Notifier.new`` passes one);
        None leaves it to the Notifier, which gives one when it stores it."""
        ms = _now_ms() if now_ms is None else int(now_ms)
        x = cls()
        x.version = "1.0.0"
        x.id = id
        x.created_on = ms // 1000
        x.type = type or "general"
        x.data = data
        x.wallet_id = walletId
        x.creator_id = creatorId
        return x


__all__ = ["Notification", "NotificationIds", "format_notification_id", "notification_id_ms", "UNDEFINED"]
