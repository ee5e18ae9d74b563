"""A whole 2-of-2 wallet life with the real, unpatched bitcore-wallet-client 10.10.15
(node callbacks, wrapped by tests/interop/bwc10_driver.js) against ``python -m bws`` on
litecoind regtest (issue 17; docs/spec/protocol-bwc11.md §5): create / join / open
(``GET /v3/wallets/``), an address (``POST /v4/addresses/``) listed by 10.x's
``GET /v1/addresses/`` and verified by the client, funds, balance, a proposal created
(``/v3/txproposals/``), published, signed by both copayers (``key.sign`` +
``/v2/…/signatures/``) and broadcast, notifications, push subscribe / unsubscribe
(``/v2/…`` and ``/v3/pushnotifications/subscriptions/``); and, on a 1-of-1, preferences, a fiat
rate (``GET /v1/fiatrates/:code/``: 10.x has no v2/v3 fiat method), tx notes and tx-confirmation
subscriptions.

Mining is kept sparse (the session node must stay below height 432): 1 block per run.
"""

from __future__ import annotations

import time

import pytest

from tests.interop.harness import BwcError, wait_for

pytestmark = pytest.mark.interop






def test_driver_is_10_10_15(bwc10):
    assert bwc10.call("x", "version")["bwc"] == "10.10.15"


def test_2of2_whole_life(bwc10, litecoind, bws_db):
    alice = bwc10.new_copayer("alice", m=2, n=2)
    bob = bwc10.new_copayer("bob", m=2, n=2)
    created = alice.createWallet(walletName="w10", copayerName="alice", m=2, n=2, network="testnet")
    assert created["secret"]
    with pytest.raises(BwcError):  # incomplete: the client refuses before asking for addresses
        alice.createAddress()
    joined = bob.joinWallet(secret=created["secret"], copayerName="bob")
    assert joined["credentials"]["walletId"] == created["credentials"]["walletId"]
    for c in (alice, bob):
        opened = c.openWallet()  # GET /v3/wallets/?includeExtendedInfo=1&serverMessageArray=1
        assert opened["credentials"]["complete"] is True
    status = alice.getStatus()
    assert status["wallet"]["status"] == "complete" and len(status["wallet"]["copayers"]) == 2

    # address: /v4/addresses/, listed by GET /v1/addresses/ and checked by the client
    addr = alice.createAddress()
    assert (addr["path"], addr["type"]) == ("m/0/0", "P2SH")
    assert [a["address"] for a in bob.getMainAddresses(opts={"limit": 5, "reverse": True})] == [addr["address"]]

    litecoind.fund(addr["address"], "0.5")
    wait_for(lambda: bob.getBalance()["totalAmount"] == 50_000_000, what="funds in the balance")
    litecoind.mine(1)
    wait_for(lambda: alice.getBalance()["totalConfirmedAmount"] == 50_000_000, what="confirmed funds")

    dest = litecoind.new_address("legacy")
    txp = bob.createTxProposal(opts={"outputs": [{"toAddress": dest, "amount": 10_000_000}],
                                     "message": "ten", "feePerKb": 10_000})
    assert txp["status"] == "temporary" and txp["version"] == 3
    assert bob.publishTxProposal(txp=txp)["status"] == "pending"
    [seen] = alice.getTxProposals()
    assert seen["id"] == txp["id"] and seen["message"] == "ten" and seen["creatorName"] == "bob"
    assert alice.signTxProposal(txpId=txp["id"])["status"] == "pending"
    signed = bob.signTxProposal(txpId=txp["id"])
    assert signed["status"] == "accepted" and len(signed["txid"]) == 64
    sent = alice.broadcastTxProposal(txpId=txp["id"])
    assert sent["status"] == "broadcasted" and sent["txid"] == signed["txid"]
    assert litecoind.rpc("getmempoolentry", signed["txid"])

    types = [n["type"] for n in alice.getNotifications(opts={"includeOwn": True, "timeSpan": 3600})]
    # (NewIncomingTx comes from bcmonitor, not run by this session server)
    for t in ("NewCopayer", "WalletComplete", "NewAddress", "NewTxProposal",
              "TxProposalAcceptedBy", "TxProposalFinallyAccepted", "NewOutgoingTx"):
        assert t in types, (t, types)
    # without includeOwn the client drops what bob did himself
    assert "NewTxProposal" not in [n["type"] for n in bob.getNotifications(opts={"timeSpan": 3600})]

    # push: the 10.x/11.x subscription (Braze fields + a device token) and its removal
    cid = alice.credentials()["copayerId"]
    res = alice.pushNotificationsSubscribe(opts={"type": "android", "externalUserId": "braze-alice",
                                                "packageName": "com.example.wallet", "token": "fcm-alice"})
    assert res["externalUserId"] == "braze-alice" and res["delivered"] is True
    bob_res = bob.pushNotificationsSubscribe(opts={"type": "ios", "externalUserId": "braze-bob"})
    assert bob_res["delivered"] is False
    assert bws_db.push_subs_v2.count_documents({"copayerId": cid, "externalUserId": "braze-alice"}) == 1
    [device] = list(bws_db.push_notification_subs.find({"copayerId": cid}))
    assert (device["token"], device["platform"], device["externalUserId"]) == ("fcm-alice", "android", "braze-alice")
    with pytest.raises(BwcError) as e:
        alice.pushNotificationsSubscribe(opts={"type": "windows", "externalUserId": "x"})
    assert "type" in str(e.value)
    assert alice.pushNotificationsUnsubscribe(externalUserId="braze-alice") is None
    assert bws_db.push_subs_v2.count_documents({"copayerId": cid}) == 0
    assert bws_db.push_notification_subs.count_documents({"copayerId": cid}) == 0
    assert bws_db.push_subs_v2.count_documents({"externalUserId": "braze-bob"}) == 1


def test_preferences_fiat_notes_and_confirmations(bwc10, bws_db):
    alice = bwc10.new_copayer("alice")
    alice.createWallet(walletName="w10 services", copayerName="alice", m=1, n=1, network="testnet")
    cid = alice.credentials()["copayerId"]

    # preferences: PUT/GET /v1/preferences/ (the 2.5.1 rules: EVM-only keys refused on BTC)
    assert alice.getPreferences() == {}
    alice.savePreferences(preferences={"email": "alice@example.com", "language": "de", "unit": "btc"})
    prefs = alice.getPreferences()
    assert (prefs["email"], prefs["language"], prefs["unit"]) == ("alice@example.com", "de", "btc")
    with pytest.raises(BwcError) as e:
        alice.savePreferences(preferences={"tokenAddresses": ["0x6b175474e89094c44da98b954eedeac495271d0f"]})
    assert "tokenAddresses is only valid for EVM wallets" in str(e.value)

    # fiat: the rate "fiatrateservice" stored in the server's database, at ts and per coin
    now = int(time.time() * 1000)
    code = "XU" + str(now % 100000)  # a code no other test stores (shared session database)
    bws_db.fiat_rates.insert_many([
        {"provider": "BitPay", "coin": "btc", "code": code, "ts": now - 20 * 60_000, "value": 39000.0},
        {"provider": "BitPay", "coin": "btc", "code": code, "ts": now - 60_000, "value": 40000.5},
        {"provider": "BitPay", "coin": "bch", "code": code, "ts": now - 60_000, "value": 310.25},
    ])
    rate = alice.getFiatRate(code=code)
    assert (rate["rate"], rate["fetchedOn"]) == (40000.5, now - 60_000)
    assert alice.getFiatRate(code=code, ts=now - 10 * 60_000) == {
        "ts": now - 10 * 60_000, "rate": 39000.0, "fetchedOn": now - 20 * 60_000}
    assert alice.getFiatRate(code=code, coin="bch")["rate"] == 310.25
    assert "rate" not in alice.getFiatRate(code=code, coin="doge")

    # notes: encrypted by the client with the shared key, stored as given, decrypted back
    txid = "9a" * 32
    note = alice.editTxNote(txid=txid, body="coffee")
    assert (note["body"], note["editedByName"], note["editedBy"]) == ("coffee", "alice", cid)
    [stored] = list(bws_db.tx_notes.find({"txid": txid, "walletId": note["walletId"]}))
    assert stored["body"] == note["encryptedBody"] and "coffee" not in stored["body"]
    assert alice.getTxNote(txid=txid)["body"] == "coffee"
    assert [n["txid"] for n in alice.getTxNotes(opts={"minTs": note["editedOn"]})] == [txid]
    assert alice.getTxNotes(opts={"minTs": note["editedOn"] + 3600}) == []

    # tx confirmations: POST /v1/txconfirmations/ and DELETE /v1/txconfirmations/:txid
    alice.txConfirmationSubscribe(txid=txid)
    assert bws_db.tx_confirmation_subs.count_documents({"copayerId": cid, "txid": txid, "isActive": True}) == 1
    assert alice.txConfirmationUnsubscribe(txid=txid) is None
    assert bws_db.tx_confirmation_subs.count_documents({"copayerId": cid, "txid": txid, "isActive": True}) == 0
