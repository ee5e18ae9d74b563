"""TxConfirmationSub (docs/spec/api.md §5.8), key (copayerId, txid).

Shape: ``{"version": 1, "createdOn": int s, "walletId", "copayerId", "txid",
"isActive": bool}``; the monitor sets ``isActive = False`` after notifying.
"""

from __future__ import annotations

from .base import Model, to_seconds


class TxConfirmationSub(Model):
    """Confirmation subscription.  Attributes: ``version``, ``created_on`` (int
    unix s), ``wallet_id``, ``copayer_id``, ``txid``, ``is_active`` (bool)."""

    FIELDS = (
        ("version", "version"),
        ("created_on", "createdOn"),
        ("wallet_id", "walletId"),
        ("copayer_id", "copayerId"),
        ("txid", "txid"),
        ("is_active", "isActive"),
    )

    @classmethod
    def create(cls, walletId: str, copayerId: str, txid: str, now: float | None = None) -> "TxConfirmationSub":
        """New active subscription; ``now``: unix seconds."""
        x = cls()
        x.version = 1
        x.created_on = to_seconds(now)
        x.wallet_id = walletId
        x.copayer_id = copayerId
        x.txid = txid
        x.is_active = True
        return x

    def deactivate(self) -> None:
        """isActive = False (after the TxConfirmation notification)."""
        self.is_active = False


__all__ = ["TxConfirmationSub"]
