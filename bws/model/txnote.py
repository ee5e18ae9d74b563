"""TxNote (docs/spec/api.md §5.5): a copayer-editable note on a txid.

Shape: ``{"version": 1, "createdOn": int s, "walletId", "txid", "body": str | null,
"editedOn": int s, "editedBy": copayerId}``; ``editedByName`` is a read-time
decoration added by the service.  Stored documents also keep
``appliedRequests`` (replay guard, :class:`~bws.model.base.RequestLog`).
"""

from __future__ import annotations

from typing import Any

from .base import RequestLog, to_seconds


class TxNote(RequestLog):
    """Note.  Attributes: ``version``, ``created_on`` (int unix s), ``wallet_id``,
    ``txid``, ``body``, ``edited_on`` (int unix s), ``edited_by``."""

    FIELDS = (
        ("version", "version"),
        ("created_on", "createdOn"),
        ("wallet_id", "walletId"),
        ("txid", "txid"),
        ("body", "body"),
        ("edited_on", "editedOn"),
        ("edited_by", "editedBy"),
    )

    @classmethod
    def create(cls, walletId: str, txid: str, body: Any, copayerId: str, now: float | None = None) -> "TxNote":
        """New note; createdOn == editedOn == now (unix seconds)."""
        t = to_seconds(now)
        x = cls()
        x.version = 1
        x.created_on = t
        x.wallet_id = walletId
        x.txid = txid
        x.body = body
        x.edited_on = t
        x.edited_by = copayerId
        return x

    def edit(self, body: Any, copayerId: str, now: float | None = None) -> None:
        """Replace body; editedBy = copayerId, editedOn = now (unix seconds)."""
        self.body = body
        self.edited_by = copayerId
        self.edited_on = to_seconds(now)


__all__ = ["TxNote"]
