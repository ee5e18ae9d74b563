"""Whole wallet lives with the real, unpatched bitcore-wallet-client 11.5.2 against
``python -m bws`` on litecoind regtest (issue 17; docs/spec/protocol-bwc11.md §3.2, §3.3):
create / join / open, addresses created, listed and verified by the client
(``Verifier.checkAddress``), funds from the node, balance, proposals created
(``POST /v3/txproposals/``, checked by ``Verifier.checkProposalCreation``), published
(``/v2/…/publish/``), signed by each copayer with ``key.sign`` + ``pushSignatures``
(``/v2/…/signatures/``, after ``Verifier.checkTxProposal``), broadcast, seen ``sent`` in
the history after a block; reject, remove, notifications, ``getTxByHash``,
``getCoinsForTx``, ``clearCache``.

Mining is kept sparse (the session node must stay below height 432): 2 blocks per run.
"""

from __future__ import annotations

import pytest

from tests.interop.harness import BwcError, wait_for

pytestmark = pytest.mark.interop




def make_wallet(bwc11, names, m):
    """An m-of-len(names) wallet created by names[0], joined by the others, opened by
    everyone (their credentials complete, copayers checked by the client)."""
    n = len(names)
    clients = [bwc11.new_copayer(name, m=m, n=n) for name in names]
    created = clients[0].createWallet(walletName="w11", copayerName=names[0], m=m, n=n, network="testnet")
    for name, c in zip(names[1:], clients[1:]):
        c.joinWallet(secret=created["secret"], copayerName=name)
    for c in clients:
        opened = c.openWallet()
        assert opened["credentials"]["complete"] is True
    return clients


def fund(client, litecoind, btc: str) -> tuple[dict, str]:
    """Pay ``btc`` from the node to a new receive address; wait until the wallet sees it."""
    addr = client.createAddress()
    txid = litecoind.fund(addr["address"], btc)
    sat = int(round(float(btc) * 1e8))
    wait_for(lambda: client.getBalance()["totalAmount"] >= sat, what=f"{btc} BTC in the balance")
    return addr, txid


def history_item(client, txid, pred=lambda h: True, timeout=20.0):
    def find():
        return next((h for h in client.getTxHistory() if h["txid"] == txid and pred(h)), None)

    return wait_for(find, timeout=timeout, what=f"history item {txid}")


def test_2of3_whole_life(bwc11, litecoind):
    alice, bob, carol = make_wallet(bwc11, ["alice", "bob", "carol"], m=2)
    status = alice.getStatus()
    assert status["wallet"]["status"] == "complete" and len(status["wallet"]["copayers"]) == 3

    # addresses: receive and change through /v4/addresses/, listed by /v2/addresses and
    # verified by the client (a wrong address or key set would be SERVER_COMPROMISED)
    a0, fund_txid = fund(alice, litecoind, "1.0")
    assert (a0["path"], a0["type"], a0["isChange"]) == ("m/0/0", "P2SH", False)
    ch = bob.createAddress(opts={"isChange": True})
    assert (ch["path"], ch["isChange"]) == ("m/1/0", True)
    listed = carol.getAddresses()
    assert [x["path"] for x in listed] == ["m/0/0", "m/1/0"]
    assert [x["path"] for x in carol.getMainAddresses(opts={"reverse": True})] == ["m/0/0"]
    assert [x["address"] for x in carol.getAddresses(opts={"noChange": True})] == [a0["address"]]
    assert bob.getBalance()["totalAmount"] == 100_000_000

    # getCoinsForTx: the funding transaction's output to our address
    coins = alice.getCoinsForTx(opts={"chain": "btc", "network": "testnet", "txId": fund_txid})
    ours = [o for o in coins["outputs"] if o["address"] == a0["address"]]
    assert [o["value"] for o in ours] == [100_000_000] and ours[0]["mintTxid"] == fund_txid

    litecoind.mine(1)
    wait_for(lambda: bob.getBalance()["totalConfirmedAmount"] == 100_000_000, what="confirmed funds")

    dest = litecoind.new_address("legacy")
    amount = 25_000_000
    opts = {"outputs": [{"toAddress": dest, "amount": amount, "message": "to the node"}],
            "message": "rent", "feePerKb": 10_000}
    txp = alice.createTxProposal(opts=opts)  # checkProposalCreation passed inside the client
    assert txp["status"] == "temporary" and txp["version"] == 3
    assert txp["message"] == "rent" and txp["outputs"][0]["message"] == "to the node"
    assert bob.getTxProposals() == []
    published = alice.publishTxProposal(txp=txp)
    assert published["status"] == "pending"

    # each copayer verifies the proposal (signature, change address) and signs its inputs
    [seen] = bob.getTxProposals()
    assert seen["id"] == txp["id"] and seen["creatorName"] == "alice"
    assert bob.getBalance()["lockedAmount"] == 100_000_000
    signed = bob.signTxProposal(txpId=txp["id"])
    assert signed["status"] == "pending"
    signed = carol.signTxProposal(txpId=txp["id"])
    assert signed["status"] == "accepted" and len(signed["txid"]) == 64
    txid = signed["txid"]
    with pytest.raises(BwcError) as e:
        alice.signTxProposal(txpId=txp["id"])
    assert e.value.code == "BAD_SIGNATURES"

    sent = alice.broadcastTxProposal(txpId=txp["id"])
    assert sent["status"] == "broadcasted" and sent["txid"] == txid
    assert litecoind.rpc("getmempoolentry", txid)

    by_hash = carol.getTxByHash(txid=txid)
    assert by_hash["id"] == txp["id"] and by_hash["status"] == "broadcasted"
    with pytest.raises(BwcError) as e:
        carol.getTxByHash(txid=fund_txid)
    assert e.value.code == "TX_NOT_FOUND"
    coins = bob.getCoinsForTx(opts={"coin": "btc", "network": "testnet", "txId": txid})
    assert [i["mintTxid"] for i in coins["inputs"]] == [fund_txid]
    assert any(o["address"] == dest and o["value"] == amount for o in coins["outputs"])

    litecoind.mine(1)
    item = history_item(bob, txid, lambda h: h["confirmations"] >= 1)
    assert item["action"] == "sent" and item["amount"] == amount and item["fees"] == txp["fee"]
    assert item["message"] == "rent" and item["proposalId"] == txp["id"]

    # a second proposal, rejected by two copayers
    txp2 = bob.createTxProposal(opts={"outputs": [{"toAddress": dest, "amount": 1_000_000}], "feePerKb": 10_000})
    bob.publishTxProposal(txp=txp2)
    r = alice.rejectTxProposal(txpId=txp2["id"], reason="no")
    assert r["status"] == "pending"
    r = carol.rejectTxProposal(txpId=txp2["id"], reason="no thanks")
    assert r["status"] == "rejected"
    assert alice.getTxProposals() == []

    # notifications reach the other copayers (session login + poll)
    types = [n["type"] for n in carol.getNotifications(opts={"includeOwn": True, "timeSpan": 3600})]
    for t in ("NewCopayer", "NewAddress", "NewTxProposal", "TxProposalAcceptedBy",
              "TxProposalFinallyAccepted", "NewOutgoingTx", "TxProposalFinallyRejected"):
        assert t in types, (t, types)

    assert alice.clearCache() is not None
    assert alice.getBalance()["totalAmount"] == 100_000_000 - amount - txp["fee"]


def test_2of2_create_remove_and_refusals(bwc11, litecoind):
    alice, bob = make_wallet(bwc11, ["alice", "bob"], m=2)
    addr, _ = fund(bob, litecoind, "0.5")
    assert addr["type"] == "P2SH"
    dest = litecoind.new_address("legacy")
    out = [{"toAddress": dest, "amount": 1_000_000}]

    # options the server does not implement reach the client as a clear 400
    # (enableRBF is supported: tests/interop/test_bwc11_rbf.py)
    for extra, word in (({"replaceTxByFee": True}, "replaceTxByFee"),):
        with pytest.raises(BwcError) as e:
            alice.createTxProposal(opts={"outputs": out, "feePerKb": 10_000, **extra})
        assert word in e.value.message

    # removed by its creator while nobody else has acted on it
    txp = alice.createTxProposal(opts={"outputs": out, "feePerKb": 10_000, "noShuffleOutputs": True})
    alice.publishTxProposal(txp=txp)
    assert [t["id"] for t in bob.getTxProposals()] == [txp["id"]]
    alice.removeTxProposal(txpId=txp["id"])
    assert bob.getTxProposals() == []

    # once another copayer has acted, the creator must wait (TX_CANNOT_REMOVE)
    txp = alice.createTxProposal(opts={"outputs": out, "feePerKb": 10_000})
    alice.publishTxProposal(txp=txp)
    assert bob.signTxProposal(txpId=txp["id"])["status"] == "pending"
    with pytest.raises(BwcError) as e:
        alice.removeTxProposal(txpId=txp["id"])
    assert e.value.code == "TX_CANNOT_REMOVE"
    done = alice.signTxProposal(txpId=txp["id"])
    assert done["status"] == "accepted"
    assert alice.broadcastTxProposal(txpId=txp["id"])["status"] == "broadcasted"
    assert bob.getTxByHash(txid=done["txid"])["id"] == txp["id"]
    types = [n["type"] for n in bob.getNotifications(opts={"timeSpan": 3600})]
    assert "TxProposalRemoved" in types and "NewOutgoingTx" in types
