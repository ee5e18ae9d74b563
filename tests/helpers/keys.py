"""Copayer and wallet keys for tests, derived with the ``bip32`` library.

A :class:`CopayerKeys` holds a root key and derives what a bwc client has:
the copayer base key (BIP44 ``m/44'/<0|1>'/0'`` or BIP45 ``m/45'``), the
request key (``m/1'/0``) and the request-key-auth key (base ``/2``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from bip32 import BIP32
from coincurve import PrivateKey

from bws.crypto import copayer_id, sign_message

#: spec §11.2: copayer 0 of the reference test data
VECTOR_ROOT_XPRV = (
    "xprv9s21ZrQH143K2n4rV4AtAJFptEmd1tNMKCcSyQBCSuN5eq1dCUhcv6KQJS49joRxu8NNdFxy8yuwTtzCPNYUZvVGC7EPRm2st2cvE7oyTbB"
)
VECTOR_WALLET_PRIV = "0dea92f1df6675085b5cdd965487bb862f84f2755bcb56fa45dbf5b387a6c4a0"
VECTOR_WALLET_PUB = "026092daeed8ecb2212869395770e956ffc9bf453f803e700f64ffa70c97a00d80"


@dataclass
class CopayerKeys:
    """Keys of one copayer.  network: "livenet" | "testnet"; derivation:
    "BIP44" | "BIP45"; ``xpub_override`` replaces the derived xpub (vectors
    that only publish an xpub)."""

    root: BIP32
    network: str = "livenet"
    derivation: str = "BIP44"
    xpub_override: Optional[str] = None
    request_priv_override: Optional[str] = None

    @classmethod
    def random(cls, network: str = "livenet", derivation: str = "BIP44") -> "CopayerKeys":
        return cls(BIP32.from_seed(os.urandom(32), network="main" if network == "livenet" else "test"), network, derivation)

    @classmethod
    def vector(cls) -> "CopayerKeys":
        """Copayer 0 of spec §11.2 (livenet BIP44)."""
        return cls(BIP32.from_xpriv(VECTOR_ROOT_XPRV), "livenet", "BIP44")

    @classmethod
    def from_xpub(cls, xpub: str, network: str = "livenet", derivation: str = "BIP44") -> "CopayerKeys":
        """A copayer known only by its xpub (request key random)."""
        k = cls.random(network, derivation)
        k.xpub_override = xpub
        return k

    @property
    def base_path(self) -> str:
        if self.derivation == "BIP45":
            return "m/45'"
        return "m/44'/0'/0'" if self.network == "livenet" else "m/44'/1'/0'"

    @property
    def xpub(self) -> str:
        return self.xpub_override or self.root.get_xpub_from_path(self.base_path)

    @property
    def request_priv(self) -> str:
        return self.request_priv_override or self.root.get_privkey_from_path("m/1'/0").hex()

    @property
    def request_pub(self) -> str:
        return PrivateKey(bytes.fromhex(self.request_priv)).public_key.format().hex()

    def auth_priv(self) -> str:
        """Private key of the request-key-auth key (base key ``/2``)."""
        return self.root.get_privkey_from_path(self.base_path + "/2").hex()

    def copayer_id(self, coin: str = "btc") -> str:
        return copayer_id(coin, self.xpub)

    def sign(self, text: str) -> str:
        """Sign with the request key."""
        return sign_message(text, self.request_priv)


@dataclass
class WalletKey:
    """The wallet key a creator shares in the invitation secret."""

    priv: str

    @classmethod
    def random(cls) -> "WalletKey":
        return cls(PrivateKey().secret.hex())

    @classmethod
    def vector(cls) -> "WalletKey":
        return cls(VECTOR_WALLET_PRIV)

    @property
    def pub(self) -> str:
        return PrivateKey(bytes.fromhex(self.priv)).public_key.format().hex()

    def copayer_signature(self, name: str, xpub: str, request_pub: str) -> str:
        """``sign(name|xPubKey|requestPubKey, walletPrivKey)`` (§4.3)."""
        return sign_message(f"{name}|{xpub}|{request_pub}", self.priv)


def random_pubkey() -> str:
    return PrivateKey().public_key.format().hex()
