"""Addresses: wallet derivation, output-address parsing, scripts (docs/spec/api.md §6.1, §9.2).

* BTC: base58check with version 0x00/0x05 (livenet), 0x6f/0xc4 (testnet and
  regtest). We also accept 0x3a ("Q…") as a *testnet* P2SH when parsing,
  because litecoind regtest (our local test node) re-encodes 0xc4 that way.
* BTC native segwit (issue 18, destinations only): bech32 (witness v0:
  P2WPKH 20-byte, P2WSH 32-byte programs) and bech32m (v1: P2TR, 32 bytes),
  HRP ``bc`` (livenet), ``tb`` and ``bcrt`` (both our "testnet", as base58
  testnet and regtest share versions); decoded and checksummed by embit
  (bws/chains/script.py). Other witness versions/lengths, other HRPs
  (``ltc``, ``rltc``…) and any bech32 string for BCH are INVALID_ADDRESS.
* BCH: Copay "legacy" versions 28 ("C…") / 40 ("H…") on livenet, testnet
  like BTC. Cashaddr is not accepted (no library here; the 6.x client sends
  the legacy form).
* ETH/TRY: ``0x`` + EIP-55 checksummed keccak(pubkey)[12:], always livenet.

Addresses are encoded with an explicit version byte through python-bitcoinlib's
``CBase58Data`` (never its global network params).
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

from bitcoin.base58 import Base58ChecksumError, CBase58Data, InvalidBase58Error
from bitcoin.core import Hash160
from bitcoin.core.script import (
    OP_CHECKMULTISIG,
    OP_CHECKSIG,
    OP_DUP,
    OP_EQUAL,
    OP_EQUALVERIFY,
    OP_HASH160,
    CScript,
    CScriptOp,
)
from coincurve import PublicKey
from eth_utils import keccak, to_checksum_address

from bws.chains.constants import EVM_COINS
from bws.chains.errors import client_error
from bws.chains.script import decode_segwit_address, segwit_address, witness_program, witness_script
from bws.crypto import derive_public_key

__all__ = [
    "ParsedAddress",
    "derive_address",
    "derive_public_keys",
    "multisig_redeem_script",
    "p2pkh_script",
    "p2sh_script",
    "eth_address_from_pubkey",
    "parse_address",
    "validate_output_address",
    "script_for_address",
    "address_from_script",
    "is_valid_address",
]

P2PKH = "P2PKH"
P2SH = "P2SH"
P2WPKH = "P2WPKH"
P2WSH = "P2WSH"
P2TR = "P2TR"

# BTC bech32/bech32m human-readable part -> network (parsing); network -> HRP (naming).
_SEGWIT_HRP_NETWORKS = {"bc": "livenet", "tb": "testnet", "bcrt": "testnet"}
_SEGWIT_HRPS = {"livenet": "bc", "testnet": "tb"}
# (witness version, program length) -> type: the output types BTC wallets may pay.
_SEGWIT_TYPES = {(0, 20): P2WPKH, (0, 32): P2WSH, (1, 32): P2TR}

# (coin, network) -> (p2pkh version, p2sh version) used when *encoding*.
_ENCODE_VERSIONS = {
    ("btc", "livenet"): (0x00, 0x05),
    ("btc", "testnet"): (0x6F, 0xC4),
    ("bch", "livenet"): (28, 40),
    ("bch", "testnet"): (0x6F, 0xC4),
}

# coin -> version byte -> (network, type) used when *parsing*.
_DECODE_VERSIONS = {
    "btc": {
        0x00: ("livenet", P2PKH),
        0x05: ("livenet", P2SH),
        0x6F: ("testnet", P2PKH),
        0xC4: ("testnet", P2SH),
        0x3A: ("testnet", P2SH),  # litecoind regtest's "Q…" re-encoding of 0xc4
    },
    "bch": {
        28: ("livenet", P2PKH),
        40: ("livenet", P2SH),
        0x6F: ("testnet", P2PKH),
        0xC4: ("testnet", P2SH),
    },
}


class ParsedAddress(NamedTuple):
    """Result of :func:`parse_address`.

    network: "livenet" | "testnet"; script: scriptPubKey bytes (b"" for
    ETH/TRY); type: "P2PKH" | "P2SH" | "P2WPKH" | "P2WSH" | "P2TR" (the
    last three BTC only); address: canonical string (EIP-55 for ETH/TRY,
    lower-case for bech32, unchanged otherwise).
    """

    network: str
    script: bytes
    type: str
    address: str


# --------------------------------------------------------------------------
# scripts


def p2pkh_script(h160: bytes) -> bytes:
    """OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG."""
    return bytes(CScript([OP_DUP, OP_HASH160, h160, OP_EQUALVERIFY, OP_CHECKSIG]))


def p2sh_script(h160: bytes) -> bytes:
    """OP_HASH160 <20> OP_EQUAL."""
    return bytes(CScript([OP_HASH160, h160, OP_EQUAL]))


def multisig_redeem_script(pubkeys_hex: Sequence[str], m: int) -> bytes:
    """OP_m <pubkeys sorted by lowercase hex> OP_n OP_CHECKMULTISIG (bitcore order)."""
    keys = sorted(k.lower() for k in pubkeys_hex)
    if not 1 <= m <= len(keys) <= 16:
        raise ValueError("invalid multisig m/n")
    return bytes(
        CScript(
            [CScriptOp.encode_op_n(m)]
            + [bytes.fromhex(k) for k in keys]
            + [CScriptOp.encode_op_n(len(keys)), OP_CHECKMULTISIG]
        )
    )


def _b58(version: int, payload: bytes) -> str:
    return str(CBase58Data.from_bytes(payload, version))


def eth_address_from_pubkey(pub_hex: str) -> str:
    """EIP-55 ``0x…`` address: keccak256(X||Y)[12:] of the uncompressed pubkey."""
    raw = PublicKey(bytes.fromhex(pub_hex)).format(compressed=False)[1:]
    return to_checksum_address(keccak(raw)[12:])


# --------------------------------------------------------------------------
# derivation


def derive_public_keys(xpubs: Sequence[str], path: str) -> list[str]:
    """Compressed pubkey hex of every xpub at ``path``, in ring order (not sorted)."""
    return [derive_public_key(x, path) for x in xpubs]


def derive_address(
    xpubs: Sequence[str],
    path: str,
    coin: str = "btc",
    network: str = "livenet",
    address_type: str = P2PKH,
    m: int = 1,
) -> dict:
    """Derive a wallet address (docs/spec/api.md §6.1).

    xpubs: the wallet's publicKeyRing xPubKeys in ring (join) order;
    path: "m/0/5" style non-hardened path; address_type: "P2PKH" (exactly one
    xpub) or "P2SH" (m-of-len(xpubs) multisig).
    Returns ``{address, path, publicKeys (ring order), type, network}``; for
    eth/try the network is always "livenet" and the type "P2PKH".
    Raises ValueError on a bad xpub/path/shape (the service reports "Bad xPub").
    """
    pubs = derive_public_keys(xpubs, path)
    if coin in EVM_COINS:
        if len(pubs) != 1:
            raise ValueError("eth/try addresses need exactly one public key")
        return {
            "address": eth_address_from_pubkey(pubs[0]),
            "path": path,
            "publicKeys": pubs,
            "type": P2PKH,
            "network": "livenet",
        }
    try:
        v_pkh, v_sh = _ENCODE_VERSIONS[(coin, network)]
    except KeyError:
        raise ValueError(f"unsupported coin/network {coin}/{network}") from None
    if address_type == P2PKH:
        if len(pubs) != 1:
            raise ValueError("P2PKH addresses need exactly one public key")
        address = _b58(v_pkh, Hash160(bytes.fromhex(pubs[0])))
    elif address_type == P2SH:
        address = _b58(v_sh, Hash160(multisig_redeem_script(pubs, m)))
    else:
        raise ValueError(f"unknown address type {address_type!r}")
    return {"address": address, "path": path, "publicKeys": pubs, "type": address_type, "network": network}


# --------------------------------------------------------------------------
# parsing


def _parse_evm(address: str) -> ParsedAddress:
    if not (isinstance(address, str) and len(address) == 42 and address[:2] in ("0x", "0X")):
        raise client_error("INVALID_ADDRESS")
    body = address[2:]
    try:
        bytes.fromhex(body)
    except ValueError:
        raise client_error("INVALID_ADDRESS") from None
    checksummed = to_checksum_address("0x" + body.lower())
    # Mixed case means the sender used EIP-55: then it must be right.
    if body != body.lower() and body != body.upper() and checksummed != "0x" + body:
        raise client_error("INVALID_ADDRESS")
    return ParsedAddress("livenet", b"", P2PKH, checksummed)


def _parse_segwit(address: str) -> Optional[ParsedAddress]:
    """A BTC bech32/bech32m address → :class:`ParsedAddress`; None when the
    string is not bech32 with a BTC HRP at all (then base58 is tried).
    Raises ClientError('INVALID_ADDRESS') for a BTC-HRP string that fails
    BIP173/BIP350 or is not a P2WPKH/P2WSH/P2TR program."""
    sep = address.rfind("1")
    network = _SEGWIT_HRP_NETWORKS.get(address[:sep].lower()) if sep > 0 else None
    if network is None:
        return None
    decoded = decode_segwit_address(address)
    if decoded is None:
        raise client_error("INVALID_ADDRESS")
    _, version, program = decoded
    kind = _SEGWIT_TYPES.get((version, len(program)))
    if kind is None:
        raise client_error("INVALID_ADDRESS")
    return ParsedAddress(network, witness_script(version, program), kind, address.lower())


def parse_address(address: str, coin: str = "btc") -> ParsedAddress:
    """Parse an output address for ``coin`` → :class:`ParsedAddress`.

    Raises ClientError('INVALID_ADDRESS') when it is not an address of that
    coin (any network). Network checks are :func:`validate_output_address`'s.
    """
    if coin in EVM_COINS:
        return _parse_evm(address)
    versions = _DECODE_VERSIONS.get(coin)
    if versions is None or not isinstance(address, str) or not address:
        raise client_error("INVALID_ADDRESS")
    if coin == "btc":
        segwit = _parse_segwit(address)
        if segwit is not None:
            return segwit
    try:
        data = CBase58Data(address)
    except (Base58ChecksumError, InvalidBase58Error, ValueError, IndexError):
        raise client_error("INVALID_ADDRESS") from None
    if len(data) != 20 or data.nVersion not in versions:
        raise client_error("INVALID_ADDRESS")
    network, kind = versions[data.nVersion]
    script = p2pkh_script(bytes(data)) if kind == P2PKH else p2sh_script(bytes(data))
    return ParsedAddress(network, script, kind, address)


def validate_output_address(address: str, coin: str, network: str) -> ParsedAddress:
    """:func:`parse_address` plus the network check.

    Raises ClientError('INVALID_ADDRESS') or ClientError('INCORRECT_ADDRESS_NETWORK').
    """
    parsed = parse_address(address, coin)
    if coin not in EVM_COINS and parsed.network != network:
        raise client_error("INCORRECT_ADDRESS_NETWORK")
    return parsed


def is_valid_address(address: str, coin: str = "btc") -> bool:
    try:
        parse_address(address, coin)
        return True
    except Exception:
        return False


def script_for_address(address: str, coin: Optional[str] = None) -> str:
    """scriptPubKey hex for a BTC/BCH address (ETH/TRY → ""); coin None tries btc then bch.

    Raises ClientError('INVALID_ADDRESS').
    """
    coins = [coin] if coin else ["btc", "bch"]
    last: Exception | None = None
    for c in coins:
        try:
            return parse_address(address, c).script.hex()
        except Exception as exc:  # try the next coin
            last = exc
    raise last  # type: ignore[misc]


def address_from_script(script: bytes | str, coin: str = "btc", network: str = "livenet") -> Optional[str]:
    """Inverse of :func:`script_for_address` for standard P2PKH/P2SH scripts and,
    for BTC, P2WPKH/P2WSH/P2TR programs (bech32/bech32m, HRP ``bc``/``tb``); else None.

    script: bytes or hex. Used to match node outputs by scriptPubKey and to
    name payees in history.
    """
    if isinstance(script, str):
        script = bytes.fromhex(script)
    versions = _ENCODE_VERSIONS.get((coin, network))
    if versions is None:
        return None
    if len(script) == 25 and script[:3] == b"\x76\xa9\x14" and script[23:] == b"\x88\xac":
        return _b58(versions[0], script[3:23])
    if len(script) == 23 and script[:2] == b"\xa9\x14" and script[22:] == b"\x87":
        return _b58(versions[1], script[2:22])
    prog = witness_program(script) if coin == "btc" else None
    if prog is not None and (prog[0], len(prog[1])) in _SEGWIT_TYPES:
        return segwit_address(_SEGWIT_HRPS[network], script.hex())
    return None
