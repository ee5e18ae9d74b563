"""Unit tests of the bitcoind explorer's Insight shapes (bws/adapters/explorers/bitcoind_insight.py).

Pure functions over hand-written node answers; the explorer as a whole runs
against a real litecoind in tests/integration/test_explorer_bitcoind.py.
"""

from __future__ import annotations

from decimal import Decimal

from bws.adapters.explorers.bitcoind_insight import coins, insight_tx, sats, slim

SPK_A = "76a914" + "11" * 20 + "88ac"
SPK_B = "a914" + "22" * 20 + "87"


def _encode(spk: str):
    return {SPK_A: "addr-a", SPK_B: "addr-b"}.get(spk)


def test_amounts_are_exact_satoshis():
    assert sats(Decimal("0.00000001")) == 1
    assert sats("20999999.99999999") == 2_099_999_999_999_999
    assert sats(None) == 0
    assert coins(150_000_000) == 1.5


def test_slim_keeps_inputs_outputs_and_marks_coinbase():
    tx = {
        "txid": "t1", "size": 225, "vsize": 144,
        "vin": [{"txid": "p", "vout": 1}, {"coinbase": "03ab"}],
        "vout": [{"n": 0, "value": Decimal("0.5"), "scriptPubKey": {"hex": SPK_A.upper()}}],
    }  # fmt: skip
    assert slim(tx) == {"txid": "t1", "size": 225, "vsize": 144, "vin": [("p", 1), None],
                        "vout": [(0, SPK_A, 50_000_000)]}  # fmt: skip


def test_confirmed_spend_fee_addresses_and_height():
    prev = {"p": {"txid": "p", "vin": [], "vout": [(0, SPK_B, 10), (1, SPK_A, 100_000)]}}
    tx = {"txid": "t", "size": 200, "vsize": 150, "vin": [("p", 1)], "vout": [(0, SPK_B, 60_000), (1, "6a00", 0)]}
    meta = {"confirmations": 3, "blockhash": "bh", "blockheight": 101, "blocktime": 1700, "timereceived": 1800}
    got = insight_tx(tx, meta, prev, _encode, tip=0)
    assert got["vin"] == [{"n": 0, "txid": "p", "vout": 1, "addr": "addr-a", "valueSat": 100_000, "value": 0.001}]
    assert [o["scriptPubKey"]["addresses"] for o in got["vout"]] == [["addr-b"], []]
    assert got["fees"] == coins(40_000) and got["valueIn"] == 0.001 and got["valueOut"] == 0.0006
    assert (got["blockheight"], got["blockhash"], got["time"], got["firstSeenTs"]) == (101, "bh", 1700, None)
    assert got["isCoinBase"] is False


def test_mempool_tx_with_an_unknown_input_reads_fee_0():
    tx = {"txid": "t", "vin": [("gone", 0)], "vout": [(0, SPK_A, 5_000)]}
    got = insight_tx(tx, {"confirmations": 0, "timereceived": 1900}, {}, _encode, tip=0)
    assert got["vin"][0]["addr"] is None and got["vin"][0]["valueSat"] is None
    assert got["fees"] == 0 and got["blockheight"] == -1 and got["blockhash"] is None
    assert got["firstSeenTs"] == 1900 and got["time"] == 1900


def test_coinbase_and_height_from_the_tip_when_the_node_omits_it():
    tx = {"txid": "cb", "vin": [None], "vout": [(0, SPK_A, 5_000_000_000)]}
    got = insight_tx(tx, {"confirmations": 10, "blocktime": 5}, {}, _encode, tip=200)
    assert got["isCoinBase"] is True and got["fees"] == 0 and got["vin"] == [{"n": 0, "coinbase": True}]
    assert got["blockheight"] == 191
