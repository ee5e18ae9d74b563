"""Build, serialise, sign-check and validate BTC/BCH proposal transactions
(docs/spec/api.md §6.8, §6.10).

The serialisation must be byte-identical to bitcore's (the client signs the
transaction it rebuilds from the proposal JSON; ``proposalSignature`` covers
the unsigned raw hex). Serialisation and sighash are python-bitcoinlib's
(``CMutableTransaction``, ``SignatureHash``); signature checks are
coincurve's (strict DER, low-S only).

A proposal is a :class:`bws.model.TxProposal` (docs/spec/api.md §5.4); these
functions read its ``inputs`` (the wallet's UTXO wire dicts ``{txid, vout,
satoshis, scriptPubKey?, publicKeys, path}``), ``input_paths``, ``outputs``
(wire dicts ``{amount, toAddress, script?}``), ``output_order``, ``fee``,
``change_address`` (an :class:`bws.model.Address`, or a bare address string),
``address_type``, ``required_signatures``, ``wallet_n``, ``coin`` and
``actions`` (:class:`bws.model.TxProposalAction`). Amounts are int satoshis.

Signing: :func:`verify_input_signatures` returns the built transaction with
every signature applied, so the quorum signature builds once (the caller
takes ``raw``/``txid`` from it instead of building again).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

from bitcoin.core import (
    COutPoint,
    CMutableTransaction,
    CTransaction,
    CMutableTxIn,
    CMutableTxOut,
    Hash,
    Hash160,
    b2lx,
    lx,
)
from bitcoin.core.script import (
    OP_RETURN,
    SIGHASH_ALL,
    SIGVERSION_BASE,
    SIGVERSION_WITNESS_V0,
    CScript,
    SignatureHash,
)
from bitcoin.core.serialize import SerializationError
from coincurve import PublicKey

from bws.chains.address import multisig_redeem_script, p2pkh_script, p2sh_script, parse_address
from bws.chains.constants import DUST_AMOUNT, EVM_COINS, MAX_TX_FEE, MAX_TX_SIZE_IN_KB
from bws.chains.errors import ClientError, TxBuildError, client_error
from bws.chains.txsize import estimate_size
from bws.crypto import derive_public_key
from bws.errors import BWSError
from bws.jsnum import is_number
from bws.model import TxProposal, TxProposalAction, or_default

__all__ = [
    "InputInfo",
    "BuiltTx",
    "build_tx",
    "unsigned_raw",
    "signed_tx",
    "signed_raw",
    "txid_of",
    "is_raw_tx",
    "add_signature",
    "apply_signatures",
    "verify_input_signatures",
    "check_tx",
    "SIGHASH_FORKID",
    "SEQUENCE_FINAL",
    "SEQUENCE_RBF",
]

SIGHASH_FORKID = 0x40

#: nSequence of every input: final (bitcore ``Input.DEFAULT_SEQNUMBER``), or
#: BIP125 replaceable when the proposal has ``enableRBF`` (bitcore
#: ``Transaction#enableRBF``: ``Input.DEFAULT_RBF_SEQNUMBER`` = 0xffffffff - 2)
SEQUENCE_FINAL = 0xFFFFFFFF
SEQUENCE_RBF = 0xFFFFFFFD


@dataclass
class InputInfo:
    """What signing needs to know about one transaction input.

    public_keys: hex, sorted (bitcore order) for P2SH, [key] for P2PKH.
    signatures: pubkey hex → DER signature bytes (without hashtype byte).
    """

    txid: str
    vout: int
    satoshis: int
    script_pubkey: bytes
    type: str
    public_keys: list[str]
    threshold: int
    redeem_script: Optional[bytes] = None
    signatures: dict[str, bytes] = field(default_factory=dict)

    @property
    def script_code(self) -> bytes:
        """The script the signature hash commits to (redeem script for P2SH)."""
        return self.redeem_script if self.type == "P2SH" else self.script_pubkey

    def is_fully_signed(self) -> bool:
        return len(self.signatures) >= self.threshold


@dataclass
class BuiltTx:
    """A built proposal transaction (python-bitcoinlib ``tx``) plus signing state."""

    tx: CMutableTransaction
    inputs: list[InputInfo]
    coin: str = "btc"

    @property
    def hashtype(self) -> int:
        """0x01 (BTC, legacy digest) or 0x41 (BCH, SIGHASH_ALL|FORKID, BIP143 digest)."""
        return SIGHASH_ALL | SIGHASH_FORKID if self.coin == "bch" else SIGHASH_ALL

    def sighash(self, index: int) -> bytes:
        """32-byte digest signed for input ``index`` (big-endian ECDSA ``e``)."""
        info = self.inputs[index]
        if self.coin == "bch":
            return SignatureHash(
                CScript(info.script_code), self.tx, index, self.hashtype, info.satoshis, SIGVERSION_WITNESS_V0
            )
        return SignatureHash(CScript(info.script_code), self.tx, index, self.hashtype, None, SIGVERSION_BASE)

    def serialize(self) -> bytes:
        return self.tx.serialize()

    @property
    def raw(self) -> str:
        """Hex serialisation including whatever signatures were applied."""
        return self.serialize().hex()

    @property
    def txid(self) -> str:
        return b2lx(Hash(self.serialize()))

    @property
    def fee(self) -> int:
        return sum(i.satoshis for i in self.inputs) - sum(o.nValue for o in self.tx.vout)

    def _update_script(self, index: int) -> None:
        info = self.inputs[index]
        ht = bytes([self.hashtype])
        if not info.signatures:
            self.tx.vin[index].scriptSig = _unsigned_script_sig(info)
        elif info.type == "P2SH":
            sigs = [info.signatures[k] + ht for k in info.public_keys if k in info.signatures]
            self.tx.vin[index].scriptSig = CScript([0] + sigs + [info.redeem_script])
        else:
            (pub, sig), = info.signatures.items()
            self.tx.vin[index].scriptSig = CScript([sig + ht, bytes.fromhex(pub)])


# --------------------------------------------------------------------------
# building


def _int_amount(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TxBuildError("Output satoshis are invalid")
    if isinstance(value, float):
        if value != value or value != int(value):
            raise TxBuildError("Output satoshis are invalid")
        value = int(value)
    if value < 0:
        raise TxBuildError("Output satoshis are invalid")
    return value


def _input_info(inp: Mapping, address_type: str, threshold: int) -> InputInfo:
    """``inp``: one proposal input, a UTXO wire dict (module docstring)."""
    pubs = [k.lower() for k in (inp.get("publicKeys") or [])]
    spk_hex = inp.get("scriptPubKey")
    if address_type == "P2SH":
        if not pubs:
            raise TxBuildError("Inputs should include public keys")
        redeem = multisig_redeem_script(pubs, threshold)
        spk = bytes.fromhex(spk_hex) if spk_hex else p2sh_script(Hash160(redeem))
        return InputInfo(
            inp.get("txid"), int(inp.get("vout")), _int_amount(inp.get("satoshis")), spk,
            "P2SH", sorted(pubs), threshold, redeem,
        )
    if spk_hex:
        spk = bytes.fromhex(spk_hex)
    elif pubs:
        spk = p2pkh_script(Hash160(bytes.fromhex(pubs[0])))
    else:
        raise TxBuildError("Inputs should include scriptPubKey or public keys")
    return InputInfo(
        inp.get("txid"), int(inp.get("vout")), _int_amount(inp.get("satoshis")), spk,
        "P2PKH", pubs[:1], 1,
    )


def _output_script(out: Mapping, coin: str) -> bytes:
    """``out``: one proposal output, a wire dict ``{amount, toAddress?, script?}``."""
    script = out.get("script")
    if script:
        return bytes.fromhex(script)
    to = out.get("toAddress")
    if not to:
        raise TxBuildError("Output should have either toAddress or script specified")
    return parse_address(to, coin).script


def build_tx(txp: TxProposal) -> BuiltTx:
    """Build the unsigned transaction of a proposal exactly like bitcore
    (docs/spec/api.md §6.8).

    Version 1, locktime 0, sequences 0xffffffff -- 0xfffffffd on every input
    when the proposal has ``enableRBF`` (the client's ``t.enableRBF()``,
    docs/spec/protocol-bwc11.md §7.1 step 3, §7.5); inputs in stored order
    (duplicate txid:vout ignored); outputs, then change (Σin − Σout − fee, if
    > 0 and txp.change_address), then permuted by ``output_order`` when there is
    more than one output. Returns :class:`BuiltTx`.
    Raises TxBuildError (reference: a bitcore exception → HTTP 500) on
    inconsistent proposals, ClientError('INVALID_ADDRESS') on a bad toAddress.
    """
    coin = txp.coin or "btc"
    if coin in EVM_COINS:
        raise TxBuildError("Unsupported operation for this coin")
    # TxProposal default: P2SH for shared wallets, P2PKH for 1-of-1 (docs/spec/api.md §5.4).
    address_type = txp.address_type or ("P2SH" if or_default(txp.wallet_n, 1) > 1 else "P2PKH")
    threshold = int(or_default(txp.required_signatures, 1))
    fee = txp.fee
    if not is_number(fee):
        raise TxBuildError("Proposal fee is not set")

    infos: list[InputInfo] = []
    seen = set()
    for inp in txp.inputs or []:
        info = _input_info(inp, address_type, threshold)
        key = (info.txid, info.vout)
        if key in seen:  # bitcore's Transaction.from() skips an input it already has
            continue
        seen.add(key)
        infos.append(info)

    outs: list[tuple[int, bytes]] = []
    for o in txp.outputs or []:
        outs.append((_int_amount(o.get("amount")), _output_script(o, coin)))

    total_in = sum(i.satoshis for i in infos)
    change = total_in - sum(v for v, _ in outs) - fee
    change_address = txp.change_address
    if change > 0 and change_address:
        addr = change_address if isinstance(change_address, str) else change_address.address
        outs.append((_int_amount(change), parse_address(addr, coin).script))

    if len(outs) > 1:
        order = [k for k in (txp.output_order or []) if k < len(outs)]
        if len(order) != len(outs) or sorted(order) != list(range(len(outs))):
            raise TxBuildError("Invalid state: outputOrder does not match the outputs")
        outs = [outs[k] for k in order]

    # Validate inputs vs outputs independently of the serialiser (reference asserts).
    total_out = sum(v for v, _ in outs)
    if not (total_in > 0 and total_out > 0 and total_in >= total_out):
        raise TxBuildError("Invalid state: inputs/outputs amounts")
    if total_in - total_out > MAX_TX_FEE:
        raise TxBuildError("Invalid state: fee above MAX_TX_FEE")

    sequence = SEQUENCE_RBF if getattr(txp, "enable_rbf", None) is True else SEQUENCE_FINAL
    tx = CMutableTransaction(
        [CMutableTxIn(COutPoint(lx(i.txid), i.vout), _unsigned_script_sig(i), sequence) for i in infos],
        [CMutableTxOut(v, CScript(s)) for v, s in outs],
        nLockTime=0,
        nVersion=1,
    )
    return BuiltTx(tx, infos, coin)


def _unsigned_script_sig(info: InputInfo) -> CScript:
    """scriptSig of an input that has no signature yet, as bitcore-lib 0.15 serialises it.

    P2PKH: empty. P2SH multisig: ``OP_0 <redeemScript>`` (bitcore's
    ``buildP2SHMultisigIn`` with no signatures). The real client signs this form
    in ``publishTxProposal``; docs/spec/api.md §11.5 shows an empty scriptSig there,
    which the client never produces (docs/compatibility.md).
    """
    if info.type == "P2SH":
        return CScript([0, info.redeem_script])
    return CScript()


def unsigned_raw(txp: TxProposal) -> str:
    """Hex of the unsigned serialisation: what ``proposalSignature`` signs (see _unsigned_script_sig)."""
    return build_tx(txp).raw


def txid_of(raw_hex: str) -> str:
    """Byte-reversed sha256d of a serialisation, hex."""
    return b2lx(Hash(bytes.fromhex(raw_hex)))


def is_raw_tx(raw_hex: Any) -> bool:
    """True when ``raw_hex`` is hex text of one whole serialised BTC/BCH
    transaction with at least one input and one output (what a node can
    decode; anything else it refuses with "TX decode failed")."""
    if not isinstance(raw_hex, str):
        return False
    try:
        tx = CTransaction.deserialize(bytes.fromhex(raw_hex))
    except (ValueError, SerializationError):
        return False
    return bool(tx.vin) and bool(tx.vout)


# --------------------------------------------------------------------------
# signatures


def _verify(digest: bytes, sig: bytes, pub_hex: str) -> bool:
    try:
        return PublicKey(bytes.fromhex(pub_hex)).verify(sig, digest, hasher=None)
    except Exception:
        return False


def add_signature(built: BuiltTx, index: int, sig_der: bytes, pub_hex: str) -> None:
    """Check and add one signature to input ``index`` (bitcore ``addSignature``).

    Raises ValueError when: the input is already fully signed (P2SH), the key
    is not one of the input's keys (P2SH), or the DER signature is not a valid
    low-S signature of the input's sighash by ``pub_hex``.
    """
    info = built.inputs[index]
    pub_hex = pub_hex.lower()
    if info.type == "P2SH":
        if info.is_fully_signed():
            raise ValueError("All needed signatures have already been added")
        if pub_hex not in info.public_keys:
            raise ValueError("Signature has no matching public key")
    if not _verify(built.sighash(index), sig_der, pub_hex):
        raise ValueError("Signature is invalid")
    if info.type == "P2PKH":
        info.signatures.clear()
    info.signatures[pub_hex] = sig_der
    built._update_script(index)


def _input_paths(txp: TxProposal) -> list[str]:
    if txp.input_paths:
        return list(txp.input_paths)
    return [i.get("path") for i in (txp.inputs or [])]


def apply_signatures(built: BuiltTx, txp: TxProposal, xpub: str, signatures: Sequence[str]) -> None:
    """Apply one copayer's signature set (hex DER, one per input, in input order).

    Public keys are derived from ``xpub`` at ``txp.input_paths[i]``.
    Raises ValueError when the count is wrong or any signature fails
    (docs/spec/api.md §6.10).
    """
    if not isinstance(signatures, (list, tuple)) or len(signatures) != len(built.inputs):
        raise ValueError("Number of signatures does not match number of inputs")
    paths = _input_paths(txp)
    for i, sig_hex in enumerate(signatures):
        if not isinstance(sig_hex, str):
            raise ValueError("Signature is not hex")
        pub = derive_public_key(xpub, paths[i])
        add_signature(built, i, bytes.fromhex(sig_hex), pub)


def _accept_actions(txp: TxProposal) -> list[TxProposalAction]:
    return [a for a in (txp.actions or []) if a.type == "accept"]


def signed_tx(txp: TxProposal) -> BuiltTx:
    """The proposal's transaction with the signatures of every accept action applied.

    Raises TxBuildError / ClientError (see :func:`build_tx`) and ValueError
    (a stored signature set that does not verify)."""
    built = build_tx(txp)
    for action in _accept_actions(txp):
        apply_signatures(built, txp, action.xpub, action.signatures or [])
    return built


def signed_raw(txp: TxProposal) -> str:
    """Hex of :func:`signed_tx` (fully signed once the proposal is accepted)."""
    return signed_tx(txp).raw


def verify_input_signatures(txp: TxProposal, xpub: str, signatures: Any) -> BuiltTx:
    """signTx's check (docs/spec/api.md §6.10): are ``signatures`` (hex DER
    list, one per input) valid for this proposal, signed by the keys of
    ``xpub`` at ``input_paths``, on top of the signatures of the proposal's
    accept actions?

    Returns the transaction with the accept actions' signatures and these
    applied: once this vote completes the quorum, its ``raw``/``txid`` are
    the proposal's, so the caller does not build it a second time.
    Raises ClientError('BAD_SIGNATURES') when they are not valid: a wrong
    count, a non-hex or non-DER value, a high-S or foreign signature, or a
    P2SH input that is already fully signed (e.g. a 3rd signature on an
    accepted 2-of-3); also when the proposal itself cannot be built.
    Sighash: ALL (BTC), ALL|FORKID BIP143 (BCH).
    """
    try:
        built = signed_tx(txp)
        apply_signatures(built, txp, xpub, signatures)
    except (ValueError, BWSError) as e:
        # ValueError: a signature that does not verify (client input), or a
        # key that cannot be derived (bip32 raises ValueErrors); BWSError: the
        # proposal cannot be built. Anything else is a bug and stays a 500.
        raise client_error("BAD_SIGNATURES") from e
    return built


# --------------------------------------------------------------------------
# checkTx


def _is_op_return(script: bytes) -> bool:
    return len(script) > 0 and script[0] == OP_RETURN


def check_tx(txp: TxProposal) -> BuiltTx:
    """Validate a proposal whose inputs and fee are set (docs/spec/api.md §6.8 ``checkTx``).

    Raises ClientError('TX_MAX_SIZE_EXCEEDED'), BADREQUEST "Invalid fee:
    above the maximum ..." when txp.fee (given with explicit inputs, or
    computed from feePerKb) exceeds MAX_TX_FEE, TxBuildError (any other build
    problem), ClientError('INSUFFICIENT_FUNDS_FOR_FEE') when the fee implied
    by inputs/outputs/change differs from txp.fee, ClientError('DUST_AMOUNT')
    for a non-OP_RETURN output below 546. On success sets ``txp.fee`` to the
    transaction's fee and returns the built transaction.
    """
    if estimate_size(txp) / 1000 > MAX_TX_SIZE_IN_KB:
        raise client_error("TX_MAX_SIZE_EXCEEDED")
    fee = txp.fee
    if is_number(fee) and fee > MAX_TX_FEE:
        # the build's own sanity check (reference: bitcore's checkState
        # 'fee-too-high', a 500) would refuse it; this is the client's choice
        raise ClientError(f"Invalid fee: above the maximum of {MAX_TX_FEE} satoshis")
    built = build_tx(txp)
    unspent = built.fee
    if unspent < 0:
        raise TxBuildError("Invalid outputs amount sum")
    if unspent != txp.fee:
        raise client_error("INSUFFICIENT_FUNDS_FOR_FEE")
    for out in built.tx.vout:
        if out.nValue < DUST_AMOUNT and not _is_op_return(bytes(out.scriptPubKey)):
            raise client_error("DUST_AMOUNT")
    txp.fee = unspent
    return built
