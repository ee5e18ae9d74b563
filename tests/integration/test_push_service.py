"""Push service against a local fake FCM HTTP v1 (+ OAuth token endpoint) and a fake APNs (TLS + HTTP/2).

Ports the reference's push cases (spec/services.md §12 items 29–36).
"""

import hashlib

import pytest_twisted
from twisted.internet import reactor, task

from bws.config import PushNotificationsOpts
from pushservice.apns import ApnsSender
from pushservice.fcm import FcmSender
from pushservice.service import PushService
from tests.helpers import db
from tests.notify_fixtures import make_wallet, notify, set_prefs, subscribe


def h(x):
    return hashlib.sha256(x.encode()).hexdigest()


def make_service(storage, fake_fcm, sa_file, apns=None, **kw):
    fcm = FcmSender(reactor, service_account_file=sa_file, endpoint_base=fake_fcm.base_url + "/v1/projects", timeout=5)
    return PushService(storage, PushNotificationsOpts(enabled=True, **kw), reactor, fcm=fcm, apns=apns,
                       backoff=0.05, max_attempts=4, poll_interval=60)


async def deliver(svc, n):
    await svc.handle(n)
    await svc.outbox.when_idle()
    await svc.outbox.run_due()


def by_copayer(fake):
    return {m["message"]["data"]["copayerId"]: m["message"] for m in fake.messages}


@pytest_twisted.ensureDeferred
async def test_incoming_tx_global_1of1(storage, fake_fcm, fcm_service_account):
    w = await make_wallet(storage, m=1, n=1)
    await set_prefs(storage, w, [(0, None, "en", "bit")])
    await subscribe(storage, w)
    svc = make_service(storage, fake_fcm, fcm_service_account)
    await deliver(svc, await notify(storage, "NewIncomingTx", w, {"txid": "aa", "amount": 12_300_000}, creator=None))
    (m,) = fake_fcm.messages
    assert m["project"] == "test-proj" and m["auth"] == "Bearer test-token"
    msg = m["message"]
    assert msg["token"] == "tok-w1-c1"
    assert msg["notification"] == {"title": "New payment received", "body": "A payment of 123,000 bits has been received into your wallet."}
    assert msg["data"] == {"walletId": h("w1"), "copayerId": h("w1-c1"), "title": msg["notification"]["title"],
                           "body": msg["notification"]["body"], "notification_type": "NewIncomingTx"}
    assert msg["android"]["restricted_package_name"] == "com.example.wallet"
    assert msg["android"]["priority"] == "high"


@pytest_twisted.ensureDeferred
async def test_not_pushed_to_creator_and_confirmation_only_to_creator(storage, fake_fcm, fcm_service_account):
    w = await make_wallet(storage)
    c1, c2, c3 = (c["id"] for c in w["copayers"])
    await subscribe(storage, w)
    svc = make_service(storage, fake_fcm, fcm_service_account)
    await deliver(svc, await notify(storage, "NewIncomingTx", w, {"txid": "aa", "amount": 1}, creator=c1))
    assert sorted(by_copayer(fake_fcm)) == sorted([h(c2), h(c3)])
    fake_fcm.messages.clear()
    await deliver(svc, await notify(storage, "TxConfirmation", w, {"txid": "aa"}, creator=c2))
    assert [m["message"]["data"]["copayerId"] for m in fake_fcm.messages] == [h(c2)]
    assert fake_fcm.messages[0]["message"]["notification"]["title"] == "Transaction confirmed"
    fake_fcm.messages.clear()
    await deliver(svc, await notify(storage, "NewTxProposal", w, {"amount": 1}, creator=c1))
    assert len(fake_fcm.messages) == 2
    fake_fcm.messages.clear()
    await deliver(svc, await notify(storage, "TxProposalFinallyRejected", w, {"rejectedBy": [c2]}, creator=c2))
    assert [m["message"]["notification"]["title"] for m in fake_fcm.messages] == ["Payment proposal rejected"] * 2
    fake_fcm.messages.clear()
    await deliver(svc, await notify(storage, "NewOutgoingTx", w, {"txid": "bb", "amount": 80_000_000}, creator=c3))
    assert h(c3) not in by_copayer(fake_fcm) and len(fake_fcm.messages) == 2
    assert all(m["message"]["notification"]["title"] == "Payment sent" for m in fake_fcm.messages)


@pytest_twisted.ensureDeferred
async def test_languages_units_in_copayer_order(storage, fake_fcm, fcm_service_account):
    w = await make_wallet(storage)
    await set_prefs(storage, w, [(0, None, "es", "btc"), (1, None, "en", "bit"), (2, None, "fr", None)])
    await subscribe(storage, w)
    svc = make_service(storage, fake_fcm, fcm_service_account, subjectPrefix="[W]")
    await deliver(svc, await notify(storage, "NewIncomingTx", w, {"txid": "aa", "amount": 12_300_000}, creator=None))
    got = [(m["message"]["data"]["copayerId"], m["message"]["notification"]["title"], m["message"]["notification"]["body"])
           for m in fake_fcm.messages]
    assert got == [
        (h("w1-c1"), "[W] Nuevo pago recibido", "Un pago de 0.123 BTC fue recibido en su billetera."),
        (h("w1-c2"), "[W] New payment received", "A payment of 123,000 bits has been received into your wallet."),
        (h("w1-c3"), "[W] Nouveau paiement reçu", "Un paiement de 0.123 BTC a été reçu dans votre portefeuille."),
    ]


@pytest_twisted.ensureDeferred
async def test_new_copayer_sequential_joins(storage, fake_fcm, fcm_service_account):
    w = await make_wallet(storage, m=1, n=3)
    await subscribe(storage, w)
    svc = make_service(storage, fake_fcm, fcm_service_account)
    w2 = dict(w, copayers=w["copayers"][:2])
    await storage.wallets.store(w2)
    await deliver(svc, await notify(storage, "NewCopayer", w2, {"copayerName": "copayer 2"}, creator="w1-c2"))
    assert [m["message"]["data"]["copayerId"] for m in fake_fcm.messages] == [h("w1-c1")]
    fake_fcm.messages.clear()
    await storage.wallets.store(w)
    await deliver(svc, await notify(storage, "NewCopayer", w, {"copayerName": "copayer 3"}, creator="w1-c3"))
    assert [m["message"]["data"]["copayerId"] for m in fake_fcm.messages] == [h("w1-c1"), h("w1-c2")]
    assert all(m["message"]["notification"]["title"] == "New copayer" for m in fake_fcm.messages)


@pytest_twisted.ensureDeferred
async def test_unregistered_fcm_token_is_removed_and_5xx_retried(storage, fake_fcm, fcm_service_account):
    w = await make_wallet(storage, m=1, n=2)
    await subscribe(storage, w)
    fake_fcm.unregistered.add("tok-w1-c1")
    fake_fcm.fail_times["tok-w1-c2"] = 2
    svc = make_service(storage, fake_fcm, fcm_service_account)
    n = await notify(storage, "NewIncomingTx", w, {"amount": 1}, creator=None)
    await svc.handle(n)
    for _ in range(60):
        await svc.outbox.run_due()
        if fake_fcm.messages:
            break
        await task.deferLater(reactor, 0.05, lambda: None)
    assert [m["message"]["token"] for m in fake_fcm.messages] == ["tok-w1-c2"]
    assert await storage.subscriptions.fetch_push_subs("w1-c1") == []
    assert len(await storage.subscriptions.fetch_push_subs("w1-c2")) == 1
    rows = {r["token"]: r for r in db.find(storage, "push_deliveries", {"notificationId": n["id"]}, sort=[("notificationId", 1), ("seq", 1)])}
    assert rows["tok-w1-c1"]["status"] == "fail" and rows["tok-w1-c1"]["nextAttemptOn"] is None
    # The fake served exactly two 503s then one success; an extra attempt is allowed when
    # the machine is loaded (a client-side timeout counts as an attempt), a second success is not.
    assert [r["code"] for r in fake_fcm.rejected if r["message"]["token"] == "tok-w1-c2"] == [503, 503]
    assert rows["tok-w1-c2"]["status"] == "sent" and rows["tok-w1-c2"]["attempts"] >= 3
    # the next notification goes to the live token only; replay sends nothing
    await deliver(svc, n)
    assert len(fake_fcm.messages) == 1


@pytest_twisted.ensureDeferred
async def test_apns_http2_jwt_and_unregistered(storage, fake_fcm, fcm_service_account, fake_apns):
    w = await make_wallet(storage, m=1, n=3)
    await subscribe(storage, w, platform="ios")
    await storage.subscriptions.store_push_sub({"copayerId": "w1-c3", "token": "android-c3", "platform": "android"})
    fake_apns.unregistered.add("tok-w1-c2")
    apns = ApnsSender(key_pem=fake_apns.key_pem, key_id="KEYID12345", team_id="TEAMID1234", topic="com.example.wallet",
                      base_url=fake_apns.base_url, ca_file=fake_apns.ca_file, timeout=5)
    svc = make_service(storage, fake_fcm, fcm_service_account, apns=apns)
    try:
        n = await notify(storage, "NewIncomingTx", w, {"amount": 150}, creator=None)
        await deliver(svc, n)
        ok = fake_apns.accepted
        assert sorted(r["path"] for r in ok) == ["/3/device/tok-w1-c1", "/3/device/tok-w1-c3"]
        for r in fake_apns.requests:
            assert r["proto"] == "HTTP/2"
            assert r["headers"]["apns-topic"] == "com.example.wallet" and r["headers"]["apns-push-type"] == "alert"
        r = ok[0]
        assert r["claims"]["iss"] == "TEAMID1234"
        assert r["body"]["aps"]["alert"] == {"title": "New payment received",
                                             "body": "A payment of 0.000002 BTC has been received into your wallet."}
        assert r["body"]["notification_type"] == "NewIncomingTx" and r["body"]["walletId"] == h("w1")
        assert [m["message"]["token"] for m in fake_fcm.messages] == ["android-c3"]
        assert await storage.subscriptions.fetch_push_subs("w1-c2") == []
        rows = {x["token"]: x for x in db.find(storage, "push_deliveries", {"notificationId": n["id"]}, sort=[("notificationId", 1), ("seq", 1)])}
        assert rows["tok-w1-c1"]["providerId"] == r["headers"]["apns-id"]
    finally:
        await apns.close()
