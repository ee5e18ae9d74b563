"""Address (docs/spec/api.md §5.3).

Wire / storage shape::

    {"version": "1.0.0", "createdOn": int s, "address": str, "walletId": str,
     "isChange": bool, "path": str, "publicKeys": [hex, ...] (public-key-ring order),
     "coin": str, "network": str, "type": "P2SH"|"P2PKH", "hasActivity": bool (absent until known)}

Derivation (xpub -> pubkeys -> address text, network detection) belongs to
``bws.chains``; this class only stores the result.
"""

from __future__ import annotations

from typing import Any

from . import constants as C
from .base import UNDEFINED, Model, to_seconds


class Address(Model):
    """One wallet address.

    Attributes: ``version``, ``created_on`` (int, unix seconds), ``address``,
    ``wallet_id``, ``is_change`` (bool), ``path`` (``m/...``), ``public_keys``
    (list of hex), ``coin``, ``network``, ``type``, ``has_activity``
    (UNDEFINED until the gap check marks it True).
    """

    FIELDS = (
        ("version", "version"),
        ("created_on", "createdOn"),
        ("address", "address"),
        ("wallet_id", "walletId"),
        ("is_change", "isChange"),
        ("path", "path"),
        ("public_keys", "publicKeys"),
        ("coin", "coin"),
        ("network", "network"),
        ("type", "type"),
        ("has_activity", "hasActivity"),
    )

    @classmethod
    def create(
        cls,
        address: str,
        walletId: str,
        coin: str,
        network: str,
        path: str,
        publicKeys: list[str],
        isChange: bool = False,
        type: str = C.P2SH,
        now: float | None = None,
    ) -> "Address":
        """New address record.  ``network`` must be the network the address
        text belongs to (ETH/TRY: ``livenet``); ``now``: unix seconds."""
        if coin not in C.COINS:
            raise ValueError(f"invalid coin {coin!r}")
        x = cls()
        x.version = "1.0.0"
        x.created_on = to_seconds(now)
        x.address = address
        x.wallet_id = walletId
        x.is_change = isChange
        x.path = path
        x.public_keys = list(publicKeys) if publicKeys is not None else publicKeys
        x.coin = coin
        x.network = network
        x.type = type or C.P2SH
        x.has_activity = UNDEFINED
        return x

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Address":
        """From a stored document; missing coin -> ``btc``, type -> ``P2SH``."""
        x = super().from_dict(d)
        if not x.coin:
            x.coin = C.DEFAULT_COIN
        if not x.type:
            x.type = C.P2SH
        return x


__all__ = ["Address"]
