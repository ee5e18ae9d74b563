"""UTXO chain rules: btc and bch (bws/chains/rules.py ``rules_for``).

What a proposal of a UTXO coin must satisfy before the services select
inputs, store or sign it (upstream bitcore-wallet-service lib/server.js
``createTx`` / ``_validateOutputs`` / ``_selectTxInputs`` / ``signTx``;
docs/spec/api.md §6.9-§6.10): the fee arguments, the outputs, caller-supplied
inputs; signature verification and the final raw transaction
(bws/chains/txbuild.py).  No I/O: the wallet's UTXOs come from the services.
"""

from __future__ import annotations

from typing import Any, Optional

from bws.chains.address import script_for_address
from bws.chains.checks import (
    check_script,
    fee_level_names,
    invalid_fee_level_error,
    is_int,
    truthy,
    validate_outputs,
)
from bws.chains.constants import UTXO_FAMILY
from bws.chains.txbuild import BuiltTx, is_raw_tx, signed_raw, verify_input_signatures
from bws.errors import Errors, bad_request
from bws.jsnum import is_number
from bws.model import UNDEFINED
from bws.model import constants as C


def check_output_shapes(outputs: Any) -> None:
    """Minimal shape check kept even with ``validateOutputs: false`` so a
    malformed body is a 400, never a 500."""
    if not isinstance(outputs, list) or not outputs:
        raise bad_request("No outputs were specified")
    for i, o in enumerate(outputs):
        if not isinstance(o, dict):
            raise bad_request(f"Argument missing in output #{i + 1}.")
        amount = o.get("amount")
        if not is_int(amount) or amount < 0:
            raise bad_request("Invalid amount")
        if not isinstance(o.get("toAddress"), str) and not isinstance(o.get("script"), str):
            raise bad_request(f"Argument missing in output #{i + 1}.")
        check_script(o)


def wallet_inputs(inputs: list[dict], utxos: list[dict]) -> list[dict]:
    """The wallet's own records of caller-supplied inputs, in the caller's
    order: UNAVAILABLE_UTXOS when one is not an unlocked UTXO of the wallet
    (made up, spent, or locked by a pending proposal).

    The reference takes ``inputs`` on trust ("todo: check inputs are ours",
    server.js _selectTxInputs): made-up ones failed later inside bitcore (a
    500) or only at publish (UNAVAILABLE_UTXOS).  The records come from the
    explorer, so the proposal's amounts, paths and keys are the chain's."""
    mine = {f"{u['txid']}|{u['vout']}": u for u in utxos if not u.get("locked")}
    out = []
    for i in inputs:
        u = mine.get(f"{i['txid'].lower()}|{i['vout']}")
        if u is None:
            raise Errors.UNAVAILABLE_UTXOS
        out.append(dict(u))
    return out


def check_inputs(inputs: Any) -> list[dict]:
    """Caller-supplied ``inputs`` (as returned by utxos / sendmaxinfo):
    BADREQUEST "Invalid inputs" unless each has txid (hex 64), vout, satoshis
    (ints) and, when present, a string path and a list of hex publicKeys."""
    if inputs is None or inputs is UNDEFINED:
        return []
    if not isinstance(inputs, list):
        raise bad_request("Invalid inputs")
    for i in inputs:
        ok = (
            isinstance(i, dict)
            and isinstance(i.get("txid"), str)
            and len(i["txid"]) == 64
            and is_int(i.get("vout"))
            and i["vout"] >= 0
            and is_int(i.get("satoshis"))
            and i["satoshis"] > 0
            and isinstance(i.get("path", ""), str)
            and isinstance(i.get("publicKeys", []), list)
            and all(isinstance(k, str) for k in i.get("publicKeys", []))
        )
        if ok:
            try:
                bytes.fromhex(i["txid"])
                for k in i.get("publicKeys", []):
                    bytes.fromhex(k)
                if i.get("scriptPubKey") is not None:
                    bytes.fromhex(i["scriptPubKey"])
            except (ValueError, TypeError):
                ok = False
        if not ok:
            raise bad_request("Invalid inputs")
    return inputs


class UtxoRules:
    """The rules of one UTXO coin (``coin``: "btc" | "bch"); the attributes
    are documented on :class:`bws.chains.rules.ChainRules`."""

    family = UTXO_FAMILY
    unit = 10**8
    blockheight_cache_ttl = C.BLOCKHEIGHT_CACHE_TIME
    broadcast_spend_window = 24 * 3600
    account_lookup_coin = C.COIN_ETH

    def __init__(self, coin: str) -> None:
        self.coin = coin

    def explorer_network(self, network: str) -> str:
        return network

    def check_copayers(self, m: Any, n: Any) -> None:
        """Nothing beyond the general m-of-n limits."""

    def check_token_options(self, opts: dict) -> None:
        """Ignored, as upstream's BtcChain."""

    def check_token_preferences(self, keys: list) -> None:
        if keys:
            raise bad_request(f"{keys[0]} is only valid for EVM wallets")

    def script_for_address(self, address: str) -> str:
        return script_for_address(address, self.coin)

    def is_raw_tx(self, raw: str) -> bool:
        """The hex of one whole transaction with inputs and outputs (the
        node's "TX decode failed" came back as a 500)."""
        return is_raw_tx(raw)

    def tx_confirmed(self, tx: Optional[dict]) -> bool:
        """``blockhash`` set, or a positive ``block`` height or ``confirmations``."""
        return bool(
            tx
            and (
                tx.get("blockhash")
                or (is_int(tx.get("block")) and tx["block"] > 0)
                or (is_int(tx.get("confirmations")) and tx["confirmations"] > 0)
            )
        )

    def signed_raw(self, txp: Any) -> Optional[str]:
        """bws/chains/txbuild.py ``signed_raw``: the transaction with every
        accept's signatures applied (BWSError / ValueError when it does not build)."""
        return signed_raw(txp)

    def validate_fee_choice(self, wallet: Any, opts: dict, *, allow_fee: bool) -> dict:
        """The fee-argument rules shared by createTx (``allow_fee``: ``fee`` may
        be given, with inputs) and getSendMaxInfo; returns a copy of ``opts``
        with ``feeLevel`` defaulted to "normal" when nothing was given.
        BADREQUEST "Only one of feeLevel/feePerKb[/fee] can be specified",
        "Invalid fee level. ...", "Invalid fee per KB" (outside
        [MIN_FEE_PER_KB, MAX_FEE_PER_KB] sat/kB)."""
        opts = dict(opts)
        n_args = int(truthy(opts.get("feeLevel"))) + int(is_number(opts.get("feePerKb")))
        if allow_fee:
            n_args += int(is_number(opts.get("fee")))
            if n_args > 1:
                raise bad_request("Only one of feeLevel/feePerKb/fee can be specified")
        elif n_args > 1:
            raise bad_request("Only one of feeLevel/feePerKb can be specified")
        if n_args == 0:
            opts["feeLevel"] = C.DEFAULT_FEE_LEVEL
        if truthy(opts.get("feeLevel")) and opts["feeLevel"] not in fee_level_names(wallet.coin):
            raise invalid_fee_level_error(wallet.coin)
        if is_number(opts.get("feePerKb")) and not (C.MIN_FEE_PER_KB <= opts["feePerKb"] <= C.MAX_FEE_PER_KB):
            raise bad_request("Invalid fee per KB")
        return opts

    def validate_outputs(self, wallet: Any, outputs: Any) -> None:
        validate_outputs(wallet, outputs)

    check_output_shapes = staticmethod(check_output_shapes)
    check_inputs = staticmethod(check_inputs)
    wallet_inputs = staticmethod(wallet_inputs)

    def verify_signatures(self, txp: Any, xpub: str, signatures: Any) -> BuiltTx:
        """The transaction of ``txp`` (a :class:`bws.model.TxProposal`) with the
        earlier accepts' signatures and these applied: once this vote completes
        the quorum its ``raw``/``txid`` are the proposal's (built once).
        Raises ClientError('BAD_SIGNATURES') unless ``signatures`` (DER hex,
        one per input) are the copayer ``xpub``'s valid signatures
        (bws/chains/txbuild.py ``verify_input_signatures``)."""
        if not isinstance(signatures, list):
            raise Errors.BAD_SIGNATURES
        return verify_input_signatures(txp, xpub, signatures)


UTXO_RULES = {coin: UtxoRules(coin) for coin in C.UTXO_COINS}

__all__ = ["UtxoRules", "UTXO_RULES", "check_output_shapes", "check_inputs", "wallet_inputs"]
