"""bws.chains.selection / feelevels / txsize: spec/api.md §6.4–6.7, §6.13, §11.6,
§12.26, §12.29, §12.38, §12.39, §12.42, §12.43, §12.46 (pure parts)."""

import pytest

from bws.chains.address import derive_address, script_for_address
from bws.chains.feelevels import compute_fee_levels, sample_points, static_fee_levels
from bws.chains.selection import (
    mark_locked,
    remove_recently_spent,
    select_evm_input,
    select_tx_inputs,
    send_max_info,
    totalize,
)
from bws.chains.txsize import estimate_size_for, size_per_input
from bws.errors import ClientError
from bws.model import TxProposal

XPUB0 = (
    "xpub6DVmxcjRgZdHNSEcXSiFtweVwMSTc3TMwRJ45nJYvyqvLbK1poPerupqh87rSoz27wvckb1CKnGZ"
    "oLmLXSZyNGZtVd7neqSvdwJL6fceQpe"
)
TO = "18PzpUFkFZE8zKWUPvfykkTxmB9oMR8qP7"
BTC = 100_000_000


def utxo(i, sat, conf=6, locked=False, n_addr=None):
    """A 1-of-1 P2PKH wallet UTXO on address m/0/<i or n_addr>."""
    path = f"m/0/{i if n_addr is None else n_addr}"
    a = derive_address([XPUB0], path, "btc", "livenet", "P2PKH", 1)
    return {
        "txid": f"{i:064x}", "vout": 0, "address": a["address"], "path": path,
        "publicKeys": a["publicKeys"], "scriptPubKey": script_for_address(a["address"]),
        "satoshis": sat, "confirmations": conf, "locked": locked,
    }


def txp_for(amount, fee_per_kb=10000, **kw):
    change = derive_address([XPUB0], "m/1/0", "btc", "livenet", "P2PKH", 1)
    t = {
        "coin": "btc", "network": "livenet", "addressType": "P2PKH", "requiredSignatures": 1, "walletN": 1,
        "outputs": [{"amount": amount, "toAddress": TO}], "feePerKb": fee_per_kb, "inputs": [],
        "changeAddress": change, "outputOrder": [0, 1], "excludeUnconfirmedUtxos": False, "actions": [],
    }
    t.update(kw)
    return model(t)


def model(doc):
    """The chain functions take the model: a v3 proposal from its wire dict."""
    return TxProposal.from_dict({"version": 3, **doc})


def ident(xs):
    return list(xs)


def sats(inputs):
    return sorted(i["satoshis"] for i in inputs)


def code_of(fn):
    with pytest.raises(ClientError) as ei:
        fn()
    return ei.value.code


# -- §6.6 ---------------------------------------------------------------------


def test_size_estimates():
    assert size_per_input("P2PKH", 1, 1) == 147
    assert size_per_input("P2SH", 2, 3) == 296
    assert size_per_input(None, 2, 3) == 296  # default is the P2SH formula
    assert estimate_size_for(4, 0, "P2SH", 2, 3) == 1304
    assert estimate_size_for(3, 0, "P2SH", 2, 3) == 1002
    assert estimate_size_for(2, 0, "P2SH", 2, 3) == 700
    assert estimate_size_for(0, 1, "P2PKH", 1, 1) == 96


# -- §6.4 / §12.26 -------------------------------------------------------------


def test_totalize_1_u2_3():
    us = [utxo(1, 1 * BTC, 6), utxo(2, 2 * BTC, 0), utxo(3, 3 * BTC, 1)]
    b = totalize(us)
    assert b["totalAmount"] == 6 * BTC
    assert b["totalConfirmedAmount"] == 4 * BTC
    assert b["lockedAmount"] == 0 and b["lockedConfirmedAmount"] == 0
    assert b["availableAmount"] == 6 * BTC and b["availableConfirmedAmount"] == 4 * BTC
    addrs = [e["address"] for e in b["byAddress"]]
    assert addrs == sorted(addrs) and len(addrs) == 3
    assert {e["address"]: e["amount"] for e in b["byAddress"]} == {u["address"]: u["satoshis"] for u in us}
    assert all(e["path"] for e in b["byAddress"])


def test_totalize_locked_and_grouping():
    us = [utxo(1, 1000, 6, locked=True), utxo(2, 2000, 0, locked=True, n_addr=1), utxo(3, 500, 3)]
    b = totalize(us)
    assert b["lockedAmount"] == 3000 and b["lockedConfirmedAmount"] == 1000
    assert b["availableAmount"] == 500 and b["availableConfirmedAmount"] == 500
    assert len(b["byAddress"]) == 2
    assert totalize([])["byAddress"] == [] and totalize([])["totalAmount"] == 0


# -- §11.6 / §12.39 -----------------------------------------------------------------


def test_dust_change_folded_into_fee():
    txp = txp_for(BTC - 4100)
    built = select_tx_inputs(txp, [utxo(1, BTC)], shuffle=ident)
    assert txp.fee == 4100
    assert len(txp.inputs) == 1 and txp.input_paths == ["m/0/1"]
    assert len(built.tx.vout) == 1 and built.tx.vout[0].nValue == BTC - 4100


def test_normal_change_output():
    txp = txp_for(50000)
    built = select_tx_inputs(txp, [utxo(1, BTC)], shuffle=ident)
    assert txp.fee == 2430  # round(960 + 1470)
    assert sorted(o.nValue for o in built.tx.vout) == [50000, BTC - 50000 - 2430]


# -- §12.38 / §12.42 / §12.43 ---------------------------------------------------------


def test_insufficient_vs_locked():
    assert code_of(lambda: select_tx_inputs(txp_for(2 * BTC), [utxo(1, BTC)])) == "INSUFFICIENT_FUNDS"
    us = [utxo(1, BTC, locked=True), utxo(2, 10000)]
    assert code_of(lambda: select_tx_inputs(txp_for(50000), us)) == "LOCKED_FUNDS"


def test_exclude_unconfirmed():
    us = [utxo(1, BTC, conf=0), utxo(2, 30000, conf=6)]
    assert code_of(lambda: select_tx_inputs(txp_for(50000, excludeUnconfirmedUtxos=True), us)) == "INSUFFICIENT_FUNDS"
    assert (
        code_of(lambda: select_tx_inputs(txp_for(29000, excludeUnconfirmedUtxos=True), us))
        == "INSUFFICIENT_FUNDS_FOR_FEE"
    )
    txp = txp_for(20000, excludeUnconfirmedUtxos=True)
    select_tx_inputs(txp, us, shuffle=ident)
    assert sats(txp.inputs) == [30000]


def test_utxos_to_exclude():
    us = [utxo(1, 35000), utxo(2, BTC)]
    txp = txp_for(20000)
    select_tx_inputs(txp, us, utxos_to_exclude=[f"{1:064x}:0"], shuffle=ident)
    assert sats(txp.inputs) == [BTC]


def test_single_small_enough_utxo_preferred():
    us = [utxo(1, BTC), utxo(2, 35000), utxo(3, 10000), utxo(4, 10000), utxo(5, 10000)]
    txp = txp_for(20000)
    select_tx_inputs(txp, us, shuffle=ident)
    assert sats(txp.inputs) == [35000] and txp.fee == 2430


def test_smallest_big_utxo_when_small_ones_insufficient():
    us = [utxo(1, 2 * BTC), utxo(2, BTC), utxo(3, 4000), utxo(4, 3000)]
    txp = txp_for(20000)
    select_tx_inputs(txp, us, shuffle=ident)
    assert sats(txp.inputs) == [BTC] and txp.fee == 2430


def test_big_utxo_when_small_ones_too_costly():
    # 12 × 2500 would cover 10 000, but after 8 inputs the fee exceeds 5× a single-input fee
    us = [utxo(100, BTC)] + [utxo(i, 2500) for i in range(12)]
    txp = txp_for(10000)
    select_tx_inputs(txp, us, shuffle=ident)
    assert sats(txp.inputs) == [BTC]
    # without the big one, the small ones are used
    txp = txp_for(10000)
    select_tx_inputs(txp, us[1:], shuffle=ident)
    # fee round(960 + 11*1470) = 17130 leaves a 370 change, which is folded into the fee
    assert len(txp.inputs) == 11 and txp.fee == 11 * 2500 - 10000


def test_confirmed_groups_first():
    us = [utxo(1, BTC, conf=0), utxo(2, 50000, conf=1), utxo(3, 40000, conf=6)]
    txp = txp_for(30000)
    select_tx_inputs(txp, us, shuffle=ident)
    assert sats(txp.inputs) == [40000]
    txp = txp_for(60000)
    select_tx_inputs(txp, us, shuffle=ident)
    assert sats(txp.inputs) == [40000, 50000] and txp.fee == 3900
    txp = txp_for(100000)
    select_tx_inputs(txp, us, shuffle=ident)
    assert sats(txp.inputs) == [BTC]


def test_inputs_are_shuffled_with_injected_shuffle():
    us = [utxo(1, 50000, conf=1), utxo(2, 40000, conf=1)]
    txp = txp_for(60000)
    select_tx_inputs(txp, us, shuffle=lambda xs: list(reversed(xs)))
    assert [i["satoshis"] for i in txp.inputs] == [40000, 50000]  # selected desc, then reversed
    assert txp.input_paths == [i["path"] for i in txp.inputs]


def test_utxos_below_per_input_fee_are_ignored():
    us = [utxo(1, 1400), utxo(2, 1470), utxo(3, BTC)]
    txp = txp_for(20000)
    select_tx_inputs(txp, us, shuffle=ident)
    assert sats(txp.inputs) == [BTC]
    only_dust = [utxo(i, 1400) for i in range(20)]
    assert code_of(lambda: select_tx_inputs(txp_for(20000), only_dust)) == "INSUFFICIENT_FUNDS"


def test_tx_max_size_exceeded():
    us = [utxo(i, 10000) for i in range(800)]
    assert code_of(lambda: select_tx_inputs(txp_for(6_000_000), us)) == "TX_MAX_SIZE_EXCEEDED"


def test_caller_supplied_inputs_and_fee():
    # §12.33 pure part: exact fee, change = inputs - amount - fee
    us = [utxo(1, BTC)]
    txp = txp_for(50000, inputs=us, fee=1234, feePerKb=None)
    built = select_tx_inputs(txp, [], shuffle=ident)
    assert txp.fee == 1234 and txp.input_paths == ["m/0/1"]
    assert sorted(o.nValue for o in built.tx.vout) == [50000, BTC - 50000 - 1234]
    # no fee given: estimated from feePerKb (1 input, 1 output + change → 246 bytes)
    txp = txp_for(50000, inputs=[utxo(1, BTC)])
    select_tx_inputs(txp, [], shuffle=ident)
    assert txp.fee == 2460


# -- §6.13 / §12.46 -----------------------------------------------------------------


def test_send_max_2of3_vectors():
    us = [utxo(i, v) for i, v in enumerate([BTC // 10, 2 * BTC // 10, 3 * BTC // 10, 4 * BTC // 10])]
    info = send_max_info(us, 10000, m=2, n=3, address_type="P2SH")
    assert info["size"] == 1304 and info["fee"] == 13040 and info["amount"] == BTC - 13040
    assert info["feePerKb"] == 10000 and info["inputs"] == []
    us3 = us[1:]
    info = send_max_info(us3, 10000, m=2, n=3, address_type="P2SH")
    assert info["size"] == 1002
    info = send_max_info([utxo(1, 30000), utxo(2, 30000)], 50000, m=2, n=3, address_type="P2SH", return_inputs=True,
                         shuffle=ident)
    assert (info["size"], info["fee"], info["amount"]) == (700, 35000, 25000)
    assert len(info["inputs"]) == 2


def test_send_max_empty_wallet_all_zeros():
    assert send_max_info([], 10000, m=1, n=1, address_type="P2PKH") == {
        "size": 0, "amount": 0, "fee": 0, "feePerKb": 0, "inputs": [], "utxosBelowFee": 0,
        "amountBelowFee": 0, "utxosAboveMaxSize": 0, "amountAboveMaxSize": 0,
    }


def test_send_max_excludes_locked_unconfirmed_and_counts_below_fee():
    us = [utxo(1, BTC, locked=True), utxo(2, 200000, conf=0), utxo(3, 300000), utxo(4, 1000), utxo(5, 1470)]
    info = send_max_info(us, 10000, m=1, n=1, address_type="P2PKH")
    assert info["utxosBelowFee"] == 2 and info["amountBelowFee"] == 2470
    size = estimate_size_for(2, 0, "P2PKH", 1, 1)
    assert info["size"] == size and info["amount"] == 500000 - info["fee"]
    info = send_max_info(us, 10000, m=1, n=1, address_type="P2PKH", exclude_unconfirmed=True,
                         return_inputs=True, shuffle=ident)
    assert [i["satoshis"] for i in info["inputs"]] == [300000]


def test_send_max_above_max_size_and_min_output():
    us = [utxo(i, 10000 + i) for i in range(700)]
    info = send_max_info(us, 10000, m=1, n=1, address_type="P2PKH")
    assert info["utxosAboveMaxSize"] == 21
    # the 21 smallest (inputs are taken largest first)
    assert info["amountAboveMaxSize"] == sum(10000 + i for i in range(21))
    # amount below MIN_OUTPUT_AMOUNT → nothing to send but the counters/feePerKb stay
    info = send_max_info([utxo(1, 6000)], 10000, m=1, n=1, address_type="P2PKH")
    assert (info["amount"], info["fee"], info["size"], info["feePerKb"]) == (0, 0, 0, 10000)


# -- §6.5 / §11.6 / §12.29 -------------------------------------------------------------

TEST_LEVELS = [
    {"name": "urgent", "nbBlocks": 1, "multiplier": 1.5, "defaultValue": 50000},
    {"name": "priority", "nbBlocks": 1, "defaultValue": 50000},
    {"name": "normal", "nbBlocks": 2, "defaultValue": 40000},
    {"name": "economy", "nbBlocks": 6, "defaultValue": 25000},
    {"name": "superEconomy", "nbBlocks": 24, "defaultValue": 10000},
]


def btc_per_kb(d):
    return {k: (v / 1e8 if v > 0 else -1) for k, v in d.items()}


def as_map(levels):
    return {lv["level"]: (lv["feePerKb"], lv["nbBlocks"]) for lv in levels}


def test_fee_levels_vector_1_multiplier():
    levels = compute_fee_levels(TEST_LEVELS, btc_per_kb({1: 40000, 2: 20000, 6: 18000, 24: 9000}))
    assert as_map(levels) == {
        "urgent": (60000, 1), "priority": (40000, 1), "normal": (20000, 2),
        "economy": (18000, 6), "superEconomy": (9000, 24),
    }
    assert [lv["level"] for lv in levels] == [lv["name"] for lv in TEST_LEVELS]


def test_fee_levels_vector_2_fallback_blocks():
    levels = as_map(compute_fee_levels(TEST_LEVELS, btc_per_kb({1: -1, 2: 18000, 6: -1, 7: 11000, 24: 9000})))
    assert levels["urgent"] == (27000, 2)
    assert levels["priority"] == (18000, 2)
    assert levels["normal"] == (18000, 2)
    assert levels["economy"] == (11000, 7)
    assert levels["superEconomy"] == (9000, 24)


def test_fee_levels_vector_3_monotonic_default():
    samples = btc_per_kb({1: 45000, 2: 18000, 6: -1, 7: -1, 8: -1, 24: 9000})
    levels = as_map(compute_fee_levels(TEST_LEVELS, samples))
    assert levels["economy"] == (18000, None)  # min(25000 default, normal 18000), nbBlocks null
    assert levels["superEconomy"] == (9000, 24)


def test_fee_levels_string_keys_and_values():
    levels = as_map(compute_fee_levels(TEST_LEVELS, {"1": "0.0004", "2": 0.0002, "6": 0.00018, "24": 0.00009}))
    assert levels["priority"] == (40000, 1) and levels["superEconomy"] == (9000, 24)


def test_fee_levels_estimator_failure_gives_defaults():
    levels = compute_fee_levels("btc", None)
    assert levels == [
        {"level": "urgent", "feePerKb": 150000, "nbBlocks": None},
        {"level": "priority", "feePerKb": 100000, "nbBlocks": None},
        {"level": "normal", "feePerKb": 80000, "nbBlocks": None},
        {"level": "economy", "feePerKb": 50000, "nbBlocks": None},
        {"level": "superEconomy", "feePerKb": 20000, "nbBlocks": None},
    ]
    # default is used without multiplier when no sample is valid
    assert as_map(compute_fee_levels("btc", {}))["urgent"] == (150000, None)
    assert compute_fee_levels("bch", {2: 0.00001}) == [{"level": "normal", "feePerKb": 1000, "nbBlocks": 2}]


def test_fee_level_sample_points():
    assert sample_points(TEST_LEVELS) == [1, 2, 3, 4, 6, 7, 8, 24, 25, 26]


def test_static_eth_levels():
    lv = static_fee_levels("eth")
    assert lv[0] == {"level": "urgent", "feePerKb": 40_000_000_000, "nbBlocks": 1}
    assert [x["level"] for x in lv] == ["urgent", "priority", "normal", "economy", "superEconomy"]


# -- §9.5 ------------------------------------------------------------------------------


def test_evm_selection():
    a = {"txid": "ab" * 20, "vout": 0, "address": "0xabc", "path": "m/0/0", "satoshis": 10**18}
    b = {"txid": "cd" * 20, "vout": 0, "address": "0xdef", "path": "m/0/1", "satoshis": 5 * 10**18}
    txp = model({"coin": "eth", "outputs": [{"amount": 2 * 10**18, "toAddress": "0x1"}], "feePerKb": 5_000_000_000})
    assert select_evm_input(txp, [a, b], "eth") is b
    assert txp.fee == 5_000_000_000 * 21000 and txp.input_paths == ["m/0/1"]
    with pytest.raises(ClientError) as ei:
        select_evm_input(txp, [a, dict(b, locked=True)], "eth")
    assert ei.value.code == "LOCKED_FUNDS"
    txp.outputs[0]["amount"] = 10**18  # TRY: token balance only, gas not added
    assert select_evm_input(txp, [a, b], "try") is a
    with pytest.raises(ClientError) as ei:
        select_evm_input(txp, [a], "eth")
    assert ei.value.code == "INSUFFICIENT_FUNDS"


# -- §6.3 / §12.43 ----------------------------------------------------------------------


def test_locks_and_recent_broadcasts():
    us = [utxo(1, 1000), utxo(2, 2000), utxo(3, 3000)]
    pending = [model({"inputs": [{"txid": us[0]["txid"], "vout": 0}]})]
    mark_locked(us, pending)
    assert [u["locked"] for u in us] == [True, False, False]
    assert totalize(us)["lockedAmount"] == 1000
    broadcast = [model({"inputs": [{"txid": us[1]["txid"], "vout": 0}, {"txid": us[2]["txid"], "vout": 1}]})]
    assert [u["satoshis"] for u in remove_recently_spent(us, broadcast)] == [1000, 3000]
    # so selection never reuses an input of a tx broadcast in the last 24 h
    txp = txp_for(1000, feePerKb=1000)
    left = remove_recently_spent(mark_locked([utxo(2, 50000), utxo(3, 60000)], []), broadcast)
    select_tx_inputs(txp, left, shuffle=ident)
    assert sats(txp.inputs) == [60000]
