"""Issue 15, findings 2, 3 and 9 (docs/security.md §8): wallet ids and the
notification poll, support staff and copayer membership on writes, replayed
signed requests.  Real HTTP to the API on a loopback port, real SecantusDB.
"""

from __future__ import annotations

import uuid

import pytest
import pytest_twisted

from bws.errors import ClientError
from bws.model import TxProposal, Wallet
from tests.helpers import db
from tests.helpers.client import compact_json
from tests.helpers.fixtures import api, clock, explorer, service  # noqa: F401
from tests.helpers.keys import CopayerKeys, WalletKey
from tests.helpers.wallets import create_and_join, join_opts


async def set_staff(service, copayer_id):
    st = service.storage
    db.update_one(st, "copayers_lookup", {"copayerId": copayer_id}, {"$set": {"isSupportStaff": True}})


async def store_pending_txp(service, w, creator: int = 0) -> TxProposal:
    """A pending proposal of wallet ``w`` (m-of-n as created), stored as publishTx leaves it."""
    wallet = Wallet.from_dict(await service.storage.wallets.fetch(w.id))
    t = TxProposal.create(w.id, "btc", "livenet", wallet.m, wallet.n,
                          outputs=[{"toAddress": "1L3z9LPd861FWQhf3vDn89Fnc9dkdBo2CG", "amount": 1000}],
                          creatorId=w.copayer_ids[creator], inputs=[], fee=100, now=service.now_s())
    t.status = "pending"
    await service.storage.proposals.store(t.to_dict(for_storage=True))
    return t


def wallet_body(**extra) -> dict:
    return {"name": "w", "m": 1, "n": 1, "pubKey": WalletKey.random().pub, "network": "livenet", **extra}


# ---------------------------------------------------------------- finding 2


@pytest_twisted.ensureDeferred
async def test_client_chosen_wallet_ids_must_be_uuids(api):
    good = str(uuid.uuid4())
    bad = ["testnet", "livenet", "   ", "x" * 5000, "my-id-1", good.replace("-", ""), "{" + good + "}",
           "urn:uuid:" + good, good + " ", good[:-1] + "g"]
    for wid in bad:
        r = await api.client.post("/v2/wallets/", wallet_body(id=wid))
        assert r.status == 400 and r.json == {"code": "BADREQUEST", "message": "Invalid wallet id"}, (wid[:40], r.text)
        assert await api.service.storage.wallets.fetch(wid) is None
    # what bitcore-wallet-client sends: a uuid v4 (any case), or no id at all (the server picks one)
    for wid in (good, str(uuid.uuid4()).upper()):
        r = await api.client.post("/v2/wallets/", wallet_body(id=wid))
        assert r.status == 200 and r.json == {"walletId": wid}, r.text
    r = await api.client.post("/v1/wallets/", wallet_body())
    assert r.status == 200 and str(uuid.UUID(r.json["walletId"])) == r.json["walletId"]
    r = await api.client.post("/v2/wallets/", wallet_body(id=good))
    assert r.status == 400 and r.json["code"] == "WALLET_ALREADY_EXISTS"


@pytest_twisted.ensureDeferred
async def test_a_wallet_named_after_the_network_cannot_inject_notifications(api):
    svc = api.service
    victim = await create_and_join(svc, 1, 1, network="livenet")
    # a wallet stored with the id "livenet" (as createWallet allowed before ids were
    # checked); joining it stores NewCopayer, with the attacker's name, under "livenet"
    key = WalletKey.random()
    await svc.storage.wallets.store(Wallet.create("x", 1, 1, key.pub, network="livenet", id="livenet",
                                                 derivationStrategy="BIP44", addressType="P2PKH",
                                                 now=svc.now_s()).to_dict(for_storage=True))
    attacker = CopayerKeys.random("livenet")
    r = await api.client.post("/v2/wallets/livenet/copayers/",
                              join_opts("livenet", key, attacker, name="Send 1 BTC to 1Evil to unlock"))
    assert r.status == 200, r.text
    # the block monitor's NewBlock is stored under the network name too
    await svc.notifier.notify(
        svc.notifier.new("NewBlock", {"hash": "00" * 32, "coin": "btc", "network": "livenet"}, "livenet",
                         now_ms=svc.now_ms()))

    r = await api.client.get("/v1/notifications/?timeSpan=60", victim.copayers[0])
    assert r.status == 200, r.text
    assert sorted(n["type"] for n in r.json) == ["NewBlock", "NewCopayer"]
    assert all(n["walletId"] == victim.id for n in r.json)
    own = next(n for n in r.json if n["type"] == "NewCopayer")
    assert own["data"]["copayerId"] == victim.copayer_ids[0]
    assert "Evil" not in r.text
    # the odd wallet itself still sees its own notifications
    r = await api.client.get("/v1/notifications/?timeSpan=60", attacker)
    assert r.status == 200 and sorted(n["type"] for n in r.json) == ["NewBlock", "NewCopayer"]


# ---------------------------------------------------------------- finding 3


@pytest_twisted.ensureDeferred
async def test_support_staff_only_read_other_wallets(api):
    svc = api.service
    staff_wallet = await create_and_join(svc, 1, 1)
    target = await create_and_join(svc, 2, 2)
    await set_staff(svc, staff_wallet.copayer_ids[0])
    s, staff_id = staff_wallet.copayers[0], staff_wallet.copayer_ids[0]
    other = {"x-wallet-id": target.id}
    t = await store_pending_txp(svc, target)

    # reads of the other wallet: allowed
    r = await api.client.get("/v2/wallets/", s, headers=other)
    assert r.status == 200 and r.json["wallet"]["id"] == target.id
    r = await api.client.get(f"/v1/txproposals/{t.id}/", s, headers=other)
    assert r.status == 200 and r.json["status"] == "pending"

    # writes: refused before anything is stored
    refused = {"code": "NOT_AUTHORIZED", "message": "Support staff may only read other wallets"}
    for method, path, body in [
        ("POST", f"/v1/txproposals/{t.id}/rejections/", {"reason": "staff"}),
        ("DELETE", f"/v1/txproposals/{t.id}/", None),
        ("POST", "/v2/txproposals/", {"outputs": [{"toAddress": "1L3z9LPd861FWQhf3vDn89Fnc9dkdBo2CG",
                                                    "amount": 1000}], "feePerKb": 10000}),
        ("PUT", "/v1/preferences/", {"email": "staff@example.com"}),
        ("POST", "/v1/webhooks/", {"url": "https://example.com/hook"}),
        ("PUT", "/v1/txnotes/" + "ab" * 32 + "/", {"body": "staff note"}),
        ("POST", "/v3/addresses/", {}),
        ("POST", "/v1/login/", {}),
    ]:
        r = await api.client.request(method, path, body, s, headers=other)
        assert r.status == 401 and r.json == refused, (method, path, r.text)
    stored = TxProposal.from_dict(await svc.storage.proposals.fetch(target.id, t.id))
    assert stored.status == "pending" and stored.actions == []
    assert [p["id"] for p in await svc.storage.proposals.fetch_pending(target.id)] == [t.id]
    assert await svc.storage.preferences.fetch(target.id) == []
    assert await svc.storage.webhooks.fetch_for_wallet(target.id, staff_id) == []
    assert await svc.storage.notes.fetch_since(target.id) == []
    assert await svc.storage.addresses.fetch(target.id) == []

    # the staff member's own wallet is theirs to change, with or without x-wallet-id
    for hdrs in ({}, {"x-wallet-id": staff_wallet.id}):
        r = await api.client.put("/v1/preferences/", {"language": "de"}, s, headers=hdrs)
        assert r.status == 200, r.text
    assert (await svc.storage.preferences.fetch(staff_wallet.id, staff_id))["language"] == "de"


@pytest_twisted.ensureDeferred
async def test_reject_and_remove_require_a_copayer_of_the_wallet(service):
    target = await create_and_join(service, 2, 2)
    outsider = await create_and_join(service, 1, 1)
    t = await store_pending_txp(service, target)
    for caller in (service.bind(target.id, outsider.copayer_ids[0]),
                   service.bind(target.id, outsider.copayer_ids[0], is_support_staff=True)):
        for call in (caller.reject_tx({"txProposalId": t.id, "reason": "no"}),
                     caller.remove_pending_tx({"txProposalId": t.id})):
            with pytest.raises(ClientError) as ei:
                await call
            assert (ei.value.code, ei.value.message) == ("NOT_AUTHORIZED", "Copayer not in wallet")
    stored = TxProposal.from_dict(await service.storage.proposals.fetch(target.id, t.id))
    assert stored.status == "pending" and stored.actions == []
    # a copayer of the wallet still can
    r = await target.as_copayer(service, 1).reject_tx({"txProposalId": t.id})
    assert r["status"] == "rejected" and r["actions"][0]["copayerId"] == target.copayer_ids[1]


# ---------------------------------------------------------------- finding 9


async def signed(api, method: str, path: str, body: dict, copayer: CopayerKeys, signature: str):
    """Send exactly the captured request: same path, body text and x-signature."""
    return await api.client.request(method, path, body, copayer, signature=signature)


def capture(method: str, path: str, body: dict, copayer: CopayerKeys) -> str:
    """The x-signature bitcore-wallet-client sends for this request (an eavesdropper's copy)."""
    return copayer.sign(f"{method.lower()}|{path}|{compact_json(body)}")


@pytest_twisted.ensureDeferred
async def test_replayed_note_edit_does_not_undo_a_newer_edit(api):
    w = await create_and_join(api.service, 2, 2)
    alice, bob = w.copayers
    path = "/v1/txnotes/" + "cd" * 32 + "/"
    sig = capture("PUT", path, {"body": "alice's note"}, alice)
    r = await signed(api, "PUT", path, {"body": "alice's note"}, alice, sig)
    assert r.status == 200 and r.json["body"] == "alice's note"
    assert "appliedRequests" not in r.json  # storage-only
    # a re-send before anything changed answers the same note
    r = await signed(api, "PUT", path, {"body": "alice's note"}, alice, sig)
    assert r.status == 200 and r.json["body"] == "alice's note" and r.json["editedBy"] == w.copayer_ids[0]
    r = await api.client.put(path, {"body": "bob's newer note"}, bob)
    assert r.status == 200
    # the replay (bit-identical, or re-spaced JSON that still verifies) is refused
    r = await signed(api, "PUT", path, {"body": "alice's note"}, alice, sig)
    assert r.status == 401 and r.json["code"] == "NOT_AUTHORIZED" and "already applied" in r.json["message"]
    r = await api.client.request("PUT", path, None, alice, raw=b'{ "body" : "alice\'s note" }', signature=sig)
    assert r.status == 401 and r.json["code"] == "NOT_AUTHORIZED"
    r = await api.client.get(path, alice)
    assert r.json["body"] == "bob's newer note" and r.json["editedBy"] == w.copayer_ids[1]
    assert "appliedRequests" not in r.json
    # alice can still edit with a new request
    r = await api.client.put(path, {"body": "alice again"}, alice)
    assert r.status == 200 and r.json["body"] == "alice again"


@pytest_twisted.ensureDeferred
async def test_replayed_preferences_do_not_undo_a_newer_email(api):
    w = await create_and_join(api.service, 1, 1)
    c = w.copayers[0]
    old = {"email": "old@example.com"}
    sig = capture("PUT", "/v1/preferences/", old, c)
    r = await signed(api, "PUT", "/v1/preferences/", old, c, sig)
    assert r.status == 200
    r = await api.client.put("/v1/preferences/", {"email": "new@example.com"}, c)
    assert r.status == 200
    r = await signed(api, "PUT", "/v1/preferences/", old, c, sig)
    assert r.status == 401 and "already applied" in r.json["message"]
    r = await api.client.get("/v1/preferences/", c)
    assert r.json["email"] == "new@example.com" and "appliedRequests" not in r.json


@pytest_twisted.ensureDeferred
async def test_replayed_logout_does_not_end_a_newer_session(api, clock):
    w = await create_and_join(api.service, 1, 1)
    c, cid = w.copayers[0], w.copayer_ids[0]
    r = await api.client.post("/v1/login/", {}, c)
    first = r.json
    sig = capture("POST", "/v1/logout/", {}, c)
    r = await signed(api, "POST", "/v1/logout/", {}, c, sig)
    assert r.status == 200 and not await api.service.check_session(cid, first)
    r = await signed(api, "POST", "/v1/logout/", {}, c, sig)  # re-sent: nothing more to do
    assert r.status == 200
    clock.advance(5)
    r = await api.client.post("/v1/login/", {}, c)
    newer = r.json
    assert newer != first
    r = await signed(api, "POST", "/v1/logout/", {}, c, sig)
    assert r.status == 401 and "already applied" in r.json["message"]
    assert await api.service.check_session(cid, newer)
    r = await api.client.get("/v1/notifications/", identity=cid, session=newer)
    assert r.status == 200
