"""A whole 2-of-2 wallet life with the real, unpatched bitcore-wallet-client 10.10.15
(node callbacks, wrapped by tests/interop/bwc10_driver.js) against ``python -m bws`` on
litecoind regtest (issue 17; docs/spec/protocol-bwc11.md §5): create / join / open
(``GET /v3/wallets/``), an address (``POST /v4/addresses/``) listed by 10.x's
``GET /v1/addresses/`` and verified by the client, funds, balance, a proposal created
(``/v3/txproposals/``), published, signed by both copayers (``key.sign`` +
``/v2/…/signatures/``) and broadcast, notifications, push subscribe / unsubscribe
(``/v2/…`` and ``/v3/pushnotifications/subscriptions/``).

Mining is kept sparse (the session node must stay below height 432): 1 block per run.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.interop.harness import Bwc10Driver, BwcError, wait_for

pytestmark = pytest.mark.interop


@pytest.fixture
def bwc10(request, bws_api, tmp_path):
    """One ``node bwc10_driver.js`` process against the session ``python -m bws``;
    logs attached on failure."""
    driver = Bwc10Driver(bws_api.base_url, tmp_path)
    yield driver
    driver.close()
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        rep.sections.append(("bws log (tail)", bws_api.log_tail()))
        rep.sections.append(("bwc10 driver stderr (tail)", driver.stderr_tail()))


@pytest.fixture
def server_db(bws_api, mongo_server):
    """The session server's database (to see what a push subscription stored)."""
    name = urlparse(bws_api.config["storageOpts"]["mongoDb"]["uri"]).path.lstrip("/")
    with mongo_server.sync_client() as c:
        yield c[name]


def test_driver_is_10_10_15(bwc10):
    assert bwc10.call("x", "version")["bwc"] == "10.10.15"


def test_2of2_whole_life(bwc10, litecoind, server_db):
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
    assert server_db.push_subs_v2.count_documents({"copayerId": cid, "externalUserId": "braze-alice"}) == 1
    [device] = list(server_db.push_notification_subs.find({"copayerId": cid}))
    assert (device["token"], device["platform"], device["externalUserId"]) == ("fcm-alice", "android", "braze-alice")
    with pytest.raises(BwcError) as e:
        alice.pushNotificationsSubscribe(opts={"type": "windows", "externalUserId": "x"})
    assert "type" in str(e.value)
    assert alice.pushNotificationsUnsubscribe(externalUserId="braze-alice") is None
    assert server_db.push_subs_v2.count_documents({"copayerId": cid}) == 0
    assert server_db.push_notification_subs.count_documents({"copayerId": cid}) == 0
    assert server_db.push_subs_v2.count_documents({"externalUserId": "braze-bob"}) == 1
