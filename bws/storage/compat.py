"""Data-compatibility rules: how documents written by the reference (or by
older versions of this port) are read. Each rule lives here and only here.

* Copayer lookups of the reference's first versions carry one
  ``requestPubKey`` + ``signature`` instead of ``requestPubKeys``: they are
  upgraded on read (:func:`upgrade_lookup`).
* Wallets and proposals stored before multi-coin support have no ``coin``:
  they count as btc (:data:`LEGACY_COIN`, :func:`coin_filter`,
  :func:`coin_of`).
* A notification poll's ``minTs`` (epoch ms) is a notification id floor: the
  ids are ``pad14(ms) + pad4(ticker)``
  (:func:`bws.model.notification.format_notification_id`), so the poll
  returns the ids above the id of (ms, ticker 0) (:func:`notification_floor`).
"""

from __future__ import annotations

from typing import Any, Optional

from bws.model.notification import format_notification_id

#: the coin of a document stored without one
LEGACY_COIN = "btc"


def upgrade_lookup(doc: Optional[dict]) -> Optional[dict]:
    """The copayer lookup with ``requestPubKeys`` (built from a legacy
    ``requestPubKey`` + ``signature`` when it has none); None stays None."""
    if doc and not doc.get("requestPubKeys") and doc.get("requestPubKey"):
        doc["requestPubKeys"] = [{"key": doc["requestPubKey"], "signature": doc.get("signature")}]
    return doc


def coin_filter(coin: str) -> Any:
    """The query value matching documents of ``coin`` (for btc also those without a coin)."""
    return {"$in": [coin, None]} if coin == LEGACY_COIN else coin


def coin_of(doc: dict) -> str:
    """The coin of a stored document (btc when it has none)."""
    return doc.get("coin", LEGACY_COIN)


def notification_floor(notification_id: Optional[str], min_ts_ms: Optional[int]) -> str:
    """The greatest of ``notification_id`` and the id floor of ``min_ts_ms``
    ("" when both are absent): a poll returns the ids strictly above it."""
    floor = "" if min_ts_ms is None else format_notification_id(int(min_ts_ms), 0)
    if notification_id and notification_id > floor:
        floor = notification_id
    return floor
