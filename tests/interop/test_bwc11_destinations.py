"""Issue 18, first slice: a legacy wallet pays native segwit destinations, with the
real, unpatched bitcore-wallet-client 11.5.2 against ``python -m bws`` on litecoind
regtest (docs/spec/protocol-bwc11.md §6, §7; the server's btc/testnet is the node).

The wallet side uses ``tb1…`` (btc testnet); litecoind refuses those strings, so the
node's own bech32 address (``rltc1q…``) is re-encoded as ``tb1q…`` from its
scriptPubKey, and the P2TR destination is the vectors' key-D output (the node has no
bech32m address type). Outputs are checked on the node by scriptPubKey.
Mining: 2 blocks.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bws.chains.script import segwit_address
from devtools.litecoind import WALLET
from tests.interop.harness import BwcError, wait_for
from tests.interop.test_bwc11_txproposals import fund, history_item, make_wallet

pytestmark = pytest.mark.interop

VECTORS = json.loads((Path(__file__).resolve().parents[1] / "vectors" / "btc_segwit.json").read_text())
P2TR = VECTORS["destinations"]["testnet"]["P2TR"]


def test_2of2_pays_p2wpkh_and_p2tr(bwc11, litecoind):
    alice, bob = make_wallet(bwc11, ["alice", "bob"], m=2)
    addr, _ = fund(alice, litecoind, "0.5")
    assert addr["type"] == "P2SH"

    node_addr = litecoind.new_address("bech32")
    wpkh_spk = litecoind.rpc("getaddressinfo", node_addr, wallet=WALLET)["scriptPubKey"]
    assert node_addr.startswith("rltc1q") and wpkh_spk.startswith("0014")
    wpkh = segwit_address("tb", wpkh_spk)
    assert wpkh.startswith("tb1q")

    # the other network's form is refused by the server (the client sends it as is)
    with pytest.raises(BwcError) as e:
        alice.createTxProposal(opts={"outputs": [{"toAddress": segwit_address("bc", wpkh_spk),
                                                  "amount": 1_000_000}], "feePerKb": 10_000})
    assert e.value.code == "INCORRECT_ADDRESS_NETWORK"
    with pytest.raises(BwcError) as e:
        alice.createTxProposal(opts={"outputs": [{"toAddress": node_addr, "amount": 1_000_000}],
                                     "feePerKb": 10_000})
    assert e.value.code == "INVALID_ADDRESS"

    outputs = [{"toAddress": wpkh, "amount": 3_000_000}, {"toAddress": P2TR["address"], "amount": 2_000_000}]
    txp = alice.createTxProposal(opts={"outputs": outputs, "feePerKb": 10_000, "message": "segwit"})
    assert [o["toAddress"] for o in txp["outputs"]] == [wpkh, P2TR["address"]]
    alice.publishTxProposal(txp=txp)
    assert bob.signTxProposal(txpId=txp["id"])["status"] == "pending"
    done = alice.signTxProposal(txpId=txp["id"])
    assert done["status"] == "accepted"
    sent = bob.broadcastTxProposal(txpId=txp["id"])
    assert sent["status"] == "broadcasted" and sent["txid"] == done["txid"]
    txid = sent["txid"]
    assert litecoind.rpc("getmempoolentry", txid)

    litecoind.mine(1)
    tx = litecoind.rpc("getrawtransaction", txid, True)
    assert tx.get("confirmations", 0) >= 1
    by_script = {o["scriptPubKey"]["hex"]: int(o["value"] * 100_000_000) for o in tx["vout"]}
    assert by_script[wpkh_spk] == 3_000_000
    assert by_script[P2TR["scriptPubKey"]] == 2_000_000
    assert len(by_script) == 3  # and the change to the wallet
    # the node's wallet owns the P2WPKH output
    wait_for(lambda: any(u["txid"] == txid for u in litecoind.rpc("listunspent", 1, 9999, [node_addr], wallet=WALLET)),
             what="the node's P2WPKH output")

    item = history_item(alice, txid, lambda h: h["confirmations"] >= 1)
    assert item["action"] == "sent" and item["amount"] == 5_000_000 and item["fees"] == txp["fee"]
    payees = {o["address"]: o["amount"] for o in item["outputs"]}
    assert payees[wpkh] == 3_000_000 and payees[P2TR["address"]] == 2_000_000
    assert alice.getBalance()["totalAmount"] == 50_000_000 - 5_000_000 - txp["fee"]
