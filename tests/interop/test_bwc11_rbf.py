"""``enableRBF`` proposals with the real, unpatched bitcore-wallet-client 11.5.2
against ``python -m bws`` on litecoind regtest (issue 18, first slice;
docs/spec/protocol-bwc11.md §7.1 step 3, §7.5): a legacy 2-of-2 P2SH wallet
creates a proposal with ``enableRBF: true`` (``Verifier.checkProposalCreation``
inside the client), publishes it -- the client's proposal signature is made
over *its* ``Utils.buildTx(txp)`` (``t.enableRBF()``: sequence 0xfffffffd) and
our server verifies it over *our* serialisation, so the bytes are the same --,
both copayers sign (``Verifier.checkTxProposal`` first) and it is broadcast;
the node shows every input's sequence 4294967293 and the mempool entry
BIP125-replaceable; after a block the history shows it confirmed.

Mining is kept sparse (the session node must stay below height 432): 1 block per run.
"""

from __future__ import annotations

import pytest

from bws.chains.txbuild import unsigned_raw
from bws.model import TxProposal
from tests.interop.harness import wait_for
from tests.interop.test_bwc11_txproposals import history_item, make_wallet

pytestmark = pytest.mark.interop

RBF = 0xFFFFFFFD  # 4294967293


def test_2of2_enable_rbf_proposal_life(bwc11, litecoind):
    alice, bob = make_wallet(bwc11, ["alice", "bob"], m=2)
    # two node payments, spent together: every input must signal
    addr = alice.createAddress()
    assert addr["type"] == "P2SH"
    for btc in ("0.2", "0.2"):
        litecoind.fund(addr["address"], btc)
    wait_for(lambda: bob.getBalance()["totalAmount"] == 40_000_000, what="0.4 BTC in the balance")

    dest = litecoind.new_address("legacy")
    amount = 30_000_000
    txp = alice.createTxProposal(opts={"outputs": [{"toAddress": dest, "amount": amount}],
                                       "feePerKb": 10_000, "enableRBF": True})
    assert txp["status"] == "temporary" and txp["enableRBF"] is True and len(txp["inputs"]) == 2

    # the client's own serialisation of the proposal signals on every input, and is ours byte for byte
    client_hex = bwc11.call("-", "buildTx", txp=txp)["unsigned"]
    assert client_hex == unsigned_raw(TxProposal.from_dict(txp))
    assert client_hex.count("fdffffff") >= 2

    # the server checks the client's proposal signature over our serialisation
    published = alice.publishTxProposal(txp=txp)
    assert published["status"] == "pending" and published["enableRBF"] is True
    [seen] = bob.getTxProposals()
    assert seen["id"] == txp["id"] and seen["enableRBF"] is True

    assert bob.signTxProposal(txpId=txp["id"])["status"] == "pending"
    signed = alice.signTxProposal(txpId=txp["id"])
    assert signed["status"] == "accepted" and len(signed["txid"]) == 64
    txid = signed["txid"]
    sent = bob.broadcastTxProposal(txpId=txp["id"])
    assert sent["status"] == "broadcasted" and sent["txid"] == txid

    node_tx = litecoind.rpc("getrawtransaction", txid, True)
    assert len(node_tx["vin"]) == 2
    assert all(v["sequence"] == 4294967293 == RBF for v in node_tx["vin"])
    assert litecoind.rpc("getmempoolentry", txid)["bip125-replaceable"] is True

    litecoind.mine(1)
    item = history_item(alice, txid, lambda h: h["confirmations"] >= 1)
    assert item["action"] == "sent" and item["amount"] == amount and item["fees"] == txp["fee"]
    assert item["proposalId"] == txp["id"]
