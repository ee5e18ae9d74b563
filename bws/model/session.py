"""Session (docs/spec/api.md §3.5, §5.8): one per copayer, for ``x-session`` auth.

Shape: ``{"id": uuid4, "version": 1, "createdOn": int s, "updatedOn": int s,
"copayerId", "walletId"}``; valid while ``now - updatedOn <= SESSION_EXPIRATION``
(3600 s).  A logout keeps the document with ``id: null`` (ended), so that its
replay guard (``appliedRequests``, :class:`~bws.model.base.RequestLog`) outlives it.
"""

from __future__ import annotations

import uuid

from . import constants as C
from .base import RequestLog, to_seconds


class Session(RequestLog):
    """Login session.  Attributes: ``id``, ``version``, ``created_on``,
    ``updated_on`` (int, unix seconds), ``copayer_id``, ``wallet_id``."""

    FIELDS = (
        ("id", "id"),
        ("version", "version"),
        ("created_on", "createdOn"),
        ("updated_on", "updatedOn"),
        ("copayer_id", "copayerId"),
        ("wallet_id", "walletId"),
    )

    @classmethod
    def create(cls, copayerId: str, walletId: str, now: float | None = None) -> "Session":
        """New session with a uuid4 id; ``now``: unix seconds."""
        t = to_seconds(now)
        x = cls()
        x.id = str(uuid.uuid4())
        x.version = 1
        x.created_on = t
        x.updated_on = t
        x.copayer_id = copayerId
        x.wallet_id = walletId
        return x

    def is_valid(self, now: float | None = None) -> bool:
        """Not ended and ``now - updatedOn <= 3600`` (now: unix seconds, default clock)."""
        if not self.id or not isinstance(self.updated_on, (int, float)):
            return False
        return (to_seconds(now) - self.updated_on) <= C.SESSION_EXPIRATION

    def end(self) -> None:
        """Logout: the token is gone (``id`` null), the document stays."""
        self.id = None

    def touch(self, now: float | None = None) -> None:
        """updatedOn = now (unix seconds)."""
        self.updated_on = to_seconds(now)


__all__ = ["Session"]
