"""HTTP authentication: version gate, signatures, support staff, sessions
(spec §3.4–3.7; §12 cases 1–6)."""

from __future__ import annotations

import pytest_twisted

from tests.helpers import db
from tests.helpers.fixtures import api, clock, explorer, service  # noqa: F401
from tests.helpers.keys import CopayerKeys, WalletKey
from tests.helpers.wallets import create_and_join


async def set_staff(service, copayer_id):
    st = service.storage
    db.update_one(st, "copayers_lookup", {"copayerId": copayer_id}, {"$set": {"isSupportStaff": True}})


# -- case 1 -------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_version_gate(api):
    w = await create_and_join(api.service, 1, 1)
    c = w.copayers[0]
    r = await api.client.get("/v2/wallets/?r=1", c, headers={"x-client-version": "bwc-1.1.99"})
    assert r.status == 400
    assert r.json == {"code": "UPGRADE_NEEDED", "message": "BWC clients < 1.2 are no longer supported."}
    r = await api.client.post("/v2/wallets/", {}, headers={"x-client-version": "bwc-0.9.0"})
    assert r.status == 400 and r.json["code"] == "UPGRADE_NEEDED"
    for version in ("bwc-2.9.0", "dummy-1.0.0", "bwc-1.2.0", None):
        hdrs = {"x-client-version": version} if version else {}
        client = api.client
        client.client_version = None
        r = await client.get("/v2/wallets/?r=1", c, headers=hdrs)
        assert r.status == 200, (version, r.text)
    # not gated: version, stats
    r = await api.client.get("/v1/version/", headers={"x-client-version": "bwc-1.0.0"})
    assert r.status == 200 and r.json == {"serviceVersion": "bws-2.5.1"}


# -- cases 2, 3 --------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_signature_auth(api):
    w = await create_and_join(api.service, 1, 1)
    other = await create_and_join(api.service, 1, 1)
    c = w.copayers[0]
    r = await api.client.get("/v2/wallets/?includeExtendedInfo=1&r=12345", c, headers={"x-wallet-id": other.id})
    assert r.status == 200 and r.json["wallet"]["id"] == w.id
    # signed body (raw text) and a body whose JSON differs from the signed text only in spacing
    r = await api.client.post("/v3/addresses/", {"ignoreMaxGap": True}, c)
    assert r.status == 200 and r.json["path"] == "m/0/0"
    body = b'{ "ignoreMaxGap" : true }'
    sig = c.sign('post|/v3/addresses/|{"ignoreMaxGap":true}')
    r = await api.client.request("POST", "/v3/addresses/", raw=body, copayer=c, signature=sig)
    assert r.status == 200 and r.json["path"] == "m/0/1"
    # the signed url is the one sent, case included
    r = await api.client.get("/V1/Addresses?r=7", c)
    assert r.status == 200 and len(r.json) == 2


@pytest_twisted.ensureDeferred
async def test_unknown_copayer_and_bad_signature(api):
    w = await create_and_join(api.service, 1, 1)
    r = await api.client.get("/v2/wallets/", CopayerKeys.random())
    assert r.status == 401 and r.json == {"code": "NOT_AUTHORIZED", "message": "Copayer not found"}
    c = w.copayers[0]
    r = await api.client.get("/v2/wallets/", c, signature="3045022100" + "00" * 60)
    assert r.status == 401 and r.json == {"code": "NOT_AUTHORIZED", "message": "Invalid signature"}
    r = await api.client.get("/v2/wallets/", c, sign_path="/v2/wallets/?r=1")
    assert r.status == 401 and r.json["message"] == "Invalid signature"
    # another copayer's key
    r = await api.client.get("/v2/wallets/", c, signature=CopayerKeys.random().sign("get|/v2/wallets/|{}"))
    assert r.status == 401
    # no x-signature at all / no x-identity at all
    r = await api.client.get("/v2/wallets/", headers={"x-identity": w.copayer_ids[0]})
    assert r.status == 401 and r.json["message"] == "Invalid signature"
    r = await api.client.get("/v2/wallets/")
    assert r.status == 401 and r.json["code"] == "NOT_AUTHORIZED"


# -- case 4 -----------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_support_staff(api):
    staff = await create_and_join(api.service, 1, 1)
    target = await create_and_join(api.service, 1, 1)
    await set_staff(api.service, staff.copayer_ids[0])
    s = staff.copayers[0]
    r = await api.client.get("/v2/wallets/", s, headers={"x-wallet-id": target.id})
    assert r.status == 200 and r.json["wallet"]["id"] == target.id
    # staff sign like everyone else (the reference did not check: a known staff copayerId was enough)
    r = await api.client.get("/v2/wallets/", s, headers={"x-wallet-id": target.id}, signature="bogus")
    assert r.status == 401 and r.json["message"] == "Invalid signature"
    # staff-only lookup by wallet id and by address
    addr = await target.as_copayer(api.service).create_address({})
    for ident in (target.id, addr["address"]):
        r = await api.client.get(f"/v1/wallets/{ident}/?includeExtendedInfo=1", s)
        assert r.status == 200 and r.json["wallet"]["id"] == target.id, r.text
    r = await api.client.get("/v1/wallets/unknown-thing/", s)
    assert r.status == 200 and r.text == ""
    # a normal copayer may not use it
    r = await api.client.get(f"/v1/wallets/{target.id}/", target.copayers[0])
    assert r.status == 401 and r.json["code"] == "NOT_AUTHORIZED"


# -- cases 5, 6 (+ Q2 logout) -------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_sessions_over_http(api, clock):
    w = await create_and_join(api.service, 1, 1)
    c = w.copayers[0]
    r = await api.client.get("/v1/notifications/", identity=w.copayer_ids[0], session="bogus")
    assert r.status == 401 and "session" in r.json["message"].lower()
    r = await api.client.post("/v1/login", {}, c)
    assert r.status == 200
    token = r.json
    assert isinstance(token, str)
    r = await api.client.post("/v1/login/", {}, c)
    assert r.json == token
    r = await api.client.get("/v1/notifications/?timeSpan=60", identity=w.copayer_ids[0], session=token)
    assert r.status == 200 and [n["type"] for n in r.json] == ["NewCopayer"]
    # sessions are only honoured on notifications
    r = await api.client.get("/v2/wallets/", identity=w.copayer_ids[0], session=token)
    assert r.status == 401
    clock.advance(3601)
    r = await api.client.get("/v1/notifications/", identity=w.copayer_ids[0], session=token)
    assert r.status == 401 and "expired" in r.json["message"].lower()
    r = await api.client.post("/v1/login", {}, c)
    new = r.json
    assert new != token
    r = await api.client.post("/v1/logout", {}, c)
    assert r.status == 200 and r.text == ""
    assert (await api.service.storage.sessions.fetch(w.copayer_ids[0]))["id"] is None  # ended, kept for the replay guard
    r = await api.client.get("/v1/notifications/", identity=w.copayer_ids[0], session=new)
    assert r.status == 401


@pytest_twisted.ensureDeferred
async def test_create_and_join_over_http(api):
    key = WalletKey.random()
    c = CopayerKeys.random()
    r = await api.client.post("/v2/wallets/", {"name": "w", "m": 1, "n": 1, "pubKey": key.pub})
    assert r.status == 200
    wid = r.json["walletId"]
    body = {"walletId": wid, "name": "me", "xPubKey": c.xpub, "requestPubKey": c.request_pub,
            "copayerSignature": key.copayer_signature("me", c.xpub, c.request_pub)}
    r = await api.client.post(f"/v2/wallets/{wid}/copayers", body)
    assert r.status == 200 and r.json["copayerId"] == c.copayer_id()
    assert r.json["wallet"]["status"] == "complete"
    r = await api.client.get("/v1/wallets/", c)
    assert r.status == 200 and r.json["wallet"]["pubKey"] == key.pub
