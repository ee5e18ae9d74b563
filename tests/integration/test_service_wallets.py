"""Services: create, join, addAccess, status (spec §4.2–4.5; §12 cases 7–17, 18, 25)."""

from __future__ import annotations

import pytest
import pytest_twisted

from bws.crypto import sign_message
from bws.errors import ClientError
from tests.helpers.fixtures import clock, explorer, service  # noqa: F401
from tests.helpers.keys import CopayerKeys, WalletKey, random_pubkey
from tests.helpers.wallets import create_and_join, join_opts


def wallet_opts(**kw):
    return {"name": "my wallet", "m": 2, "n": 3, "pubKey": WalletKey.random().pub, **kw}


async def raises(coro, code=None, message=None) -> ClientError:
    with pytest.raises(ClientError) as ei:
        await coro
    if code:
        assert ei.value.code == code, ei.value
    if message:
        assert message in str(ei.value.message), ei.value
    return ei.value


# -- case 7 ---------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_create_wallet_stores_name_and_honours_id(service):
    wid = "0f6a4c52-3b1e-4a8e-9c1d-2b7e5f4a9d10"
    res = await service.create_wallet(wallet_opts(id=wid))
    assert res == {"walletId": wid}
    w = await service.storage.wallets.fetch(wid)
    assert w["name"] == "my wallet" and w["status"] == "pending" and w["copayers"] == []
    await raises(service.create_wallet(wallet_opts(id=wid)), "WALLET_ALREADY_EXISTS", "Wallet already exists")
    await raises(service.create_wallet(wallet_opts(name="")), "BADREQUEST", "name")
    await raises(service.create_wallet(wallet_opts(pubKey="dummy")), "BADREQUEST", "Invalid public key")
    await raises(service.create_wallet({"m": 1, "n": 1, "pubKey": random_pubkey()}), "BADREQUEST",
                 "Required argument name missing.")
    await raises(service.create_wallet(wallet_opts(coin="xxx")), "BADREQUEST", "Invalid coin")
    await raises(service.create_wallet(wallet_opts(network="regtest")), "BADREQUEST", "Invalid network")


# -- case 8 (+ Q18) -----------------------------------------------------------------

VALID_MN = [(1, 1), (2, 3), (10, 10), (15, 15), (1, 15)]
INVALID_MN = [(0, 0), (0, 2), (2, 1), (0, 10), (1, 20), (16, 16), (-2, -2), ("a", 2), (1.5, 2), (None, 1), (True, 1)]


@pytest.mark.parametrize("m,n", VALID_MN)
@pytest_twisted.ensureDeferred
async def test_valid_m_n(service, m, n):
    assert (await service.create_wallet(wallet_opts(m=m, n=n)))["walletId"]


@pytest.mark.parametrize("m,n", INVALID_MN)
@pytest_twisted.ensureDeferred
async def test_invalid_m_n(service, m, n):
    await raises(service.create_wallet(wallet_opts(m=m, n=n)), "BADREQUEST",
                 "Invalid combination of required copayers / total copayers")


# -- case 9 -----------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_derivation_choice(service):
    async def stored(**kw):
        wid = (await service.create_wallet(wallet_opts(**kw)))["walletId"]
        w = await service.storage.wallets.fetch(wid)
        return w["derivationStrategy"], w["addressType"], w["coin"]

    assert await stored(m=1, n=1) == ("BIP44", "P2PKH", "btc")
    assert await stored(m=1, n=1, supportBIP44AndP2PKH=False) == ("BIP45", "P2SH", "btc")
    assert await stored(m=2, n=3) == ("BIP44", "P2SH", "btc")
    assert (await stored(m=1, n=1, coin="bch"))[2] == "bch"


# -- cases 10, 15 ----------------------------------------------------------------------


async def notifications(service, wallet_id):
    return await service.storage.notifications.fetch([wallet_id], None, 0)


@pytest_twisted.ensureDeferred
async def test_join_stores_copayer_and_notifies(service):
    w = await create_and_join(service, 2, 3, join=1)
    res = w.result
    cid = w.copayers[0].copayer_id()
    assert res["copayerId"] == cid
    c = res["wallet"]["copayers"][0]
    assert (c["name"], c["id"], c["customData"]) == ("copayer 1", cid, "custom data copayer 1")
    assert c["requestPubKeys"] == [{"key": w.copayers[0].request_pub, "signature": c["signature"]}]
    ns = await notifications(service, w.id)
    assert [n["type"] for n in ns] == ["NewCopayer"]
    assert ns[0]["data"] == {"walletId": w.id, "copayerId": cid, "copayerName": "copayer 1"}
    assert ns[0]["creatorId"] == cid
    lookup = await service.storage.wallets.fetch_copayer_lookup(cid)
    assert lookup["walletId"] == w.id


@pytest_twisted.ensureDeferred
async def test_last_joiner_completes_wallet(service):
    w = await create_and_join(service, 2, 3)
    wallet = w.result["wallet"]
    assert wallet["status"] == "complete" and len(wallet["publicKeyRing"]) == 3
    assert wallet["publicKeyRing"][0] == {"xPubKey": w.copayers[0].xpub, "requestPubKey": w.copayers[0].request_pub}
    ns = await notifications(service, w.id)
    assert [n["type"] for n in ns] == ["NewCopayer"] * 3 + ["WalletComplete"]
    assert ns[-1]["data"] == {"walletId": w.id} and ns[-1]["creatorId"] is None
    one = await create_and_join(service, 1, 1)
    assert [n["type"] for n in await notifications(service, one.id)] == ["NewCopayer"]


# -- cases 11, 12, 13 ------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_join_validation(service):
    key = WalletKey.random()
    wid = (await service.create_wallet(wallet_opts(pubKey=key.pub)))["walletId"]
    c = CopayerKeys.random()
    bad = join_opts(wid, key, c)
    bad["xPubKey"] = "invalid"
    await raises(service.join_wallet(bad), "BADREQUEST", "Invalid extended public key")
    tc = CopayerKeys.random("testnet")
    await raises(service.join_wallet(join_opts(wid, key, tc)), "BADREQUEST", "different network")
    await raises(service.join_wallet(join_opts(wid, key, c, coin="bch")), "BADREQUEST", "different coin")
    await raises(service.join_wallet(join_opts(wid, key, c, name="")), "BADREQUEST", "name")
    await raises(service.join_wallet(join_opts("nope", key, c)), "WALLET_NOT_FOUND")
    await raises(service.join_wallet(join_opts(wid, key, c, xPubKey=123)), "BADREQUEST", "Invalid extended public key")


@pytest_twisted.ensureDeferred
async def test_join_state_errors(service):
    w = await create_and_join(service, 1, 2)
    extra = CopayerKeys.random()
    await raises(service.join_wallet(join_opts(w.id, w.key, extra)), "WALLET_FULL", "Wallet full")
    await raises(service.join_wallet(join_opts(w.id, w.key, w.copayers[0])), "COPAYER_IN_WALLET")
    other = await create_and_join(service, 1, 2, join=0)
    await raises(service.join_wallet(join_opts(other.id, other.key, w.copayers[0])), "COPAYER_REGISTERED")


@pytest_twisted.ensureDeferred
async def test_join_signature_errors(service):
    key = WalletKey.random()
    wid = (await service.create_wallet(wallet_opts(pubKey=key.pub)))["walletId"]
    c = CopayerKeys.random()
    await raises(service.join_wallet(join_opts(wid, key, c, copayerSignature="dead")), "BADREQUEST", "Bad request")
    wrong = sign_message("other|text", key.priv)
    await raises(service.join_wallet(join_opts(wid, key, c, copayerSignature=wrong)), "BADREQUEST", "Bad request")
    opts = join_opts(wid, key, c)
    del opts["copayerSignature"]
    await raises(service.join_wallet(opts), "BADREQUEST", "Required argument copayerSignature missing.")


# -- case 14 ---------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_dry_run_join_changes_nothing(service):
    key = WalletKey.random()
    wid = (await service.create_wallet(wallet_opts(pubKey=key.pub)))["walletId"]
    c = CopayerKeys.random()
    res = await service.join_wallet(join_opts(wid, key, c, dryRun=True))
    assert res["copayerId"] is None
    assert (res["wallet"]["m"], res["wallet"]["n"], res["wallet"]["copayers"]) == (2, 3, [])
    assert (await service.storage.wallets.fetch(wid))["copayers"] == []
    assert await service.storage.wallets.fetch_copayer_lookup(c.copayer_id()) is None
    assert await notifications(service, wid) == []


# -- case 16 ---------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_join_client_version_mismatch(service):
    key = WalletKey.random()
    legacy = (await service.create_wallet(wallet_opts(pubKey=key.pub, supportBIP44AndP2PKH=False)))["walletId"]
    await raises(service.join_wallet(join_opts(legacy, key, CopayerKeys.random())), "BADREQUEST", "older version")
    new = (await service.create_wallet(wallet_opts(pubKey=key.pub)))["walletId"]
    await raises(service.join_wallet(join_opts(new, key, CopayerKeys.random(), supportBIP44AndP2PKH=False)),
                 "UPGRADE_NEEDED", "To join this wallet you need to upgrade your client app.")


# -- cases 17, 18 (first half) -------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_status_hides_fields(service):
    w = await create_and_join(service, 1, 2)
    status = await w.as_copayer(service, 0).get_status({})
    assert status["balance"]["totalAmount"] == 0 and status["balance"]["byAddress"] == []
    assert status["pendingTxps"] == [] and status["preferences"] == {}
    wallet = status["wallet"]
    for k in ("publicKeyRing", "pubKey", "addressManager"):
        assert k not in wallet
    for c in wallet["copayers"]:
        for k in ("xPubKey", "requestPubKey", "signature", "addressManager", "customData"):
            assert k not in c
        assert c["requestPubKeys"]


@pytest_twisted.ensureDeferred
async def test_status_extended_info_shows_only_own_custom_data(service):
    w = await create_and_join(service, 1, 2)
    status = await w.as_copayer(service, 1).get_status({"includeExtendedInfo": True})
    wallet = status["wallet"]
    assert wallet["pubKey"] == w.key.pub and len(wallet["publicKeyRing"]) == 2 and wallet["addressManager"]
    mine, other = wallet["copayers"][1], wallet["copayers"][0]
    assert mine["customData"] == "custom data copayer 2" and "customData" not in other
    assert other["xPubKey"] == w.copayers[0].xpub and other["signature"]


@pytest_twisted.ensureDeferred
async def test_status_of_missing_wallet(service):
    await raises(service.bind("nope", "x").get_status({}), "WALLET_NOT_FOUND")


# -- case 25 ---------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_add_access(service):
    w = await create_and_join(service, 1, 1)
    c = w.copayers[0]
    new_req = CopayerKeys.random()
    sig = sign_message(new_req.request_pub, c.auth_priv())
    res = await service.add_access({"copayerId": w.copayer_ids[0], "requestPubKey": new_req.request_pub,
                                    "signature": sig, "name": "device 2"})
    assert res["copayerId"] == w.copayer_ids[0]
    keys = res["wallet"]["copayers"][0]["requestPubKeys"]
    assert keys[0] == {"key": new_req.request_pub, "signature": sig, "selfSigned": True, "restrictions": {},
                       "name": "device 2"}
    assert len(keys) == 2
    lookup = await service.storage.wallets.fetch_copayer_lookup(w.copayer_ids[0])
    assert lookup["requestPubKeys"][0]["key"] == new_req.request_pub
    # a wrong proof (signed by the request key instead of m/2)
    await raises(service.add_access({"copayerId": w.copayer_ids[0], "requestPubKey": new_req.request_pub,
                                     "signature": c.sign(new_req.request_pub)}), "NOT_AUTHORIZED")
    await raises(service.add_access({"copayerId": "unknown", "requestPubKey": new_req.request_pub,
                                     "signature": sig}), "NOT_AUTHORIZED")
    await raises(service.add_access({"copayerId": w.copayer_ids[0], "requestPubKey": new_req.request_pub}),
                 "BADREQUEST", "Required argument signature missing.")
