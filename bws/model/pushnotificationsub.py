"""PushNotificationSub (docs/spec/api.md §5.8), key (copayerId, token).

Shape: ``{"version": "1.0.0", "createdOn": int s, "copayerId", "token",
"packageName", "platform"}``.
"""

from __future__ import annotations

from typing import Any

from .base import UNDEFINED, Model, to_seconds


class PushNotificationSub(Model):
    """Push subscription.  Attributes: ``version``, ``created_on`` (int unix s),
    ``copayer_id``, ``token``, ``package_name``, ``platform``."""

    FIELDS = (
        ("version", "version"),
        ("created_on", "createdOn"),
        ("copayer_id", "copayerId"),
        ("token", "token"),
        ("package_name", "packageName"),
        ("platform", "platform"),
    )

    @classmethod
    def create(
        cls,
        copayerId: str,
        token: str,
        packageName: Any = UNDEFINED,
        platform: Any = UNDEFINED,
        now: float | None = None,
    ) -> "PushNotificationSub":
        """New subscription; ``now``: unix seconds."""
        x = cls()
        x.version = "1.0.0"
        x.created_on = to_seconds(now)
        x.copayer_id = copayerId
        x.token = token
        x.package_name = packageName
        x.platform = platform
        return x


__all__ = ["PushNotificationSub"]
