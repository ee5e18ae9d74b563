"""EVM raw transactions: decode, recover the sender, check against a proposal
(docs/spec/api.md §9.6).  Pure functions, no I/O: the caller supplies the
node's facts (expected chain id, the sender's next nonce).

The fork's clients sign the transaction themselves and send the raw bytes as
``signatures[0][0].signature``; the reference broadcast it unchecked.  Here,
:func:`verify_raw_tx` refuses anything that does not do exactly what the
proposal says:

* sender (recovered from the signature) = ``inputs[0].address``;
* eth/tri: ``to`` = ``outputs[0].toAddress``, ``value`` = ``outputs[0].amount``,
  empty ``data``;
* try: ``to`` = the TRY contract, ``value`` = 0, ``data`` = exactly
  ``transfer(outputs[0].toAddress, outputs[0].amount)``;
* ``nonce`` = the expected nonce (the node's ``pending`` count of the sender);
* chain id: typed transactions (EIP-2930 / EIP-1559) carry ``chainId``; legacy
  ones carry it in ``v`` (EIP-155, ``v = 35 + 2·chainId + {0,1}``).  A legacy
  ``v`` of 27/28 (pre-EIP-155, replayable on any chain) is accepted only when
  ``allow_unprotected`` (the fork's TRY client signs that way).

Errors are ``ClientError("INVALID_RAW_TX", <what is wrong>)``; a value that is
not a decodable signed transaction at all is ``BAD_SIGNATURES`` (what the
reference answers for a malformed signatures argument).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import rlp
from eth_account import Account
from eth_account._utils.legacy_transactions import Transaction as LegacyTransaction
from eth_account.typed_transactions import TypedTransaction
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes

from bws.errors import ClientError, Errors

__all__ = [
    "INVALID_RAW_TX",
    "DecodedTx",
    "decode_raw_tx",
    "erc20_transfer_data",
    "decode_erc20_transfer",
    "raw_from_signatures",
    "verify_raw_tx",
    "tx_hash",
]

INVALID_RAW_TX = "INVALID_RAW_TX"
#: ``transfer(address,uint256)`` selector
TRANSFER_SELECTOR = bytes.fromhex("a9059cbb")


def invalid(message: str) -> ClientError:
    return ClientError(INVALID_RAW_TX, message)


@dataclass
class DecodedTx:
    """A signed EVM transaction, decoded.  ``chain_id`` None = pre-EIP-155
    legacy signature; ``gas_price`` is ``maxFeePerGas`` for EIP-1559."""

    raw: bytes
    hash: str  # 0x + 64 hex (keccak of the raw bytes: the txid)
    type: int  # 0 legacy, 1 EIP-2930, 2 EIP-1559
    sender: str  # EIP-55
    to: Optional[str]  # EIP-55, None for contract creation
    value: int
    data: bytes
    nonce: int
    gas: int
    gas_price: int
    chain_id: Optional[int]

    @property
    def max_fee(self) -> int:
        """Upper bound of the fee in wei (what the node checks against the balance)."""
        return self.gas * self.gas_price


def _hex_bytes(raw: Any) -> bytes:
    if isinstance(raw, (bytes, bytearray)):
        return bytes(raw)
    if not isinstance(raw, str) or not raw:
        raise Errors.BAD_SIGNATURES
    text = raw[2:] if raw[:2] in ("0x", "0X") else raw
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise Errors.BAD_SIGNATURES from None


def tx_hash(raw: Any) -> str:
    """txid of a signed raw transaction: ``0x`` + keccak256(raw) hex."""
    return "0x" + keccak(_hex_bytes(raw)).hex()


def decode_raw_tx(raw: Any) -> DecodedTx:
    """Decode a signed raw transaction (hex with or without ``0x``, or bytes).
    BAD_SIGNATURES when it is not one (bad hex, bad RLP, unknown type, a
    signature that recovers no key)."""
    data = _hex_bytes(raw)
    if not data:
        raise Errors.BAD_SIGNATURES
    try:
        if data[0] <= 0x7F:
            typed = TypedTransaction.from_bytes(HexBytes(data))
            d = typed.as_dict()
            ttype = int(d.get("type", data[0]))
            chain_id = int(d["chainId"])
            gas_price = int(d["maxFeePerGas"]) if ttype == 2 else int(d["gasPrice"])
        else:
            legacy = LegacyTransaction.from_bytes(data)
            d = legacy.as_dict()
            ttype = 0
            v = int(d["v"])
            if v in (27, 28):
                chain_id = None
            elif v >= 35:
                chain_id = (v - 35) // 2
            else:
                raise ValueError(f"bad v {v}")
            gas_price = int(d["gasPrice"])
        sender = Account.recover_transaction(data)
    except (ValueError, TypeError, KeyError, rlp.exceptions.RLPException, Exception) as e:  # noqa: BLE001
        if isinstance(e, ClientError):
            raise
        raise ClientError("BAD_SIGNATURES", f"Bad signatures: not a signed transaction ({e.__class__.__name__})") from None
    to = bytes(d.get("to") or b"")
    return DecodedTx(
        raw=data,
        hash="0x" + keccak(data).hex(),
        type=ttype,
        sender=to_checksum_address(sender),
        to=to_checksum_address(to) if len(to) == 20 else None,
        value=int(d.get("value") or 0),
        data=bytes(d.get("data") or b""),
        nonce=int(d["nonce"]),
        gas=int(d["gas"]),
        gas_price=gas_price,
        chain_id=chain_id,
    )


def erc20_transfer_data(to: str, amount: int) -> bytes:
    """ABI call data of ERC20 ``transfer(to, amount)``."""
    addr = bytes.fromhex(to[2:] if to[:2] in ("0x", "0X") else to)
    if len(addr) != 20:
        raise ValueError("address must be 20 bytes")
    return TRANSFER_SELECTOR + addr.rjust(32, b"\0") + int(amount).to_bytes(32, "big")


def decode_erc20_transfer(data: bytes) -> Optional[tuple[str, int]]:
    """(to EIP-55, amount) of exact ``transfer(address,uint256)`` call data, else None."""
    if len(data) != 68 or data[:4] != TRANSFER_SELECTOR or any(data[4:16]):
        return None
    return to_checksum_address(data[16:36]), int.from_bytes(data[36:68], "big")


def raw_from_signatures(signatures: Any) -> str:
    """The raw transaction of a fork-client sign request.

    Accepted shapes: ``[[{"signature": raw, ...}]]`` (what the fork's client
    sends, docs/spec/api.md §9.6), ``[{"signature": raw}]`` and ``[raw]``.  Anything else is
    BAD_SIGNATURES."""
    first: Any = signatures
    for _ in range(3):
        if isinstance(first, list):
            if not first:
                raise Errors.BAD_SIGNATURES
            first = first[0]
        elif isinstance(first, dict):
            first = first.get("signature")
        else:
            break
    if not isinstance(first, str) or not first:
        raise Errors.BAD_SIGNATURES
    _hex_bytes(first)
    return first


def _same_address(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and a.lower() == b.lower()


def verify_raw_tx(
    raw: Any,
    *,
    coin: str,
    sender: str,
    to_address: str,
    amount: int,
    chain_id: int,
    nonce: Optional[int] = None,
    token_address: Optional[str] = None,
    allow_unprotected: bool = False,
) -> DecodedTx:
    """Decode ``raw`` and check it against a proposal (see the module doc).

    coin: "eth" | "tri" (native transfer) or "try" (token transfer, needs
    ``token_address``); sender: ``inputs[0].address``; to_address/amount:
    ``outputs[0]``; nonce: the node's next nonce of the sender (None: not
    checked).  Returns the decoded tx; raises INVALID_RAW_TX / BAD_SIGNATURES.
    """
    tx = decode_raw_tx(raw)
    if not _same_address(tx.sender, sender):
        raise invalid(f"Raw transaction is signed by {tx.sender}, not by the proposal's address {sender}")
    if tx.chain_id is None:
        if not allow_unprotected:
            raise invalid(f"Raw transaction has no chain id (pre-EIP-155 signature); chain id {chain_id} required")
    elif tx.chain_id != chain_id:
        raise invalid(f"Raw transaction chain id {tx.chain_id} does not match chain id {chain_id}")
    if coin == "try":
        if not token_address or not _same_address(tx.to, token_address):
            raise invalid(f"Raw transaction recipient {tx.to} is not the token contract {token_address}")
        if tx.value != 0:
            raise invalid("Raw transaction sends ETH value with a token transfer")
        call = decode_erc20_transfer(tx.data)
        if call is None:
            raise invalid("Raw transaction data is not an ERC20 transfer(address,uint256)")
        if not _same_address(call[0], to_address):
            raise invalid(f"Raw transaction transfers to {call[0]}, the proposal to {to_address}")
        if call[1] != amount:
            raise invalid(f"Raw transaction transfers {call[1]}, the proposal {amount}")
    else:
        if not _same_address(tx.to, to_address):
            raise invalid(f"Raw transaction recipient {tx.to} does not match the proposal's {to_address}")
        if tx.value != amount:
            raise invalid(f"Raw transaction value {tx.value} does not match the proposal's amount {amount}")
        if tx.data:
            raise invalid("Raw transaction carries call data; a plain transfer has none")
    if nonce is not None and tx.nonce != nonce:
        raise invalid(f"Raw transaction nonce {tx.nonce} does not match the address's next nonce {nonce}")
    return tx
