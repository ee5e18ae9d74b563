"""Balance totals, UTXO selection and send-max info (docs/spec/api.md §6.4, §6.7, §6.13, §9.5).

All functions are pure over a list of wallet UTXOs, the explorer's wire dicts
``{txid, vout, address, path, publicKeys, scriptPubKey, satoshis, confirmations, locked}``
(satoshis: int; confirmations: int, missing → 0; locked: bool). A proposal is a
:class:`bws.model.TxProposal`; the selected UTXO dicts become its ``inputs``.

Randomness (the reference's ``_.shuffle``) is injected: ``shuffle`` takes a
list and returns a new, permuted list. Tests pass ``list`` (identity).
"""

from __future__ import annotations

import random
from typing import Callable, Iterable, Mapping, Optional, Sequence

from bws.chains.constants import (
    DUST_AMOUNT,
    MAX_TX_SIZE_IN_KB,
    MIN_OUTPUT_AMOUNT,
    UTXO_SELECTION_MAX_FEE_VS_SINGLE_UTXO_FEE_FACTOR,
    UTXO_SELECTION_MAX_FEE_VS_TX_AMOUNT_FACTOR,
    UTXO_SELECTION_MAX_SINGLE_UTXO_FACTOR,
    UTXO_SELECTION_MIN_TX_AMOUNT_VS_UTXO_FACTOR,
)
from bws.chains.errors import ServerError, client_error
from bws.chains.txbuild import BuiltTx, check_tx
from bws.chains.txsize import estimate_fee, estimate_size_for, fee_for_size, output_sizes, size_per_input
from bws.jsnum import is_number, js_round
from bws.model import TxProposal, or_default

__all__ = [
    "Shuffle",
    "utxo_key",
    "mark_locked",
    "remove_recently_spent",
    "default_shuffle",
    "totalize",
    "select_tx_inputs",
    "send_max_info",
    "select_evm_input",
    "EVM_GAS_LIMIT",
]

Shuffle = Callable[[list], list]
#: a wallet UTXO (module docstring)
Utxo = dict
EVM_GAS_LIMIT = 21000

_rng = random.SystemRandom()


def default_shuffle(items: list) -> list:
    """lodash ``_.shuffle``: a new list in random order."""
    return _rng.sample(list(items), len(items))


def _conf(u: Mapping) -> int:
    c = u.get("confirmations")
    return c if is_number(c) else 0


def _sat(u: Mapping) -> int:
    return or_default(u.get("satoshis"), 0)


def _div(a: float, b: float) -> float:
    # JS division: x/0 is ±Infinity (NaN for 0/0, which compares false anyway).
    if b == 0:
        return float("inf") if a > 0 else (float("-inf") if a < 0 else float("nan"))
    return a / b


# --------------------------------------------------------------------------
# docs/spec/api.md §6.3 (the pure part of getWalletUtxos)


def utxo_key(u: Mapping) -> str:
    """"<txid>|<vout>", the lock key of a UTXO or proposal input (both wire dicts)."""
    return f"{u.get('txid')}|{u.get('vout')}"


def mark_locked(utxos: Sequence[Utxo], pending_txps: Iterable[TxProposal]) -> list[Utxo]:
    """Set ``locked`` on every UTXO spent by an input of a pending proposal (in place; returns utxos)."""
    locked = {utxo_key(i) for t in pending_txps for i in (t.inputs or [])}
    for u in utxos:
        u["locked"] = utxo_key(u) in locked
    return list(utxos)


def remove_recently_spent(utxos: Sequence[Utxo], broadcast_txps: Iterable[TxProposal]) -> list[Utxo]:
    """Drop UTXOs spent by proposals we broadcast recently (last 24 h, up to 100;
    BTC/BCH only) — explorers may lag behind our own broadcasts."""
    spent = {utxo_key(i) for t in broadcast_txps for i in (t.inputs or [])}
    return [u for u in utxos if utxo_key(u) not in spent]


# --------------------------------------------------------------------------
# docs/spec/api.md §6.4


def totalize(utxos: Iterable[Utxo]) -> dict:
    """Balance totals over UTXOs (docs/spec/api.md §6.4), amounts in satoshis/wei.

    Returns ``{totalAmount, lockedAmount, totalConfirmedAmount,
    lockedConfirmedAmount, availableAmount, availableConfirmedAmount,
    byAddress: [{address, path, amount}] sorted by address}``.
    """
    total = locked = total_conf = locked_conf = 0
    by_address: dict[str, dict] = {}
    for u in utxos:
        s = _sat(u)
        confirmed = _conf(u) > 0
        is_locked = bool(u.get("locked"))
        total += s
        if confirmed:
            total_conf += s
        if is_locked:
            locked += s
            if confirmed:
                locked_conf += s
        addr = u.get("address")
        entry = by_address.get(addr)
        if entry is None:
            entry = by_address[addr] = {"address": addr, "path": u.get("path"), "amount": 0}
        entry["amount"] += s
    return {
        "totalAmount": total,
        "lockedAmount": locked,
        "totalConfirmedAmount": total_conf,
        "lockedConfirmedAmount": locked_conf,
        "availableAmount": total - locked,
        "availableConfirmedAmount": total_conf - locked_conf,
        "byAddress": sorted(by_address.values(), key=lambda e: e["address"] or ""),
    }


# --------------------------------------------------------------------------
# docs/spec/api.md §6.7


def _select(cand: list, amount: int, base_size: int, base_fee: float, size_per_in: int, fee_per_in: float):
    """The reference's inner ``select``: → (error | None, selected, fee)."""
    tot = sum(_sat(u) for u in cand)
    net = tot - base_fee - len(cand) * fee_per_in
    if tot < amount:
        return client_error("INSUFFICIENT_FUNDS"), [], None
    if net < amount:
        return client_error("INSUFFICIENT_FUNDS_FOR_FEE"), [], None

    big_threshold = amount * UTXO_SELECTION_MAX_SINGLE_UTXO_FACTOR + base_fee + fee_per_in
    big = sorted((u for u in cand if _sat(u) > big_threshold), key=_sat)
    small = sorted((u for u in cand if _sat(u) <= big_threshold), key=lambda u: -_sat(u))

    total = 0
    net_total = -base_fee
    selected: list = []
    fee = None
    error = None
    for u in small:
        net_in = _sat(u) - fee_per_in
        # Appended before the checks: a break below keeps it selected (reference order).
        selected.append(u)
        total += _sat(u)
        net_total += net_in
        size = base_size + len(selected) * size_per_in
        fee = js_round(base_fee + len(selected) * fee_per_in)
        if size / 1000 > MAX_TX_SIZE_IN_KB:
            error = client_error("TX_MAX_SIZE_EXCEEDED")
            break
        if big:
            if _div(net_in, amount) < UTXO_SELECTION_MIN_TX_AMOUNT_VS_UTXO_FACTOR:
                break
            if (
                _div(fee, amount) > UTXO_SELECTION_MAX_FEE_VS_TX_AMOUNT_FACTOR
                and fee / (base_fee + fee_per_in) > UTXO_SELECTION_MAX_FEE_VS_SINGLE_UTXO_FEE_FACTOR
            ):
                break
        if net_total >= amount:
            change = js_round(total - amount - fee)
            if 0 < change <= max(MIN_OUTPUT_AMOUNT, DUST_AMOUNT):
                fee += change  # dust change is given to the miner
            break

    if net_total < amount:
        selected = []
        if big:
            u = big[0]
            fee = js_round(base_fee + fee_per_in)
            net_total = _sat(u) - fee
            selected = [u]
    if not selected:
        return error or client_error("INSUFFICIENT_FUNDS_FOR_FEE"), [], None
    return None, selected, fee


def select_tx_inputs(
    txp: TxProposal,
    utxos: Sequence[Utxo],
    utxos_to_exclude: Iterable[str] = (),
    shuffle: Optional[Shuffle] = None,
) -> BuiltTx:
    """Choose inputs and fee for a BTC/BCH proposal (docs/spec/api.md §6.7), then ``check_tx``.

    txp: reads outputs, fee_per_kb (sat/kB), exclude_unconfirmed_utxos,
    address_type, required_signatures, wallet_n, inputs (caller-supplied or
    empty) and fee (satoshis); utxos: the wallet UTXOs (docs/spec/api.md §6.3,
    with ``locked`` flags); utxos_to_exclude: "txid:vout" strings.
    Sets txp.inputs (shuffled; the chosen dicts of ``utxos`` themselves),
    txp.input_paths and txp.fee; returns the built unsigned transaction.
    Raises ClientError INSUFFICIENT_FUNDS, LOCKED_FUNDS,
    INSUFFICIENT_FUNDS_FOR_FEE, TX_MAX_SIZE_EXCEEDED, DUST_AMOUNT,
    TxBuildError, or ServerError("Could not select tx inputs").
    """
    shuffle = shuffle or default_shuffle
    if txp.inputs:
        # Caller-supplied inputs: keep them; estimate the fee unless given.
        if not is_number(txp.fee):
            txp.fee = estimate_fee(txp)
        txp.set_inputs(txp.inputs)
        return check_tx(txp)

    fee_per_kb = txp.fee_per_kb
    outputs = txp.outputs or []
    amount = sum(or_default(o.get("amount"), 0) for o in outputs)
    address_type = txp.address_type or None
    m, n = or_default(txp.required_signatures, 1), or_default(txp.wallet_n, 1)
    n_outs = len(outputs) if isinstance(outputs, list) else 0
    base_size = estimate_size_for(0, n_outs, address_type, m, n, output_sizes(outputs, txp.coin or "btc"))
    base_fee = base_size * fee_per_kb / 1000
    size_per_in = size_per_input(address_type, m, n)
    fee_per_in = size_per_in * fee_per_kb / 1000

    exclude_unconfirmed = bool(txp.exclude_unconfirmed_utxos)
    bal = totalize(utxos)
    if exclude_unconfirmed:
        total, available = bal["totalConfirmedAmount"], bal["availableConfirmedAmount"]
    else:
        total, available = bal["totalAmount"], bal["availableAmount"]
    if total < amount:
        raise client_error("INSUFFICIENT_FUNDS")
    if available < amount:
        raise client_error("LOCKED_FUNDS")

    excluded = set(utxos_to_exclude or ())
    usable = [
        u
        for u in utxos
        if not u.get("locked")
        and _sat(u) > fee_per_in
        and (not exclude_unconfirmed or _conf(u) > 0)
        and f"{u.get('txid')}:{u.get('vout')}" not in excluded
    ]

    groups = [6, 1] + ([] if exclude_unconfirmed else [0])
    inputs: list = []
    chosen_fee = None
    sel_err: Optional[Exception] = None
    last_len = None
    for g in groups:
        if inputs:
            break
        cand = [u for u in usable if _conf(u) >= g]
        if len(cand) == last_len:  # same set as the previous group: nothing new to try
            continue
        last_len = len(cand)
        err, sel, fee = _select(cand, amount, base_size, base_fee, size_per_in, fee_per_in)
        if err is not None:
            sel_err = err
        else:
            sel_err = None
            inputs, chosen_fee = sel, fee
    if sel_err is not None or not inputs:
        raise sel_err or ServerError("Could not select tx inputs")

    txp.set_inputs(shuffle(list(inputs)))
    txp.fee = chosen_fee
    return check_tx(txp)


# --------------------------------------------------------------------------
# docs/spec/api.md §6.13


def send_max_info(
    utxos: Sequence[Utxo],
    fee_per_kb: int,
    *,
    m: int,
    n: int,
    address_type: str,
    exclude_unconfirmed: bool = False,
    return_inputs: bool = False,
    shuffle: Optional[Shuffle] = None,
) -> dict:
    """Send-max information (docs/spec/api.md §6.13) for a BTC/BCH wallet.

    fee_per_kb: resolved rate (satoshis/kB); m/n/address_type: the wallet's.
    Returns ``{size, amount, fee, feePerKb, inputs, utxosBelowFee,
    amountBelowFee, utxosAboveMaxSize, amountAboveMaxSize}`` (amounts in
    satoshis, size in bytes). Example: 2-of-3 P2SH, inputs 0.1/0.2/0.3/0.4 BTC
    at 10 000 → size 1304, fee 13 040, amount 1e8 − 13 040.
    """
    shuffle = shuffle or default_shuffle
    info = {
        "size": 0,
        "amount": 0,
        "fee": 0,
        "feePerKb": 0,
        "inputs": [],
        "utxosBelowFee": 0,
        "amountBelowFee": 0,
        "utxosAboveMaxSize": 0,
        "amountAboveMaxSize": 0,
    }
    inputs = [
        u for u in utxos if not u.get("locked") and (not exclude_unconfirmed or _conf(u) > 0)
    ]
    inputs.sort(key=lambda u: -_sat(u))
    if not inputs:
        return info
    info["feePerKb"] = fee_per_kb

    base_size = estimate_size_for(0, 0, address_type, m, n)
    size_per_in = size_per_input(address_type, m, n)
    fee_per_in = size_per_in * fee_per_kb / 1000
    below = [u for u in inputs if _sat(u) <= fee_per_in]
    kept = [u for u in inputs if _sat(u) > fee_per_in]
    info["utxosBelowFee"] = len(below)
    info["amountBelowFee"] = sum(_sat(u) for u in below)

    chosen: list = []
    for i, u in enumerate(kept):
        if (base_size + (i + 1) * size_per_in) / 1000 > MAX_TX_SIZE_IN_KB:
            info["utxosAboveMaxSize"] = len(kept) - i
            info["amountAboveMaxSize"] = sum(_sat(x) for x in kept[i:])
            break
        chosen.append(u)
    if not chosen:
        return info

    size = estimate_size_for(len(chosen), 0, address_type, m, n)
    fee = fee_for_size(size, fee_per_kb)
    amount = sum(_sat(u) for u in chosen) - fee
    if amount < MIN_OUTPUT_AMOUNT:
        return info
    info["size"] = size
    info["fee"] = fee
    info["amount"] = amount
    if return_inputs:
        info["inputs"] = shuffle(list(chosen))
    return info


# --------------------------------------------------------------------------
# docs/spec/api.md §9.5 (ETH/TRY: one pseudo-UTXO per address)


def select_evm_input(txp: TxProposal, utxos: Sequence[Utxo], coin: str = "eth") -> Utxo:
    """Pick the source address of an ETH/TRY proposal (docs/spec/api.md §9.5,
    port recommendation); returns the chosen pseudo-UTXO.

    ETH: first unlocked pseudo-UTXO with satoshis (wei) >= amount + gas;
    TRY: first unlocked one with token balance >= amount. gas = txp.fee_per_kb
    (gas price, wei) × 21000. Sets txp.inputs = [u], input_paths, fee = gas.
    Raises ClientError('LOCKED_FUNDS') when only a locked source would do,
    else ClientError('INSUFFICIENT_FUNDS').
    """
    amount = sum(or_default(o.get("amount"), 0) for o in (txp.outputs or []))
    gas = int(txp.fee_per_kb) * EVM_GAS_LIMIT
    need = amount + (gas if coin == "eth" else 0)
    locked_would_do = False
    for u in utxos:
        if _sat(u) >= need:
            if u.get("locked"):
                locked_would_do = True
                continue
            txp.set_inputs([u])
            txp.fee = gas
            return u
    raise client_error("LOCKED_FUNDS" if locked_would_do else "INSUFFICIENT_FUNDS")
