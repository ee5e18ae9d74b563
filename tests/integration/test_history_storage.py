"""Storage functions of the history path, against the real SecantusDB server of
the ``storage`` fixture: address keys and version, conditional cache fills,
soft resets with revs, page-scoped proposal and note look-ups."""

from __future__ import annotations

import pytest_twisted

from tests.helpers import db
from tests.integration.test_storage import wallet_doc


def address(wid, i, created, change=False, **extra):
    return {"version": "1.0.0", "createdOn": created, "address": f"addr{i}", "walletId": wid, "isChange": change,
            "path": f"m/{int(change)}/{i}", "publicKeys": ["02" + "11" * 32], "coin": "btc", "network": "testnet",
            "type": "P2SH", **extra}


@pytest_twisted.ensureDeferred
async def test_address_keys_and_version(storage):
    assert await storage.addresses.fetch_version("w1") is None
    assert await storage.addresses.fetch_keys("w1") == []
    w = wallet_doc("w1")
    # creation order = createdOn, then insertion order for equal createdOn (as fetch_addresses sorts)
    batch1 = [address("w1", 0, 200), address("w1", 1, 100, change=True), address("w1", 2, 200)]
    await storage.addresses.store_with_wallet(w, batch1)
    v1 = await storage.addresses.fetch_version("w1")
    assert isinstance(v1, str) and v1 == await storage.addresses.fetch_version("w1")
    full = await storage.addresses.fetch("w1")
    keys = await storage.addresses.fetch_keys("w1")
    assert keys == [{"address": a["address"], "isChange": a["isChange"]} for a in full]
    assert [k["address"] for k in keys] == ["addr1", "addr0", "addr2"]
    await storage.addresses.store_with_wallet(w, [address("w1", 3, 150)])
    v2 = await storage.addresses.fetch_version("w1")
    assert v2 != v1
    assert [k["address"] for k in await storage.addresses.fetch_keys("w1")] == ["addr1", "addr3", "addr0", "addr2"]
    # a change address stored with a proposal renews it too
    await storage.proposals.store_with_addresses_and_wallet(
        {"walletId": "w1", "id": "p1", "isPending": True, "createdOn": 1}, w, [address("w1", 4, 300, change=True)])
    assert await storage.addresses.fetch_version("w1") not in (v1, v2)
    assert (await storage.addresses.fetch_keys("w1"))[-1] == {"address": "addr4", "isChange": True}


@pytest_twisted.ensureDeferred
async def test_conditional_fill_and_soft_reset_revs(storage):
    # no status: the fill creates one (not updated) and learns its rev
    rev = await storage.cache.init_history_status("w1")
    assert isinstance(rev, str) and await storage.cache.init_history_status("w1") == rev
    st = await storage.cache.get("w1", "historyCacheStatus", None)
    assert (st["isUpdated"], st["rev"]) == (False, rev)
    status = {"totalItems": 5, "updatedOn": 1, "isComplete": False, "isUpdated": True}
    txs = [{"txid": "a"}, {"txid": "b"}]
    assert await storage.cache.store_history_fill("w1", 2, txs, status, rev) is True
    st = await storage.cache.get("w1", "historyCacheStatus", None)
    assert st["isUpdated"] is True and st["totalItems"] == 5 and st["rev"] != rev
    assert [(d["key"], d["tx"]["txid"]) for d in await storage.cache.fetch_range("w1", "historyCache", 0, 9)] == [
        (2, "a"), (3, "b")]
    # a fill with a stale rev writes its positions but not the status
    assert await storage.cache.store_history_fill("w1", 4, [{"txid": "c"}], {**status, "totalItems": 9}, rev) is False
    st2 = await storage.cache.get("w1", "historyCacheStatus", None)
    assert st2["totalItems"] == 5 and st2["rev"] == st["rev"]
    assert [d["key"] for d in await storage.cache.fetch_range("w1", "historyCache", 0, 9)] == [2, 3, 4]
    # every soft reset renews the rev, even when already stale
    await storage.cache.soft_reset("w1")
    r1 = (await storage.cache.get("w1", "historyCacheStatus", None))["rev"]
    await storage.cache.soft_reset("w1")
    st3 = await storage.cache.get("w1", "historyCacheStatus", None)
    assert st3["isUpdated"] is False and st3["rev"] not in (r1, st["rev"])
    # a wallet's reset creates a missing status; the global one only touches existing ones
    await storage.cache.soft_reset("w2")
    assert (await storage.cache.get("w2", "historyCacheStatus", None))["isUpdated"] is False
    await storage.cache.soft_reset(all_wallets=True)
    assert await storage.cache.get("w3", "historyCacheStatus", None) is None
    assert (await storage.cache.get("w1", "historyCacheStatus", None))["rev"] != st3["rev"]
    # a status written before revs existed matches an expected rev of None
    await storage.cache.set("w4", "historyCacheStatus", None, {"isUpdated": False, "totalItems": 1})
    assert await storage.cache.store_history_fill("w4", 0, [], status, None) is True
    assert (await storage.cache.get("w4", "historyCacheStatus", None))["isUpdated"] is True
    # a scan clears everything: a fill that started before cannot resurrect the status
    await storage.cache.clear_history("w1")
    assert await storage.cache.store_history_fill("w1", 0, [], status, st3["rev"]) is False
    assert await storage.cache.get("w1", "historyCacheStatus", None) is None


@pytest_twisted.ensureDeferred
async def test_plural_soft_reset_refuses_a_fill_in_flight(storage):
    """Bug 1 (issue 16): the BTC monitor resets the history caches of every wallet
    paid by a mempool transaction in one write. A fill that read the status
    before that reset must not mark the cache fresh afterwards, or the 0-conf
    payment stays missing from history until the next block."""
    status = {"totalItems": 1, "updatedOn": 1, "isComplete": True, "isUpdated": True}
    rev1 = await storage.cache.init_history_status("w1")
    rev2 = await storage.cache.init_history_status("w2")
    assert await storage.cache.store_history_fill("w2", 0, [{"txid": "a"}], status, rev2) is True
    fresh2 = (await storage.cache.get("w2", "historyCacheStatus", None))["rev"]
    # the fills of w1 (never filled) and of w2 (fresh) read their revs, then the payment arrives
    await storage.cache.soft_reset("w1", "w2", "w3")
    assert await storage.cache.store_history_fill("w1", 0, [{"txid": "a"}], status, rev1) is False
    assert await storage.cache.store_history_fill("w2", 1, [{"txid": "b"}], status, fresh2) is False
    for w in ("w1", "w2", "w3"):  # a wallet without a status gets one, as with the one-wallet reset
        assert (await storage.cache.get(w, "historyCacheStatus", None))["isUpdated"] is False
    # a fill that starts after the reset reads the new rev and is accepted
    rev = (await storage.cache.get("w1", "historyCacheStatus", None))["rev"]
    assert await storage.cache.store_history_fill("w1", 0, [{"txid": "a"}], status, rev) is True


@pytest_twisted.ensureDeferred
async def test_page_proposals_and_notes_are_the_page_subset(storage):
    for i, (txid, created) in enumerate([("x1", 100), ("x2", 200), (None, 150), ("x3", 900), ("x1", 120)]):
        doc = {"walletId": "w1", "id": f"p{i}", "isPending": False, "createdOn": created, "status": "broadcasted"}
        if txid:
            doc["txid"] = txid
        await storage.proposals.store(doc)
    await storage.proposals.store({"walletId": "w2", "id": "q", "isPending": False, "createdOn": 150, "txid": "x1"})
    page = ["x1", "x2", "x3", "nope"]
    got = await storage.proposals.fetch_by_txids("w1", page, 100, 500)
    every = db.find(storage, "txs", {"walletId": "w1", "createdOn": {"$gte": 100, "$lte": 500}}, sort=[("createdOn", -1)])
    ref = [d for d in every if d.get("txid") in page]
    assert got == ref and [d["id"] for d in got] == ["p1", "p4", "p0"]
    for txid, edited in (("x1", 50), ("x2", 300), ("x4", 400)):
        await storage.notes.store({"walletId": "w1", "txid": txid, "body": txid, "editedOn": edited})
    got = await storage.notes.fetch_by_txids("w1", page, 100)
    ref = [n for n in await storage.notes.fetch_since("w1", 100) if n["txid"] in page]
    assert got == ref and [n["txid"] for n in got] == ["x2"]
