"""The real bitcore-wallet-client 6.7.5 spends through ``python -m bws`` on litecoind regtest:
a 2-of-3 proposal created, published, signed by two copayers, broadcast, accepted by the
node and seen `sent` in the history after a block; a proposal rejected by two copayers;
a 1-of-1 wallet sending with one signature.

Mining is kept sparse (the session node must stay below height 432): 3 blocks per run here,
1 in test_bwc_wallet.py.
"""

from __future__ import annotations

import pytest

from tests.interop.harness import BwcError, wait_for
from tests.interop.test_bwc_wallet import make_wallet

pytestmark = pytest.mark.interop


def fund_wallet(client, litecoind, btc: str) -> dict:
    """Pay `btc` from the node to a fresh receive address of the wallet; wait until the
    server sees it (unconfirmed); returns the address."""
    addr = client.createAddress()
    litecoind.fund(addr["address"], btc)
    sat = int(round(float(btc) * 1e8))
    wait_for(lambda: client.getBalance()["totalAmount"] >= sat, what=f"{btc} BTC in the balance")
    return addr


def history_item(client, txid, pred=lambda h: True, timeout=20.0):
    def find():
        for h in client.getTxHistory():
            if h["txid"] == txid and pred(h):
                return h
        return None

    return wait_for(find, timeout=timeout, what=f"history item {txid}")


def test_2of3_proposal_signed_by_two_broadcast_and_mined(bwc, litecoind):
    alice, bob, carol = make_wallet(bwc, ["alice", "bob", "carol"], m=2)
    fund_wallet(alice, litecoind, "1.0")
    litecoind.mine(1)
    before = wait_for(
        lambda: (b := bob.getBalance())["totalConfirmedAmount"] == 100_000_000 and b, what="confirmed funds"
    )
    assert before["totalAmount"] == 100_000_000

    levels = alice.getFeeLevels(coin="btc", network="testnet")
    assert [lv["level"] for lv in levels][:3] == ["urgent", "priority", "normal"]
    assert all(isinstance(lv["feePerKb"], int) and lv["feePerKb"] > 0 for lv in levels)

    dest = litecoind.new_address("legacy")  # m/n…: same version bytes as Bitcoin testnet
    amount = 20_000_000
    opts = {
        "outputs": [{"toAddress": dest, "amount": amount, "message": "for the node"}],
        "message": "first payment",
        "feePerKb": 10_000,
    }
    # Fee preview: nothing stored.
    preview = alice.createTxProposal(opts={**opts, "dryRun": True})
    assert preview["fee"] > 0
    assert alice.getTxProposals() == []

    # createTxProposal checks the server's echo (outputs, messages, feePerKb).
    txp = alice.createTxProposal(opts=opts)
    assert txp["status"] == "temporary"
    assert txp["message"] == "first payment"
    assert txp["outputs"][0]["message"] == "for the node"
    assert (txp["requiredSignatures"], txp["requiredRejections"]) == (2, 2)
    assert txp["changeAddress"]["isChange"] is True
    assert txp["changeAddress"]["address"].startswith("2")
    fee = txp["fee"]
    assert 0 < fee < 100_000
    assert bob.getTxProposals() == []  # temporary proposals are not visible yet

    published = alice.publishTxProposal(txp=txp)
    assert published["status"] == "pending"

    # Bob and Carol fetch the pending list (the client verifies the proposal signature and
    # re-derives the change address) and sign their inputs.
    [seen] = bob.getTxProposals()
    assert seen["id"] == txp["id"] and seen["creatorName"] == "alice"
    locked = bob.getBalance()
    assert locked["lockedAmount"] == 100_000_000  # every input of the pending proposal
    signed = bob.signTxProposal(txpId=txp["id"])
    assert signed["status"] == "pending"
    assert [a["type"] for a in signed["actions"]] == ["accept"]
    signed = carol.signTxProposal(txpId=txp["id"])
    assert signed["status"] == "accepted"
    txid = signed["txid"]
    assert len(txid) == 64 and signed["raw"]

    # A third signature is refused.
    with pytest.raises(BwcError) as e:
        alice.signTxProposal(txpId=txp["id"])
    assert e.value.code == "BAD_SIGNATURES"

    sent = alice.broadcastTxProposal(txpId=txp["id"])
    assert sent["status"] == "broadcasted"
    assert sent["txid"] == txid
    # The node accepted it: it is in the mempool, paying `amount` to dest.
    entry = litecoind.rpc("getmempoolentry", txid)
    assert entry
    raw = litecoind.rpc("getrawtransaction", txid, True)
    assert len(raw["vin"]) == len(txp["inputs"])
    assert any(int(round(float(o["value"]) * 1e8)) == amount and o["scriptPubKey"]["addresses"] == [dest]
               for o in raw["vout"])
    assert bob.getTxProposals() == []

    litecoind.mine(1)
    item = history_item(bob, txid, lambda h: h["confirmations"] >= 1)
    assert item["action"] == "sent"
    assert item["amount"] == amount
    assert item["fees"] == fee
    assert item["addressTo"] == dest
    assert item["proposalId"] == txp["id"]
    assert item["message"] == "first payment"
    assert sorted(a["type"] for a in item["actions"]) == ["accept", "accept"]

    after = wait_for(
        lambda: (b := carol.getBalance())["totalConfirmedAmount"] == 100_000_000 - amount - fee and b,
        what="balance after the send",
    )
    assert after["totalAmount"] == 100_000_000 - amount - fee
    assert after["lockedAmount"] == 0

    # Everybody was told.
    types = [n["type"] for n in bob.getNotifications(opts={"timeSpan": 300, "includeOwn": True})]
    for t in ("NewTxProposal", "TxProposalAcceptedBy", "TxProposalFinallyAccepted", "NewOutgoingTx"):
        assert t in types, types


def test_2of3_proposal_rejected_by_two(bwc, litecoind):
    alice, bob, carol = make_wallet(bwc, ["alice", "bob", "carol"], m=2)
    fund_wallet(alice, litecoind, "0.5")  # unconfirmed inputs are fine for proposals

    txp = alice.createTxProposal(opts={
        "outputs": [{"toAddress": litecoind.new_address("legacy"), "amount": 10_000_000}],
        "message": "please reject",
        "feePerKb": 10_000,
    })
    alice.publishTxProposal(txp=txp)

    first = bob.rejectTxProposal(txpId=txp["id"], reason="no way")
    assert first["status"] == "pending"
    [rej] = first["actions"]
    assert (rej["type"], rej["comment"]) == ("reject", "no way")
    with pytest.raises(BwcError) as e:
        bob.rejectTxProposal(txpId=txp["id"], reason="again")
    assert e.value.code == "COPAYER_VOTED"

    final = carol.rejectTxProposal(txpId=txp["id"], reason="nope")
    assert final["status"] == "rejected"
    assert sorted(a["type"] for a in final["actions"]) == ["reject", "reject"]
    assert alice.getTx(txpId=txp["id"])["status"] == "rejected"
    assert alice.getTxProposals() == []
    assert alice.getBalance()["lockedAmount"] == 0

    with pytest.raises(BwcError) as e:
        alice.signTxProposal(txp=final)
    assert e.value.code == "TX_NOT_PENDING"

    types = [n["type"] for n in alice.getNotifications(opts={"timeSpan": 300})]
    assert "TxProposalRejectedBy" in types and "TxProposalFinallyRejected" in types, types


def test_1of1_wallet_sends_with_one_signature(bwc, litecoind):
    (solo,) = make_wallet(bwc, ["solo"], m=1)
    fund_wallet(solo, litecoind, "0.3")
    total = solo.getBalance()["totalAmount"]
    assert total == 30_000_000

    amount = 12_345_678
    dest = litecoind.new_address("legacy")
    txp = solo.createTxProposal(opts={"outputs": [{"toAddress": dest, "amount": amount}], "feeLevel": "normal"})
    assert txp["requiredSignatures"] == 1
    assert txp["addressType"] == "P2PKH"
    solo.publishTxProposal(txp=txp)
    signed = solo.signTxProposal(txpId=txp["id"])
    assert signed["status"] == "accepted"
    sent = solo.broadcastTxProposal(txpId=txp["id"])
    assert sent["status"] == "broadcasted"
    txid = sent["txid"]
    assert litecoind.rpc("getmempoolentry", txid)

    litecoind.mine(1)
    item = history_item(solo, txid, lambda h: h["confirmations"] >= 1)
    assert (item["action"], item["amount"], item["fees"]) == ("sent", amount, txp["fee"])
    received = [h for h in solo.getTxHistory() if h["action"] == "received"]
    assert [h["amount"] for h in received] == [30_000_000]
    wait_for(lambda: solo.getBalance()["totalAmount"] == total - amount - txp["fee"], what="balance after send")


def test_1of1_self_signed_key_remove_and_send_max_to_another_wallet(bwc, litecoind):
    (payer,) = make_wallet(bwc, ["payer"], m=1, wallet_name="payer")
    (payee,) = make_wallet(bwc, ["payee"], m=1, wallet_name="payee")
    fund_wallet(payer, litecoind, "0.2")
    to = payee.createAddress()["address"]

    # A request key added with addAccess is "selfSigned": the server stores
    # proposalSignaturePubKey(+Sig) and the client verifies them against the creator's xpub.
    payer.addAccess(generateNewKey=True, useNewKey=True)
    txp = payer.createTxProposal(opts={"outputs": [{"toAddress": to, "amount": 5_000_000}], "feePerKb": 10_000})
    payer.publishTxProposal(txp=txp)
    [pending] = payer.getTxProposals()  # SERVER_COMPROMISED if the self-signed key did not check out
    assert pending["proposalSignaturePubKey"] == payer.credentials()["requestPubKey"]
    assert payer.getBalance()["lockedAmount"] == 20_000_000
    payer.removeTxProposal(txpId=txp["id"])
    assert payer.getTxProposals() == []
    assert payer.getBalance()["lockedAmount"] == 0

    # Send everything, the way wallet apps do it with 6.x: sendmaxinfo, then explicit inputs + fee.
    info = payer.getSendMaxInfo(opts={"feePerKb": 10_000, "returnInputs": True})
    assert info["amount"] + info["fee"] == 20_000_000
    assert len(info["inputs"]) == 1
    txp = payer.createTxProposal(opts={
        "outputs": [{"toAddress": to, "amount": info["amount"]}],
        "inputs": info["inputs"],
        "fee": info["fee"],
        "message": "everything",
    })
    assert txp["fee"] == info["fee"]
    payer.publishTxProposal(txp=txp)
    payer.signTxProposal(txpId=txp["id"])
    txid = payer.broadcastTxProposal(txpId=txp["id"])["txid"]
    assert litecoind.rpc("getmempoolentry", txid)

    # The receiving wallet sees it unconfirmed: balance and a `received` history item.
    wait_for(lambda: payee.getBalance()["totalAmount"] == info["amount"], what="payee balance")
    item = history_item(payee, txid)
    assert (item["action"], item["amount"], item["confirmations"]) == ("received", info["amount"], 0)
    wait_for(lambda: payer.getBalance()["totalAmount"] == 0, what="payer balance")
    sent = history_item(payer, txid)
    # Reference rule (spec §6.14): with no change output the sent amount includes the fee.
    assert (sent["action"], sent["amount"], sent["fees"]) == ("sent", 20_000_000, info["fee"])

    # bwc 6.7.5's twoStep balance URL is malformed ("/v1/balance/??twoStep=1&r=…"); it must still work.
    assert payee.getBalance(opts={"twoStep": True})["totalAmount"] == info["amount"]
