"""Wallet (docs/spec/api.md §5.1).

Wire / storage shape (``UNDEFINED`` fields omitted)::

    {"version": "1.0.0", "createdOn": int s, "id": str, "name": str (opaque),
     "m": int, "n": int, "singleAddress": bool, "status": "pending"|"complete",
     "publicKeyRing": [{"xPubKey", "requestPubKey"}], "addressIndex": 0 (fresh only),
     "copayers": [Copayer], "pubKey": hex, "coin": str, "network": str,
     "derivationStrategy": "BIP44"|"BIP45", "addressType": "P2SH"|"P2PKH",
     "addressManager": AddressManager, "scanStatus": None|"running"|"success"|"error"}

The stored copy (``to_dict(for_storage=True)``) also has ``isShared`` (n > 1).
"""

from __future__ import annotations

import uuid
from typing import Any

from . import constants as C
from .addressmanager import AddressManager
from .base import UNDEFINED, Model, to_seconds
from .copayer import Copayer


class Wallet(Model):
    """A (possibly multisig) wallet with its copayers.

    Attributes: ``version``, ``created_on`` (int, unix seconds), ``id``, ``name``,
    ``m``, ``n``, ``single_address`` (bool), ``status``, ``public_key_ring``
    (list of ``{xPubKey, requestPubKey}``), ``address_index``, ``copayers``
    (list of Copayer, join order), ``pub_key``, ``coin``, ``network``,
    ``derivation_strategy``, ``address_type``, ``address_manager``
    (AddressManager), ``scan_status``.
    """

    FIELDS = (
        ("version", "version"),
        ("created_on", "createdOn"),
        ("id", "id"),
        ("name", "name"),
        ("m", "m"),
        ("n", "n"),
        ("single_address", "singleAddress"),
        ("status", "status"),
        ("public_key_ring", "publicKeyRing"),
        ("address_index", "addressIndex"),
        ("copayers", "copayers"),
        ("pub_key", "pubKey"),
        ("coin", "coin"),
        ("network", "network"),
        ("derivation_strategy", "derivationStrategy"),
        ("address_type", "addressType"),
        ("address_manager", "addressManager"),
        ("scan_status", "scanStatus"),
    )
    DERIVED = ("isShared",)

    @classmethod
    def create(
        cls,
        name: Any,
        m: int,
        n: int,
        pubKey: str,
        coin: str = C.DEFAULT_COIN,
        network: str = C.LIVENET,
        singleAddress: bool = False,
        derivationStrategy: str = C.BIP45,
        addressType: str = C.P2SH,
        id: str | None = None,
        now: float | None = None,
    ) -> "Wallet":
        """New pending wallet (reference ``Wallet.create``): uuid4 id unless
        ``id`` given, ``createdOn`` = ``now`` (unix seconds, default current
        time), status ``pending``, empty copayers, wallet-level addressManager
        for ``derivationStrategy``, ``scanStatus`` None.  Raises ValueError on
        non-int m/n or unknown coin/network."""
        for v in (m, n):
            if not isinstance(v, int) or isinstance(v, bool):
                raise ValueError("m and n must be integers")
        if coin not in C.COINS:
            raise ValueError(f"invalid coin {coin!r}")
        if network not in C.NETWORKS:
            raise ValueError(f"invalid network {network!r}")
        x = cls()
        x.version = "1.0.0"
        x.created_on = to_seconds(now)
        x.id = id or str(uuid.uuid4())
        x.name = name
        x.m = m
        x.n = n
        x.single_address = bool(singleAddress)
        x.status = C.WALLET_PENDING
        x.public_key_ring = []
        x.address_index = 0
        x.copayers = []
        x.pub_key = pubKey
        x.coin = coin
        x.network = network
        x.derivation_strategy = derivationStrategy or C.BIP45
        x.address_type = addressType or C.P2SH
        x.address_manager = AddressManager.create(x.derivation_strategy)
        x.scan_status = None
        return x

    @staticmethod
    def verify_copayer_limits(m: Any, n: Any) -> bool:
        """True iff m, n are ints with 1 <= n <= 15 and 1 <= m <= n."""
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (m, n)):
            return False
        return 1 <= n <= 15 and 1 <= m <= n

    # ---------------------------------------------------------- (de)serialise
    def _encode(self, attr: str, value: Any) -> Any:
        if attr == "copayers":
            return [c.to_dict() for c in value]
        return super()._encode(attr, value)

    @classmethod
    def _decode(cls, attr: str, value: Any) -> Any:
        if attr == "copayers":
            return [Copayer.from_dict(c) for c in (value or [])]
        if attr == "address_manager":
            return AddressManager.from_dict(value) if value else UNDEFINED
        return super()._decode(attr, value)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Wallet":
        """From a stored document (``isShared`` / ``_id`` ignored).  Legacy
        defaults: coin ``btc``, derivationStrategy ``BIP45``, addressType ``P2SH``;
        ``singleAddress`` coerced to bool."""
        x = super().from_dict(d)
        x.single_address = bool(x.single_address)
        if not x.coin:
            x.coin = C.DEFAULT_COIN
        if not x.derivation_strategy:
            x.derivation_strategy = C.BIP45
        if not x.address_type:
            x.address_type = C.P2SH
        if x.copayers is UNDEFINED:
            x.copayers = []
        return x

    def _derived(self) -> dict[str, Any]:
        return {"isShared": self.is_shared()}

    # ---------------------------------------------------------- behaviour
    def is_shared(self) -> bool:
        """n > 1."""
        return self.n > 1

    def is_complete(self) -> bool:
        """status == "complete"."""
        return self.status == C.WALLET_COMPLETE

    def is_scan_error(self) -> bool:
        """scanStatus == "error" (-> WALLET_NEED_SCAN)."""
        return self.scan_status == C.SCAN_ERROR

    def _update_public_key_ring(self) -> None:
        self.public_key_ring = [
            {k: v for k, v in (("xPubKey", c.xpub_key), ("requestPubKey", c.request_pub_key)) if v is not UNDEFINED}
            for c in self.copayers
        ]

    def add_copayer(self, copayer: Copayer) -> None:
        """Append ``copayer`` (same coin required); when ``len(copayers) == n``
        the wallet becomes complete and ``publicKeyRing`` is built in join order."""
        if copayer.coin != self.coin:
            raise ValueError("copayer coin does not match wallet coin")
        self.copayers.append(copayer)
        if len(self.copayers) < self.n:
            return
        self.status = C.WALLET_COMPLETE
        self._update_public_key_ring()

    def add_copayer_request_key(
        self,
        copayer_id: str,
        request_pub_key: str,
        signature: str,
        restrictions: dict | None = None,
        name: Any = None,
    ) -> dict:
        """addAccess on a complete wallet: prepend a selfSigned request key to
        that copayer's ``requestPubKeys``.  Raises ValueError if the wallet is
        not complete or the copayer is unknown."""
        if len(self.copayers) != self.n:
            raise ValueError("wallet not complete")
        c = self.get_copayer(copayer_id)
        if c is None:
            raise ValueError("copayer not found")
        return c.add_request_key(request_pub_key, signature, restrictions, name)

    def get_copayer(self, copayer_id: str) -> Copayer | None:
        """Copayer with that id, or None."""
        for c in self.copayers:
            if c.id == copayer_id:
                return c
        return None

    def get_copayer_by_xpub(self, xpub: str) -> Copayer | None:
        """Copayer with that xPubKey, or None (COPAYER_IN_WALLET check)."""
        for c in self.copayers:
            if c.xpub_key == xpub:
                return c
        return None

    def get_network_name(self) -> str:
        return self.network


__all__ = ["Wallet"]
