"""What the v3/v4 proposal surface of bitcore-wallet-client 10.x / 11.x adds
to the proposals aggregate (docs/spec/protocol-bwc11.md §3.3; upstream
bitcore-wallet-service 11.10.5 routes/transactions.ts, server.ts ``createTx``,
``getTxByHash``, ``getCoinsForTx``).  No I/O here: option checks and the
shape of ``GET /v1/txcoins/``; :class:`bws.services.proposals.Proposals`
calls them.

``enableRBF`` (BIP125 signalling, issue 18) is implemented for the UTXO
coins (:func:`check_enable_rbf`).  The new clients send other options this
server does not implement (``replaceTxByFee`` is a later slice of issue 18;
tokens, PayPro escrow, multisend contracts and Schnorr signing are EVM /
BCH / app features).  Each is accepted when it does not change the meaning of
the request -- absent, ``null``, ``false``, or its default -- and refused with
a 400 naming it otherwise, never silently ignored
(docs/compatibility.md "bitcore-wallet-client 10.x / 11.x (v3/v4 routes)").
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from bws.chains.checks import truthy
from bws.chains.constants import UTXO_FAMILY
from bws.chains.rules import find_rules
from bws.errors import Errors, bad_request, client_error

#: createTx options that only make sense when set; not implemented here.
#: name -> why (the 400's message)
_UNSUPPORTED_WHEN_SET: dict[str, str] = {
    "replaceTxByFee": "replacing a proposal by fee is not supported yet",
    "isTokenSwap": "token swaps are not supported",
    "tokenAddress": "token proposals are not supported on this route",
    "multiSendContractAddress": "multisend contracts are not supported",
    "instantAcceptanceEscrow": "instant-acceptance escrow is not supported",
    "multisigContractAddress": "multisig contracts are not supported",
}

#: signing methods a UTXO proposal of this server is signed with
_SIGNING_METHODS = ("ecdsa",)

#: the one transaction-proposal version the v3 route creates
TXP_VERSION = 3


def check_number_format(value: Any) -> None:
    """``numberFormat`` (upstream routes/context.ts ``checkNumberFormat``):
    absent or ``number`` (how this server renders amounts) is accepted;
    ``hex`` / ``string`` are upstream formats we do not render (400 naming
    the option); anything else is INVALID_NUMBER_FORMAT as upstream."""
    if value is None or value == "" or value == "number":
        return
    if value in ("hex", "string"):
        raise bad_request(f"numberFormat {value!r} is not supported: amounts are JSON numbers")
    raise Errors.INVALID_NUMBER_FORMAT


def check_enable_rbf(value: Any) -> bool:
    """createTx's ``enableRBF`` (v2 and v3 routes; upstream createTx passes it
    to the proposal): absent / ``null`` / ``false`` -> False, ``true`` ->
    True; anything else (``"true"``, 1, ...) is a 400 "enableRBF must be a
    boolean"."""
    if value is None or value is False or value is True:
        return value is True
    raise bad_request("enableRBF must be a boolean")


def check_create_v3(opts: Mapping[str, Any], wallet_coin: str) -> None:
    """The options ``POST /v3/txproposals/`` adds over v2, checked before
    anything is read.  wallet_coin: the caller's wallet coin (``chain`` /
    ``coin`` must name it when given).  Errors (all 400): "<option> ...
    is not supported" for a set option of :data:`_UNSUPPORTED_WHEN_SET` or
    ``enableRBF: true`` on a non-UTXO wallet, "enableRBF must be a boolean",
    WRONG_SIGNING_METHOD, "Invalid txpVersion", "chain ... does not match",
    INVALID_NUMBER_FORMAT / numberFormat."""
    for name, why in _UNSUPPORTED_WHEN_SET.items():
        if truthy(opts.get(name)):
            raise bad_request(f"{name} is not supported: {why}")
    rules = find_rules(wallet_coin)
    if check_enable_rbf(opts.get("enableRBF")) and (rules is None or rules.family != UTXO_FAMILY):
        raise bad_request(f"enableRBF is not supported: {wallet_coin} is not a UTXO coin")
    method = opts.get("signingMethod")
    if method is not None and method not in _SIGNING_METHODS:
        raise client_error("WRONG_SIGNING_METHOD", "Wrong signingMethod: only ecdsa is supported")
    version = opts.get("txpVersion")
    if version is not None and version != TXP_VERSION:
        raise bad_request(f"Invalid txpVersion: this route creates version {TXP_VERSION} proposals")
    for name in ("chain", "coin"):
        given = opts.get(name)
        if given is not None and (not isinstance(given, str) or given.lower() != wallet_coin):
            raise bad_request(f"{name} {given!r} does not match the wallet ({wallet_coin})")
    check_number_format(opts.get("numberFormat"))


def _amount(value: Any) -> Any:
    """11.x sends a BigInt amount as its decimal text: an integer string is
    read as the int; anything else is left for createTx's checks."""
    if isinstance(value, str) and value.isdigit() and len(value) <= 20:
        return int(value)
    return value


def create_opts_v3(opts: Mapping[str, Any]) -> dict:
    """The v2 createTx options of a checked v3 request: the v3-only keys
    (checked by :func:`check_create_v3`, meaningless past it) removed, and
    decimal-text amounts (11.x BigInt) read as ints."""
    drop = set(_UNSUPPORTED_WHEN_SET) | {"signingMethod", "txpVersion", "chain", "coin", "numberFormat"}
    out = {k: v for k, v in opts.items() if k not in drop}
    outputs = out.get("outputs")
    if isinstance(outputs, list):
        out["outputs"] = [
            {**o, "amount": _amount(o.get("amount"))} if isinstance(o, dict) and "amount" in o else o for o in outputs
        ]
    return out


def check_txid(value: Any) -> str:
    """A transaction id (64 hex characters) or 400 "Invalid txid"."""
    if not isinstance(value, str) or len(value) != 64:
        raise bad_request("Invalid txid")
    try:
        bytes.fromhex(value)
    except ValueError:
        raise bad_request("Invalid txid") from None
    return value.lower()


def coins_for_tx(tx: Mapping[str, Any], coin: str, network: str) -> dict:
    """An explorer transaction (Insight shape, bws/adapters/explorers/
    bitcoind_insight.py ``insight_tx``) -> ``GET /v1/txcoins/``'s answer in
    the shape of bitcore-node's ``/tx/:txid/coins`` that upstream passes on:
    ``{inputs: [coin], outputs: [coin]}``, a coin being ``{chain, network,
    coinbase, mintIndex, mintTxid, mintHeight, spentTxid, spentHeight,
    address, script, value (satoshis), confirmations}``.  Unknown input values
    (previous transaction unknown to the node) are ``value: null``; an
    output's spender is not known (``spentTxid: ""``, ``spentHeight: -2`` as
    bitcore-node's "unspent")."""
    txid = tx.get("txid")
    height = tx.get("blockheight")
    height = height if isinstance(height, int) and height >= 0 else -1
    confirmations = int(tx.get("confirmations") or 0)
    coinbase = bool(tx.get("isCoinBase"))
    base = {"chain": coin.upper(), "network": network}
    inputs = []
    for v in tx.get("vin") or []:
        if v.get("coinbase"):
            continue
        inputs.append({
            **base, "coinbase": False, "mintIndex": v.get("vout"), "mintTxid": v.get("txid"),
            "mintHeight": None, "spentTxid": txid, "spentHeight": height,
            "address": v.get("addr") or "false", "script": None, "value": v.get("valueSat"),
            "confirmations": None,
        })  # fmt: skip
    outputs = []
    for o in tx.get("vout") or []:
        spk = o.get("scriptPubKey") or {}
        addrs = spk.get("addresses") or []
        outputs.append({
            **base, "coinbase": coinbase, "mintIndex": o.get("n"), "mintTxid": txid, "mintHeight": height,
            "spentTxid": "", "spentHeight": -2, "address": addrs[0] if addrs else "false",
            "script": spk.get("hex"), "value": o.get("valueSat"), "confirmations": confirmations,
        })  # fmt: skip
    return {"inputs": inputs, "outputs": outputs}


def txcoins_opts_check(opts: Mapping[str, Any], wallet_coin: str, wallet_network: str) -> Optional[str]:
    """``GET /v1/txcoins/`` options -> the txid.  ``coin``/``chain`` and
    ``network`` (what the client sends) must name the caller's wallet when
    given: upstream ignores them and reads the wallet's chain; a request for
    another chain would otherwise be answered from the wrong one (400 naming
    the option).  Errors: "Required argument txId missing.", "Invalid txid"."""
    for name in ("coin", "chain"):
        given = opts.get(name)
        if given and given.lower() != wallet_coin:
            raise bad_request(f"{name} {given!r} does not match the wallet ({wallet_coin})")
    network = opts.get("network")
    if network and network != wallet_network:
        raise bad_request(f"network {network!r} does not match the wallet ({wallet_network})")
    txid = opts.get("txId")
    if not txid:
        raise bad_request("Required argument txId missing.")
    return check_txid(txid)


__all__ = [
    "TXP_VERSION",
    "check_create_v3",
    "check_enable_rbf",
    "check_number_format",
    "check_txid",
    "coins_for_tx",
    "create_opts_v3",
    "txcoins_opts_check",
]
