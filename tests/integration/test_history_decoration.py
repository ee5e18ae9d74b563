"""bws.chains.history: spec/api.md §6.14, §12.45 (history part), §12.57 (pure parts)."""

import pytest

from bws.chains.history import (
    cache_window,
    decorate_txs,
    normalize_tx,
    proposal_time_window,
    tag_low_fees,
)

MINE_RX = "1L3z9LPd861FWQhf3vDn89Fnc9dkdBo2CG"  # receive address
MINE_RX2 = "1LHgMiTHq92Re5ZZXB4YjdjkyahfKGuuA6"
MINE_CHANGE = "1FUzgKcyPJsYwDLUEVJYeE2N3KVaoxTjGS"
EXT = "18PzpUFkFZE8zKWUPvfykkTxmB9oMR8qP7"
#: the caller's clock (unix s): a tx with neither blocktime nor firstSeenTs gets it as its time
NOW = 1_700_000_000
EXT2 = "1GdXraZ1gtoVAvBh49D4hK9xLm6SKgesoE"

ADDRESSES = [
    {"address": MINE_RX, "isChange": False, "path": "m/0/0"},
    {"address": MINE_RX2, "isChange": False, "path": "m/0/1"},
    {"address": MINE_CHANGE, "isChange": True, "path": "m/1/0"},
]


def insight(txid, vin, vout, fees_sat, *, confirmations=6, size=None, blocktime=1500000000, **extra):
    """Insight-shaped tx: vin [(addr, sat)], vout [(addr, sat)], values in BTC like insight."""
    raw = {
        "txid": txid,
        "vin": [{"addr": a, "valueSat": v} for a, v in vin],
        "vout": [{"value": "%.8f" % (v / 1e8), "scriptPubKey": {"addresses": [a]}} for a, v in vout],
        "confirmations": confirmations,
        "blockheight": 100,
        "blocktime": blocktime,
        "fees": fees_sat / 1e8,
    }
    if size is not None:
        raw["size"] = size
    raw.update(extra)
    return normalize_tx(raw, now=NOW)


def one(tx, **kw):
    (item,) = decorate_txs([tx], ADDRESSES, **kw)
    return item


# -- normalisation ---------------------------------------------------------------


def test_normalize_insight_tx():
    raw = {
        "txid": "t1",
        "vin": [{"addr": EXT, "valueSat": 30000000}],
        "vout": [
            {"value": "0.1", "scriptPubKey": {"addresses": [MINE_RX]}},
            {"value": 0.29, "scriptPubKey": {"addresses": [EXT, EXT2]}},  # 0.29*1e8 = 28999999.999999996
            {"value": "0.00000000", "scriptPubKey": {}},
        ],
        "confirmations": 0,
        "blockheight": -1,
        "firstSeenTs": 1600000000,
        "fees": 0.0001,
        "size": 226,
    }
    tx = normalize_tx(raw, now=NOW)
    assert tx == {
        "txid": "t1",
        "confirmations": 0,
        "blockheight": -1,
        "fees": 10000,
        "size": 226,
        "time": 1600000000,
        "inputs": [{"address": EXT, "amount": 30000000}],
        "outputs": [
            {"address": MINE_RX, "amount": 10000000},
            {"address": None, "amount": 29000000},
            {"address": None, "amount": 0},
        ],
    }
    assert normalize_tx({"txid": "x", "vin": [], "vout": []}, now=123)["time"] == 123
    assert normalize_tx({"txid": "x", "blocktime": 5, "firstSeenTs": 7}, now=NOW)["time"] == 5


def test_normalize_eth_amounts_are_wei():
    raw = {
        "txid": "0xabc",
        "vin": [{"addr": "0xAa", "valueSat": 10**18 + 21000 * 5 * 10**9}],
        "vout": [{"value": str(10**18), "scriptPubKey": {"addresses": ["0xbB"]}}],
        "fees": 0.000105,
        "confirmations": 10,
        "blocktime": 9,
    }
    tx = normalize_tx(raw, "eth", now=NOW)
    assert tx["outputs"][0]["amount"] == 10**18
    assert tx["fees"] == 105000000000000
    assert normalize_tx(dict(raw, feesWei=105000000000001), "eth", now=NOW)["fees"] == 105000000000001


# -- §6.14 examples ------------------------------------------------------------------


def test_received():
    item = one(insight("r", [(EXT, 300)], [(MINE_RX, 200)], 100))
    assert item["action"] == "received" and item["amount"] == 200
    assert "addressTo" not in item and "foreignCrafted" not in item


def test_sent_without_change_includes_fee():
    item = one(insight("s", [(MINE_RX, 500)], [(EXT, 400)], 100))
    assert item["action"] == "sent" and item["amount"] == 500
    assert item["addressTo"] == EXT


def test_sent_with_change():
    item = one(insight("s2", [(MINE_RX, 500)], [(EXT, 300), (MINE_CHANGE, 100)], 100))
    assert item["action"] == "sent" and item["amount"] == 300
    assert item["addressTo"] == EXT


def test_moved():
    item = one(insight("m", [(MINE_RX, 500)], [(MINE_RX2, 300), (MINE_CHANGE, 100)], 100))
    assert item["action"] == "moved" and item["amount"] == 300
    assert item["addressTo"] is None


def test_invalid():
    item = one(normalize_tx({"txid": "i", "vin": [], "vout": [], "fees": 0, "confirmations": 1, "blocktime": 3}, now=NOW))
    assert item["action"] == "invalid" and item["amount"] == 0
    assert item["outputs"] == [] and item["inputs"] == []


def test_foreign_crafted_sent():
    tx = insight("f", [(MINE_RX, 500), (EXT2, 100000)], [(EXT, 100300)], 200)
    item = one(tx)
    assert item["action"] == "sent" and item["amount"] == 500 and item["foreignCrafted"] is True


def test_huge_tx_many_outputs():
    vout = [(EXT, 1000)] * 300 + [(MINE_RX, 5000)]
    item = one(insight("h", [(EXT2, 400000)], vout, 95000), include_extended_info=False)
    assert item["action"] == "received" and item["amount"] == 5000
    assert item["outputs"] == [{"amount": 5000, "address": MINE_RX}]


def test_fee_per_kb_and_fields():
    item = one(insight("s", [(MINE_RX, 50000)], [(EXT, 40000)], 10000, size=226))
    assert item["feePerKb"] == 44248  # toFixed0(10000*1000/226 = 44247.79…)
    assert set(item) >= {"txid", "action", "amount", "fees", "time", "confirmations", "inputs", "outputs"}
    assert item["fees"] == 10000 and item["time"] == 1500000000 and item["confirmations"] == 6
    assert "feePerKb" not in one(insight("s", [(MINE_RX, 50000)], [(EXT, 40000)], 10000))


def test_extended_info_inputs_outputs():
    item = one(insight("s2", [(MINE_RX, 500)], [(EXT, 300), (MINE_CHANGE, 100)], 100))
    assert item["inputs"] == [{"address": MINE_RX, "amount": 500, "isMine": True}]
    assert item["outputs"] == [
        {"address": EXT, "amount": 300, "isMine": False},
        {"address": MINE_CHANGE, "amount": 100, "isMine": True},
    ]


def test_non_extended_outputs_exclude_change_and_foreign_for_received():
    sent = one(insight("s2", [(MINE_RX, 500)], [(EXT, 300), (MINE_CHANGE, 100)], 100), include_extended_info=False)
    assert sent["outputs"] == [{"amount": 300, "address": EXT}]
    assert "inputs" not in sent
    rec = one(insight("r", [(EXT2, 900)], [(MINE_RX, 200), (EXT, 600)], 100), include_extended_info=False)
    assert rec["action"] == "received" and rec["outputs"] == [{"amount": 200, "address": MINE_RX}]
    assert all("isMine" not in o and "isChange" not in o for o in sent["outputs"] + rec["outputs"])


def test_single_address_wallet_treats_own_address_as_change():
    addrs = [{"address": MINE_RX, "isChange": False}]
    tx = insight("sa", [(MINE_RX, 1000)], [(EXT, 600), (MINE_RX, 300)], 100)
    (item,) = decorate_txs([tx], addrs, single_address=True)
    assert item["action"] == "sent" and item["amount"] == 600
    (item,) = decorate_txs([tx], addrs, single_address=False)
    assert item["action"] == "sent" and item["amount"] == 700


def test_plain_string_addresses_and_eth_case_insensitive():
    tx = {"txid": "e", "inputs": [{"address": "0xaaaa", "amount": 5}], "outputs": [{"address": "0xBBBB", "amount": 5}],
          "fees": 0, "time": 1, "confirmations": 10}
    (item,) = decorate_txs([tx], ["0xAAAA"])
    assert item["action"] == "sent" and item["amount"] == 5


# -- proposals and notes (§12.57) ---------------------------------------------------------


def test_proposal_and_note_merge():
    tx = insight("p1", [(MINE_RX, 500000)], [(EXT, 300000), (EXT2, 100000), (MINE_CHANGE, 90000)], 10000)
    proposal = {
        "id": "txp-1",
        "txid": "p1",
        "createdOn": 1499999000,
        "creatorName": "creator",
        "message": "enc-message",
        "customData": {"k": "v"},
        "outputs": [
            {"toAddress": EXT, "amount": 300000, "message": "first"},
            {"toAddress": EXT2, "amount": 100000},
        ],
        "actions": [
            {"version": "1.0.0", "createdOn": 1499999100, "type": "accept", "copayerId": "c1",
             "copayerName": "copayer 1", "comment": None, "signatures": ["xx"], "xpub": "xpub…"},
            {"createdOn": 1499999200, "type": "reject", "copayerId": "c2", "copayerName": "copayer 2",
             "comment": "no"},
        ],
    }
    note = {"txid": "p1", "body": "note body", "editedBy": "c1", "editedByName": "copayer 1",
            "editedOn": 1500000100, "walletId": "w", "createdOn": 1500000100}
    other = dict(proposal, txid="other", id="txp-2")
    (item,) = decorate_txs([tx], ADDRESSES, proposals=[other, proposal], notes=[note], include_extended_info=False)
    assert item["action"] == "sent" and item["amount"] == 400000
    assert item["proposalId"] == "txp-1" and item["createdOn"] == 1499999000
    assert item["creatorName"] == "creator" and item["message"] == "enc-message"
    assert item["customData"] == {"k": "v"}
    assert "proposalType" not in item
    assert item["actions"] == [
        {"createdOn": 1499999100, "type": "accept", "copayerId": "c1", "copayerName": "copayer 1", "comment": None},
        {"createdOn": 1499999200, "type": "reject", "copayerId": "c2", "copayerName": "copayer 2", "comment": "no"},
    ]
    assert item["outputs"] == [
        {"amount": 300000, "address": EXT, "message": "first"},
        {"amount": 100000, "address": EXT2, "message": None},
    ]
    assert item["note"] == {"body": "note body", "editedBy": "c1", "editedByName": "copayer 1",
                            "editedOn": 1500000100}


def test_output_message_requires_same_amount():
    tx = insight("p2", [(MINE_RX, 500000)], [(EXT, 300000)], 10000)
    proposal = {"id": "x", "txid": "p2", "outputs": [{"toAddress": EXT, "amount": 1, "message": "m"}], "actions": []}
    (item,) = decorate_txs([tx], ADDRESSES, proposals=[proposal])
    assert item["outputs"][0]["message"] is None and item["actions"] == []


# -- low fees --------------------------------------------------------------------------------


def _levels(super_fee, nb):
    return [{"level": "normal", "feePerKb": 50000, "nbBlocks": 3},
            {"level": "superEconomy", "feePerKb": super_fee, "nbBlocks": nb}]


def test_low_fees_tagging():
    low = one(insight("a", [(MINE_RX, 50000)], [(EXT, 49900)], 100, confirmations=0, size=200))  # 500/kB
    high = one(insight("b", [(MINE_RX, 50000)], [(EXT, 40000)], 10000, confirmations=0, size=200))  # 50000/kB
    nosize = one(insight("c", [(MINE_RX, 50000)], [(EXT, 40000)], 10000, confirmations=0))
    confirmed = one(insight("d", [(MINE_RX, 50000)], [(EXT, 49900)], 100, confirmations=1, size=200))
    items = [low, high, nosize, confirmed]
    tag_low_fees(items, _levels(1000, 24))
    assert low["lowFees"] is True and high["lowFees"] is False and nosize["lowFees"] is False
    assert "lowFees" not in confirmed


@pytest.mark.parametrize("levels", [None, [], _levels(1000, None), [{"level": "normal", "feePerKb": 1, "nbBlocks": 2}]])
def test_low_fees_not_tagged_without_real_super_economy_estimate(levels):
    item = one(insight("a", [(MINE_RX, 50000)], [(EXT, 49900)], 100, confirmations=0, size=200))
    tag_low_fees([item], levels)
    assert "lowFees" not in item


# -- paging helpers -----------------------------------------------------------------------------


def test_proposal_time_window():
    txs = [{"time": 1000000}, {"time": 2000000}]
    assert proposal_time_window(txs) == (1000000 - 7 * 86400, 2000000 + 86400)


@pytest.mark.parametrize(
    "total,frm,to,expected",
    [
        (100, 0, 50, (50, 100)),
        (100, 50, 100, (0, 50)),
        (100, 90, 140, (0, 10)),
        (100, 100, 150, None),
        (30, 0, 50, (0, 30)),
    ],
)
def test_cache_window(total, frm, to, expected):
    assert cache_window(total, frm, to) == expected
