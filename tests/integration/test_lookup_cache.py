"""Per-process caches of immutable facts (bws/services/lookups.py): the copayer
lookup and the wallet network, against a real SecantusDB."""

from __future__ import annotations


import pytest_twisted

from bws.crypto import sign_message
from bws.services.lookups import CopayerLookups
from tests.helpers import db
from tests.helpers.fixtures import api, clock, explorer, make_service, service  # noqa: F401
from tests.helpers.keys import CopayerKeys
from tests.helpers.wallets import create_and_join


@pytest_twisted.ensureDeferred
async def test_lookup_is_cached_for_its_ttl(service):
    w = await create_and_join(service, 1, 1)
    cid = w.copayer_ids[0]
    now = [1000.0]
    lookups = CopayerLookups(service.storage, ttl=60, timer=lambda: now[0])
    first = await lookups.get(cid)
    assert first["walletId"] == w.id
    # gone from the database: the cached entry still answers until the TTL ends
    db.delete_many(service.storage, "copayers_lookup", {"copayerId": cid})
    assert (await lookups.get(cid))["walletId"] == w.id
    assert await lookups.get(cid, fresh=True) is None
    now[0] += 61
    assert await lookups.get(cid) is None
    # unknown copayers are never cached: one created later is seen at once
    assert await lookups.get("nobody") is None


@pytest_twisted.ensureDeferred
async def test_key_added_by_another_process_is_accepted(api):
    """addAccess in another API process does not reach this process's cache;
    a signature by the new key must still verify (re-read before refusing)."""
    w = await create_and_join(api.service, 1, 1)
    c = w.copayers[0]
    cid = w.copayer_ids[0]
    r = await api.client.get("/v1/preferences/", c)
    assert r.status == 200  # the lookup is now cached here
    elsewhere = make_service(api.service.storage)  # another process: its own lookup cache
    new = CopayerKeys.random()
    await elsewhere.add_access({"copayerId": cid, "requestPubKey": new.request_pub,
                                "signature": sign_message(new.request_pub, c.auth_priv())})
    sig = new.sign("get|/v1/preferences/|{}")
    r = await api.client.get("/v1/preferences/", c, signature=sig)
    assert r.status == 200, r.text
    # a wrong signature is still refused (after the re-read)
    r = await api.client.get("/v1/preferences/", c, signature=CopayerKeys.random().sign("get|/v1/preferences/|{}"))
    assert r.status == 401 and r.json["message"] == "Invalid signature"


@pytest_twisted.ensureDeferred
async def test_notifications_use_the_remembered_network(api):
    w = await create_and_join(api.service, 1, 1)
    c = w.copayers[0]
    r = await api.client.get("/v1/notifications/?timeSpan=60", c)
    assert r.status == 200 and [n["type"] for n in r.json] == ["NewCopayer"]
    assert api.service.wallet_facts.get(w.id).network == "livenet"


@pytest_twisted.ensureDeferred
async def test_names_are_only_trusted_from_a_complete_wallet(service):
    """A wallet first seen incomplete (one copayer) must be read again once a
    proposal by a later copayer needs decorating: its creatorName is known."""
    from bws.model import TxProposal
    from tests.helpers.wallets import join_opts

    w = await create_and_join(service, 2, 2, join=1)
    first = w.as_copayer(service, 0)
    await first.get_notifications({})  # facts of the incomplete wallet are now cached
    assert service.wallet_facts.get(w.id, complete=True) is None
    second = CopayerKeys.random()
    joined = await service.join_wallet(join_opts(w.id, w.key, second, name="late copayer"))
    t = TxProposal.create(w.id, "btc", "livenet", 2, 2, outputs=[{"toAddress": "1L3z9LPd861FWQhf3vDn89Fnc9dkdBo2CG",
                          "amount": 1000}], creatorId=joined["copayerId"], inputs=[], fee=100, now=service.now_s())
    t.status = "pending"
    await service.storage.proposals.store(t.to_dict(for_storage=True))
    pending = await first.get_pending_txs({})
    assert [p["creatorName"] for p in pending] == ["late copayer"]
    assert service.wallet_facts.get(w.id, complete=True).copayer_names[joined["copayerId"]] == "late copayer"
