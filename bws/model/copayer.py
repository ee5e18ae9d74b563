"""Copayer (docs/spec/api.md §5.1, copayer id §3.2).

Wire / storage shape (``UNDEFINED`` fields omitted)::

    {"version": 2, "createdOn": int s, "coin": str, "xPubKey": str,
     "id": str (64 hex), "name": str (opaque), "requestPubKey": hex,
     "signature": hex (copayerSignature given at join),
     "requestPubKeys": [{"key", "signature", "selfSigned"?, "restrictions"?, "name"?}],
     "addressManager": AddressManager (BIP45 wallets only),
     "customData": str (opaque)}
"""

from __future__ import annotations

import hashlib
from typing import Any

from . import constants as C
from .addressmanager import AddressManager
from .base import UNDEFINED, Model, js_int, to_seconds


def copayer_id(coin: str, xpub: str) -> str:
    """Copayer id: hex sha256 of ``xpub`` (btc) or of ``coin + xpub`` (other coins).
    Returns a 64-char lowercase hex string."""
    text = xpub if coin == C.DEFAULT_COIN else f"{coin}{xpub}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


xpub_to_copayer_id = copayer_id


class Copayer(Model):
    """A wallet member.

    Attributes: ``version`` (int 2), ``created_on`` (int, unix seconds), ``coin``,
    ``xpub_key``, ``id``, ``name``, ``request_pub_key``, ``signature``,
    ``request_pub_keys`` (list of dicts, newest first), ``address_manager``
    (AddressManager or UNDEFINED), ``custom_data``.
    """

    FIELDS = (
        ("version", "version"),
        ("created_on", "createdOn"),
        ("coin", "coin"),
        ("xpub_key", "xPubKey"),
        ("id", "id"),
        ("name", "name"),
        ("request_pub_key", "requestPubKey"),
        ("signature", "signature"),
        ("request_pub_keys", "requestPubKeys"),
        ("address_manager", "addressManager"),
        ("custom_data", "customData"),
    )

    @classmethod
    def create(
        cls,
        name: Any,
        xPubKey: str,
        requestPubKey: str,
        signature: str,
        coin: str = C.DEFAULT_COIN,
        copayerIndex: int = 0,
        derivationStrategy: str = C.BIP45,
        customData: Any = UNDEFINED,
        now: float | None = None,
    ) -> "Copayer":
        """New copayer (reference ``Copayer.create``).  ``copayerIndex`` is the
        join position (used for the BIP45 per-copayer branch); BIP44 copayers get
        no addressManager.  ``now``: unix seconds (default current time)."""
        if not xPubKey:
            raise ValueError("Missing copayer extended public key")
        if not requestPubKey:
            raise ValueError("Missing copayer request public key")
        if not signature:
            raise ValueError("Missing copayer request public key signature")
        if coin not in C.COINS:
            raise ValueError(f"invalid coin {coin!r}")
        derivationStrategy = derivationStrategy or C.BIP45
        x = cls()
        x.version = 2
        x.created_on = to_seconds(now)
        x.coin = coin
        x.xpub_key = xPubKey
        x.id = copayer_id(coin, xPubKey)
        x.name = name
        x.request_pub_key = requestPubKey
        x.signature = signature
        x.request_pub_keys = [{"key": requestPubKey, "signature": signature}]
        if AddressManager.supports_copayer_branches(derivationStrategy):
            x.address_manager = AddressManager.create(derivationStrategy, copayerIndex or 0)
        x.custom_data = customData
        return x

    @classmethod
    def _decode(cls, attr: str, value: Any) -> Any:
        if attr == "address_manager":
            return AddressManager.from_dict(value) if value else UNDEFINED
        return super()._decode(attr, value)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Copayer":
        """From a stored document.  Missing coin -> ``btc``; version 1 documents
        are upgraded (``requestPubKeys = [{key: requestPubKey, signature}]``,
        version 2); a null addressManager is dropped."""
        x = super().from_dict(d)
        if not x.coin:
            x.coin = C.DEFAULT_COIN
        if js_int(x.version) == 1:
            x.request_pub_keys = [{"key": x.request_pub_key, "signature": x.signature}]
            x.version = 2
        return x

    # --------------------------------------------------------------- keys
    def add_request_key(
        self,
        request_pub_key: str,
        signature: str,
        restrictions: dict | None = None,
        name: Any = None,
    ) -> dict:
        """addAccess: prepend ``{key, signature, selfSigned: True,
        restrictions: restrictions or {}, name: name or None}``; returns it."""
        entry = {
            "key": str(request_pub_key),
            "signature": signature,
            "selfSigned": True,
            "restrictions": restrictions or {},
            "name": name or None,
        }
        if not self.request_pub_keys:
            self.request_pub_keys = []
        self.request_pub_keys.insert(0, entry)
        return entry

    def get_request_pub_keys(self) -> list[dict]:
        """``requestPubKeys`` (list, newest first), ``[]`` if absent."""
        return list(self.request_pub_keys or [])


__all__ = ["Copayer", "copayer_id", "xpub_to_copayer_id"]
