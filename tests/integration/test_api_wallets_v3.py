"""Issue 17, wallets part: ``GET /v3/wallets/``, bulk ``GET /v1/wallets/all/``,
``POST /v1/wallets/exist``, the ``chain`` field, the refused wallet options
and the EVM preference keys, over HTTP with our own signed client
(docs/spec/protocol-bwc11.md §3.1, §3.5, §4)."""

from __future__ import annotations

import pytest_twisted

from tests.helpers import db
from tests.helpers.fixtures import api, clock, explorer, service  # noqa: F401
from tests.helpers.keys import CopayerKeys, WalletKey, sign_message
from tests.helpers.wallets import create_and_join, join_opts


def _sharing(root: CopayerKeys, n: int) -> list[CopayerKeys]:
    """``n`` copayers with their own xpubs and ``root``'s request key (as the
    wallets made from one bitcore-wallet-client Key)."""
    out = []
    for _ in range(n):
        c = CopayerKeys.random()
        c.request_priv_override = root.request_priv
        out.append(c)
    return out


async def _bulk(api, signer: CopayerKeys, ids: list[str], query: str = "", **kw):
    path = "/v1/wallets/all/?includeExtendedInfo=1&twoStep=0&serverMessageArray=1" + query + "&r=42"
    return await api.client.get(path, signer, headers={"x-identities": ",".join(ids)}, **kw)


@pytest_twisted.ensureDeferred
async def test_v3_status_is_v2_status_with_server_messages_and_chain(api):
    w = await create_and_join(api.service, 2, 2)
    c = w.copayers[0]
    r = await api.client.get("/v3/wallets/?includeExtendedInfo=1&serverMessageArray=1&r=1", c)
    assert r.status == 200, r.text
    status = r.json
    assert status["serverMessages"] == []
    assert (status["wallet"]["chain"], status["wallet"]["coin"]) == ("btc", "btc")
    assert {cp["xPubKey"] for cp in status["wallet"]["copayers"]} == {k.xpub for k in w.copayers}
    # only my own customData is shown
    shown = {cp["id"]: "customData" in cp for cp in status["wallet"]["copayers"]}
    assert shown == {w.copayer_ids[0]: True, w.copayer_ids[1]: False}
    v2 = (await api.client.get("/v2/wallets/?includeExtendedInfo=1&r=1", c)).json
    assert {k: v for k, v in status.items() if k != "serverMessages"}.keys() == v2.keys()
    assert status["balance"] == v2["balance"] and status["pendingTxps"] == v2["pendingTxps"]
    # without extended info: no keys, no serverMessages unless asked
    r = await api.client.get("/v3/wallets/?r=2", c)
    assert r.status == 200 and "serverMessages" not in r.json
    assert "publicKeyRing" not in r.json["wallet"] and "xPubKey" not in r.json["wallet"]["copayers"][0]


@pytest_twisted.ensureDeferred
async def test_v3_status_options(api):
    w = await create_and_join(api.service, 1, 1)
    c = w.copayers[0]
    # a token address means nothing to a BTC wallet: upstream's BtcChain ignores it, so do we
    r = await api.client.get("/v3/wallets/?tokenAddress=0xabc&multisigContractAddress=0xdef&network=livenet&r=1", c)
    assert r.status == 200 and r.json["wallet"]["id"] == w.id
    r = await api.client.get("/v3/wallets/?numberFormat=number&r=1", c)
    assert r.status == 200
    r = await api.client.get("/v3/wallets/?numberFormat=hex&r=1", c)
    assert r.status == 400 and r.json["code"] == "BADREQUEST" and "numberFormat hex" in r.json["message"]
    r = await api.client.get("/v3/wallets/?numberFormat=roman&r=1", c)
    assert r.status == 400 and r.json["code"] == "INVALID_NUMBER_FORMAT"
    # unauthenticated
    r = await api.client.get("/v3/wallets/?r=1")
    assert r.status == 401 and r.json["code"] == "NOT_AUTHORIZED"


@pytest_twisted.ensureDeferred
async def test_v3_status_token_on_evm_wallet_refused(api):
    w = await create_and_join(api.service, 1, 1, coin="eth")
    r = await api.client.get("/v3/wallets/?tokenAddress=0xabc&r=1", w.copayers[0], identity=w.copayer_ids[0])
    assert r.status == 400, r.text
    assert r.json["message"].startswith("tokenAddress is not supported")


@pytest_twisted.ensureDeferred
async def test_bulk_status_one_signature_for_several_wallets(api):
    root = CopayerKeys.random()
    a, b, p = _sharing(root, 3)
    wa = await create_and_join(api.service, 1, 1, copayers=[a])
    wb = await create_and_join(api.service, 1, 1, copayers=[b])
    wp = await create_and_join(api.service, 2, 2, copayers=[p, CopayerKeys.random()], join=1)  # pending
    ids = [wa.copayer_ids[0], wb.copayer_ids[0], wp.copayer_ids[0]]
    r = await _bulk(api, a, ids, f"&silentFailure=0&{ids[1]}:tokenAddress=0xabc")
    assert r.status == 200, r.text
    items = r.json
    assert [(i["walletId"], i["tokenAddress"], i["success"]) for i in items] == [
        (wa.id, None, True),
        (wb.id, None, True),
        (wb.id, "0xabc", True),  # a BTC wallet ignores the token: its status again
        (wp.id, None, True),
    ]
    assert items[0]["status"]["wallet"]["copayers"][0]["xPubKey"] == a.xpub  # includeExtendedInfo=1
    assert items[0]["status"]["serverMessages"] == []
    # a pending wallet's item carries `wallet` so that bwc's getStatusAll can write the secret
    assert items[3]["wallet"] == {"id": wp.id, "status": "pending"}
    assert "wallet" not in items[0]


@pytest_twisted.ensureDeferred
async def test_bulk_status_failures(api):
    root = CopayerKeys.random()
    a, b = _sharing(root, 2)
    wa = await create_and_join(api.service, 1, 1, copayers=[a])
    wb = await create_and_join(api.service, 1, 1, copayers=[b])
    stranger = await create_and_join(api.service, 1, 1)  # other request key
    unknown = "f" * 64
    ids = [wa.copayer_ids[0], unknown, stranger.copayer_ids[0], wb.copayer_ids[0]]
    r = await _bulk(api, a, ids, "&silentFailure=1")
    assert r.status == 200, r.text
    assert r.json[0]["walletId"] == wa.id and r.json[0]["success"] is True
    assert r.json[1] == {"success": False, "error": "Copayer not found"}
    assert r.json[2] == {"success": False, "error": "Invalid signature"}
    assert r.json[3]["walletId"] == wb.id and r.json[3]["success"] is True
    # without silentFailure one bad identity fails the request, with its error
    r = await _bulk(api, a, ids, "&silentFailure=0")
    assert r.status == 401 and r.json == {"code": "NOT_AUTHORIZED", "message": "Copayer not found"}
    # no x-identities / no signature / a signature over another url
    r = await api.client.get("/v1/wallets/all/?r=1", a)
    assert r.status == 401 and r.json["code"] == "NOT_AUTHORIZED"
    r = await api.client.get("/v1/wallets/all/?r=1", headers={"x-identities": wa.copayer_ids[0]})
    assert r.status == 401
    r = await _bulk(api, a, [wa.copayer_ids[0]], "&silentFailure=1", sign_path="/v1/wallets/all/?r=1")
    assert r.status == 200 and r.json == [{"success": False, "error": "Invalid signature"}]
    # a status error is that item's message (an EVM wallet asked for a token balance)
    e = CopayerKeys.random()
    e.request_priv_override = root.request_priv
    we = await create_and_join(api.service, 1, 1, coin="eth", copayers=[e])
    r = await _bulk(api, a, [we.copayer_ids[0]], f"&silentFailure=1&{we.copayer_ids[0]}:tokenAddress=0xabc")
    assert [(i["walletId"], i["tokenAddress"], i["success"]) for i in r.json] == [(we.id, None, True), (we.id, "0xabc", False)]
    assert r.json[1]["message"].startswith("tokenAddress is not supported") and "status" not in r.json[1]


@pytest_twisted.ensureDeferred
async def test_bulk_route_is_not_the_staff_route(api):
    w = await create_and_join(api.service, 1, 1)
    staff = await create_and_join(api.service, 1, 1)
    db.update_one(api.service.storage, "copayers_lookup", {"copayerId": staff.copayer_ids[0]},
                  {"$set": {"isSupportStaff": True}})
    s = staff.copayers[0]
    # support staff asking /v1/wallets/all/ as x-identity only: the bulk route answers, and refuses
    r = await api.client.get("/v1/wallets/all/?r=1", s)
    assert r.status == 401 and r.json["code"] == "NOT_AUTHORIZED"
    # staff identities are not served by the bulk route either
    r = await _bulk(api, s, [staff.copayer_ids[0]], "&silentFailure=1")
    assert r.status == 200 and r.json == [{"success": False, "error": "Not authorized"}]
    # the staff route still answers for every other identifier, walletCheck accepted
    r = await api.client.get(f"/v1/wallets/{w.id}/?walletCheck=1&r=1", s)
    assert r.status == 200 and r.json["wallet"]["id"] == w.id


@pytest_twisted.ensureDeferred
async def test_wallets_exist(api):
    w = await create_and_join(api.service, 1, 1)
    c, cid = w.copayers[0], w.copayer_ids[0]
    other = CopayerKeys.random()
    body = {"copayers": [
        {"copayerId": cid, "signature": sign_message(cid, c.request_priv)},
        {"copayerId": "a" * 64, "signature": sign_message("a" * 64, c.request_priv)},  # unknown
        {"copayerId": cid, "signature": sign_message(cid, other.request_priv)},  # wrong key
        {"copayerId": 7},
    ]}
    r = await api.client.post("/v1/wallets/exist", body)
    assert r.status == 200 and r.json == [cid]
    r = await api.client.post("/v1/wallets/exist", {"copayers": [body["copayers"][2]]})
    assert r.status == 200 and r.json == []
    r = await api.client.post("/v1/wallets/exist", {"copayers": "nope"})
    assert r.status == 200 and r.json == []
    r = await api.client.post("/v1/wallets/exist", {"copayers": [{"copayerId": "x", "signature": "y"}] * 201})
    assert r.status == 400 and "Too many copayers" in r.json["message"]


def _create_body(**extra):
    return {"name": "w", "m": 1, "n": 1, "pubKey": WalletKey.random().pub, "network": "livenet", **extra}


@pytest_twisted.ensureDeferred
async def test_create_refuses_unsupported_options(api):
    cases = {
        "useNativeSegwit": ({"useNativeSegwit": True}, "useNativeSegwit is not supported yet"),
        "segwitVersion": ({"segwitVersion": 1}, "segwitVersion is not supported yet"),
        "segwitVersion 0": ({"segwitVersion": 0}, "segwitVersion is not supported yet"),
        "tssVersion": ({"tssVersion": 2}, "tssVersion is not supported yet"),
        "tssKeyId": ({"tssKeyId": "k"}, "tssKeyId is not supported yet"),
        "hardware": ({"hardwareSourcePublicKey": "02ab"}, "hardwareSourcePublicKey is not supported yet"),
        "derived": ({"clientDerivedPublicKey": "02ab"}, "clientDerivedPublicKey is not supported yet"),
        "chain": ({"coin": "btc", "chain": "bch"}, "Invalid chain"),
        "chain unknown": ({"chain": "sol"}, "Invalid coin"),
        "purpose48": ({"usePurpose48": "yes"}, "Invalid usePurpose48"),
    }
    for label, (extra, message) in cases.items():
        r = await api.client.post("/v2/wallets/", _create_body(**extra))
        assert r.status == 400, (label, r.text)
        assert r.json["code"] == "BADREQUEST" and r.json["message"].startswith(message), (label, r.json)
    # what 11.x sends for an ordinary wallet is accepted; chain alone names the coin
    ok = _create_body(chain="btc", coin="btc", useNativeSegwit=False, usePurpose48=True, m=1, n=2)
    r = await api.client.post("/v2/wallets/", ok)
    assert r.status == 200, r.text
    r = await api.client.post("/v2/wallets/", _create_body(chain="bch"))
    assert r.status == 200, r.text
    wallet = db.find_one(api.service.storage, "wallets", {"id": r.json["walletId"]})
    assert wallet["coin"] == "bch"


@pytest_twisted.ensureDeferred
async def test_join_checks_chain_and_answers_it(api):
    key = WalletKey.random()
    r = await api.client.post("/v2/wallets/", {"name": "w", "m": 2, "n": 2, "pubKey": key.pub})
    wid = r.json["walletId"]
    c = CopayerKeys.random()
    r = await api.client.post(f"/v2/wallets/{wid}/copayers/", join_opts(wid, key, c, coin="btc", chain="bch"))
    assert r.status == 400 and r.json["message"] == "Invalid chain"
    body = join_opts(wid, key, c, hardwareSourcePublicKey="02ab")
    r = await api.client.post(f"/v2/wallets/{wid}/copayers/", body)
    assert r.status == 400 and r.json["message"].startswith("hardwareSourcePublicKey is not supported yet")
    r = await api.client.post(f"/v2/wallets/{wid}/copayers/", join_opts(wid, key, c, chain="bch"))
    assert r.status == 400 and "different coin" in r.json["message"]
    r = await api.client.post(f"/v2/wallets/{wid}/copayers/", join_opts(wid, key, c, coin="btc", chain="btc"))
    assert r.status == 200, r.text
    assert (r.json["wallet"]["chain"], r.json["wallet"]["coin"]) == ("btc", "btc")


@pytest_twisted.ensureDeferred
async def test_preferences_evm_token_lists_refused_not_dropped(api):
    w = await create_and_join(api.service, 1, 1)
    c = w.copayers[0]
    r = await api.client.put("/v1/preferences/", {"email": "a@b.com", "tokenAddresses": ["0xabc"]}, c)
    assert r.status == 400 and r.json["message"] == "tokenAddresses is only valid for EVM wallets"
    r = await api.client.get("/v1/preferences/?r=1", c)
    assert r.json == {}  # nothing of the refused request was stored
    # empty lists say nothing: accepted with the rest
    r = await api.client.put("/v1/preferences/", {"email": "a@b.com", "maticTokenAddresses": []}, c)
    assert r.status == 200, r.text
    assert (await api.client.get("/v1/preferences/?r=2", c)).json["email"] == "a@b.com"
    e = await create_and_join(api.service, 1, 1, coin="eth")
    r = await api.client.put("/v1/preferences/", {"multisigEthInfo": [{"multisigContractAddress": "0x1"}]},
                             e.copayers[0], identity=e.copayer_ids[0])
    assert r.status == 400 and r.json["message"].startswith("multisigEthInfo is not supported yet")
