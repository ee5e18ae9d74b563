"""Preferences (docs/spec/api.md §5.6), key (walletId, copayerId).

Shape: ``{"version": "1.0.0", "createdOn": int s, "walletId", "copayerId",
"email", "language", "unit"}`` (unset fields absent or null).  Stored documents
also keep ``appliedRequests`` (replay guard, :class:`~bws.model.base.RequestLog`).
"""

from __future__ import annotations

from typing import Any

from .base import UNDEFINED, RequestLog, to_seconds


class Preferences(RequestLog):
    """Per-copayer preferences.  Attributes: ``version``, ``created_on`` (int unix
    s), ``wallet_id``, ``copayer_id``, ``email``, ``language``, ``unit``."""

    FIELDS = (
        ("version", "version"),
        ("created_on", "createdOn"),
        ("wallet_id", "walletId"),
        ("copayer_id", "copayerId"),
        ("email", "email"),
        ("language", "language"),
        ("unit", "unit"),
    )
    #: the user-settable keys
    KEYS = ("email", "language", "unit")

    @classmethod
    def create(
        cls,
        walletId: str,
        copayerId: str,
        email: Any = UNDEFINED,
        language: Any = UNDEFINED,
        unit: Any = UNDEFINED,
        now: float | None = None,
    ) -> "Preferences":
        """New preferences; ``now``: unix seconds."""
        x = cls()
        x.version = "1.0.0"
        x.created_on = to_seconds(now)
        x.wallet_id = walletId
        x.copayer_id = copayerId
        x.email = email
        x.language = language
        x.unit = unit
        return x


__all__ = ["Preferences"]
