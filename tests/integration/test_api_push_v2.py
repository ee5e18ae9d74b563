"""The push routes of bitcore-wallet-client 10.x / 11.x over HTTP with our own signed
client (docs/spec/protocol-bwc11.md §3.4): ``POST /v2/pushnotifications/subscriptions/``
(upstream's Braze fields stored per copayer and externalUserId; a device ``token`` given
with them is delivered through our FCM / APNs senders) and ``DELETE
/v3/pushnotifications/subscriptions/:externalUserId``; bad input is a 400 naming it."""

from __future__ import annotations

import hashlib

import pytest_twisted
from twisted.internet import reactor

from bws.config import PushNotificationsOpts
from pushservice.apns import ApnsSender
from pushservice.fcm import FcmSender
from pushservice.service import PushService
from tests.helpers.fixtures import api, clock, explorer, service  # noqa: F401
from tests.helpers.wallets import create_and_join
from tests.notify_fixtures import notify

URL = "/v2/pushnotifications/subscriptions/"


def h(x: str) -> str:
    return hashlib.sha256(x.encode()).hexdigest()


async def _wallet(api, n=2):
    w = await create_and_join(api.service, 1, n, network="testnet")
    return w


def _push(storage, fake_fcm, sa_file, apns=None) -> PushService:
    fcm = FcmSender(reactor, service_account_file=sa_file, endpoint_base=fake_fcm.base_url + "/v1/projects", timeout=5)
    return PushService(storage, PushNotificationsOpts(enabled=True), reactor, fcm=fcm, apns=apns,
                       backoff=0.05, max_attempts=2, poll_interval=60)


async def _deliver(svc: PushService, n: dict) -> None:
    await svc.handle(n)
    await svc.outbox.when_idle()
    await svc.outbox.run_due()


@pytest_twisted.ensureDeferred
async def test_subscribe_without_token_stores_braze_fields_and_delivers_nothing(api):
    w = await _wallet(api)
    k, cid = w.copayers[0], w.copayer_ids[0]
    body = {"type": "android", "externalUserId": "braze-1", "packageName": "com.example", "platform": "android",
            "walletId": w.id}
    r = await api.client.post(URL, body, k)
    assert r.status == 200, r.text
    assert r.json["delivered"] is False
    assert {x: r.json[x] for x in body} == body and r.json["copayerId"] == cid
    assert "token" not in r.json and isinstance(r.json["createdOn"], int)
    storage = api.service.storage
    (stored,) = await storage.subscriptions.fetch_push_subs_v2(cid)
    assert stored["externalUserId"] == "braze-1" and stored["packageName"] == "com.example"
    assert await storage.subscriptions.fetch_push_subs(cid) == []
    # upsert on (copayer, externalUserId): a second call replaces, another id adds
    r = await api.client.post(URL, {"externalUserId": "braze-1", "type": "ios"}, k)
    assert r.status == 200 and r.json["type"] == "ios"
    (stored,) = await storage.subscriptions.fetch_push_subs_v2(cid)
    assert stored["type"] == "ios" and "packageName" not in stored
    assert (await api.client.post(URL, {"externalUserId": "braze-2"}, k)).status == 200
    assert len(await storage.subscriptions.fetch_push_subs_v2(cid)) == 2
    # the other copayer's subscriptions are its own
    assert await storage.subscriptions.fetch_push_subs_v2(w.copayer_ids[1]) == []


@pytest_twisted.ensureDeferred
async def test_bad_input_is_400_naming_the_field(api):
    w = await _wallet(api, 1)
    k = w.copayers[0]
    cases = [
        ({}, "Required argument externalUserId missing."),
        ({"externalUserId": ""}, "Invalid externalUserId"),
        ({"externalUserId": 7}, "Invalid externalUserId"),
        ({"externalUserId": "x" * 1025}, "Invalid externalUserId"),
        ({"externalUserId": "e", "type": "windows"}, "Invalid type: must be ios or android"),
        ({"externalUserId": "e", "type": 1}, "Invalid type"),
        ({"externalUserId": "e", "packageName": ["a"]}, "Invalid packageName"),
        ({"externalUserId": "e", "walletId": "w" * 1025}, "Invalid walletId"),
        ({"externalUserId": "e", "token": "tok"}, "Required argument type missing (a device token needs it)"),
        ({"externalUserId": "e", "token": "", "type": "ios"}, "Invalid token"),
    ]
    for body, message in cases:
        r = await api.client.post(URL, body, k)
        assert r.status == 400 and r.json["code"] == "BADREQUEST", (body, r.text)
        assert r.json["message"].startswith(message), (body, r.json)
    r = await api.client.post(URL, ["externalUserId"], k)
    assert r.status == 400, r.text
    assert await api.service.storage.subscriptions.fetch_push_subs_v2(w.copayer_ids[0]) == []
    # unsigned: refused before the service
    r = await api.client.post(URL, {"externalUserId": "e"})
    assert r.status == 401, r.text


@pytest_twisted.ensureDeferred
async def test_token_is_registered_replaced_and_removed_with_its_external_id(api):
    w = await _wallet(api, 1)
    k, cid = w.copayers[0], w.copayer_ids[0]
    subs = api.service.storage.subscriptions
    r = await api.client.post(URL, {"externalUserId": "e1", "type": "android", "token": "tok-a",
                                    "packageName": "com.example"}, k)
    assert r.status == 200 and r.json["delivered"] is True and r.json["token"] == "tok-a"
    # a v1 subscription of its own survives everything below
    assert (await api.client.post("/v1/pushnotifications/subscriptions/", {"token": "tok-v1"}, k)).status == 200
    devices = await subs.fetch_push_subs(cid)
    assert [(d["token"], d.get("platform"), d.get("externalUserId")) for d in devices] == [
        ("tok-a", "android", "e1"), ("tok-v1", None, None)]
    # a new token under the same externalUserId replaces the old one
    r = await api.client.post(URL, {"externalUserId": "e1", "type": "ios", "token": "tok-b"}, k)
    assert r.status == 200 and r.json["delivered"] is True
    assert sorted((d["token"], d.get("platform")) for d in await subs.fetch_push_subs(cid)) == [
        ("tok-b", "ios"), ("tok-v1", None)]
    # re-subscribing without a token drops the device registration
    r = await api.client.post(URL, {"externalUserId": "e1", "type": "ios"}, k)
    assert r.json["delivered"] is False
    assert [d["token"] for d in await subs.fetch_push_subs(cid)] == ["tok-v1"]
    assert (await api.client.post(URL, {"externalUserId": "e1", "type": "ios", "token": "tok-c"}, k)).status == 200
    # DELETE: the v2 subscription and its token go, the unrelated ones stay
    r = await api.client.delete("/v3/pushnotifications/subscriptions/e2", k)
    assert r.status == 200 and r.json == {"ok": 1, "n": 0}
    r = await api.client.delete("/v3/pushnotifications/subscriptions/e1", k)
    assert r.status == 200 and r.json == {"ok": 1, "n": 1}
    assert await subs.fetch_push_subs_v2(cid) == []
    assert [d["token"] for d in await subs.fetch_push_subs(cid)] == ["tok-v1"]
    # another copayer cannot delete mine
    w2 = await _wallet(api, 1)
    assert (await api.client.post(URL, {"externalUserId": "e1"}, k)).status == 200
    r = await api.client.delete("/v3/pushnotifications/subscriptions/e1/", w2.copayers[0])
    assert r.status == 200 and r.json["n"] == 0
    assert len(await subs.fetch_push_subs_v2(cid)) == 1


@pytest_twisted.ensureDeferred
async def test_a_v2_token_is_delivered_by_fcm_and_apns(api, fake_fcm, fcm_service_account, fake_apns):
    w = await _wallet(api, 2)
    storage = api.service.storage
    (c1, c2), (k1, k2) = w.copayer_ids, w.copayers
    assert (await api.client.post(URL, {"externalUserId": "u1", "type": "android", "token": "fcm-1",
                                        "packageName": "com.example.wallet"}, k1)).status == 200
    assert (await api.client.post(URL, {"externalUserId": "u2", "type": "ios", "token": "apns-2"}, k2)).status == 200
    # without a token nothing is pushed to this id
    assert (await api.client.post(URL, {"externalUserId": "u3", "type": "android"}, k2)).status == 200
    apns = ApnsSender(key_pem=fake_apns.key_pem, key_id="KEYID12345", team_id="TEAMID1234",
                      topic="com.example.wallet", base_url=fake_apns.base_url, ca_file=fake_apns.ca_file, timeout=5)
    svc = _push(storage, fake_fcm, fcm_service_account, apns=apns)
    try:
        wallet = (await storage.wallets.fetch(w.id))
        n = await notify(storage, "NewIncomingTx", {"id": w.id}, {"txid": "aa", "amount": 150}, creator=None)
        await _deliver(svc, n)
        (m,) = fake_fcm.messages
        assert m["message"]["token"] == "fcm-1" and m["message"]["data"]["copayerId"] == h(c1)
        assert m["message"]["android"]["restricted_package_name"] == "com.example.wallet"
        assert m["message"]["notification"]["title"] == "New payment received"
        assert [r["path"] for r in fake_apns.accepted] == ["/3/device/apns-2"]
        assert fake_apns.accepted[0]["body"]["walletId"] == h(wallet["id"])
        # unsubscribed: no more pushes to that device
        assert (await api.client.delete("/v3/pushnotifications/subscriptions/u1", k1)).status == 200
        fake_fcm.messages.clear()
        n = await notify(storage, "NewIncomingTx", {"id": w.id}, {"txid": "bb", "amount": 150}, creator=None)
        await _deliver(svc, n)
        assert fake_fcm.messages == [] and len(fake_apns.accepted) == 2
    finally:
        await apns.close()
