"""Storage against a real SecantusDB server: every collection's main queries."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import pytest_twisted
from pymongo.errors import DuplicateKeyError

from bws.storage import INDEXES, Storage


def wallet_doc(wid="w1", copayers=()):
    return {
        "version": "1.0.0", "createdOn": 1588230000, "id": wid, "name": "n", "m": 1, "n": 2,
        "singleAddress": False, "status": "pending", "publicKeyRing": [], "copayers": list(copayers),
        "pubKey": "02" + "11" * 32, "coin": "btc", "network": "testnet", "derivationStrategy": "BIP44",
        "addressType": "P2SH", "addressManager": {"version": 2, "derivationStrategy": "BIP44",
        "receiveAddressIndex": 0, "changeAddressIndex": 0, "copayerIndex": 2147483647}, "scanStatus": None,
    }


@pytest_twisted.ensureDeferred
async def test_connect_creates_every_index(storage, mongo_server):
    with mongo_server.sync_client() as c:
        db = c[storage.db.name]
        for name, indexes in INDEXES.items():
            if not indexes:
                continue
            have = {tuple(ix["key"].items()) for ix in db[name].list_indexes()}
            for ix in indexes:
                assert tuple(ix.document["key"].items()) in have, (name, ix.document)
    # connecting again (another process starting) is harmless
    await storage.connect()


@pytest_twisted.ensureDeferred
async def test_unique_index_raises_duplicate_key(storage):
    await storage.sessions.store({"id": "s1", "copayerId": "c1", "walletId": "w"})
    with pytest.raises(DuplicateKeyError):
        await storage._run(storage.db.sessions.insert_one({"copayerId": "c1"}))


@pytest_twisted.ensureDeferred
async def test_wallet_and_copayer_lookup(storage):
    assert await storage.wallets.fetch("nope") is None
    assert await storage.wallets.fetch_copayer_lookup("nope") is None
    c = {"id": "cp1", "name": "a", "requestPubKeys": [{"key": "02aa", "signature": "3044"}]}
    await storage.wallets.store_with_lookups(wallet_doc("w1", [c]))
    w = await storage.wallets.fetch("w1")
    assert w["id"] == "w1" and w["m"] == 1 and w["n"] == 2 and "_id" not in w and "_rev" not in w
    lk = await storage.wallets.fetch_copayer_lookup("cp1")
    assert lk == {"copayerId": "cp1", "walletId": "w1", "requestPubKeys": [{"key": "02aa", "signature": "3044"}]}
    # rebuilding keeps one lookup per copayer, and a support-staff flag survives
    await storage._run(storage.db.copayers_lookup.update_one({"copayerId": "cp1"}, {"$set": {"isSupportStaff": True}}))
    c2 = {"id": "cp2", "requestPubKeys": [{"key": "03bb", "signature": "3045"}]}
    await storage.wallets.store_with_lookups(wallet_doc("w1", [c, c2]))
    assert (await storage.wallets.fetch_copayer_lookup("cp1"))["isSupportStaff"] is True
    assert (await storage.wallets.fetch_copayer_lookup("cp2"))["walletId"] == "w1"
    # legacy lookup documents are upgraded on read
    await storage._run(storage.db.copayers_lookup.insert_one({"copayerId": "old", "walletId": "w0", "requestPubKey": "02cc", "signature": "30"}))
    assert (await storage.wallets.fetch_copayer_lookup("old"))["requestPubKeys"] == [{"key": "02cc", "signature": "30"}]


@pytest_twisted.ensureDeferred
async def test_update_wallet_compare_and_swap(storage):
    await storage.wallets.store(wallet_doc("w1"))
    out = await storage.update_wallet("w1", lambda w: {**w, "name": "renamed"})
    assert out["name"] == "renamed"
    assert (await storage.wallets.fetch("w1"))["name"] == "renamed"
    assert await storage.update_wallet("missing", lambda w: w) is None


def test_two_processes_update_one_wallet_without_lost_updates(mongo_uri):
    """Two OS processes each bump a counter 150 times through update_wallet: 300 at the end."""
    script = textwrap.dedent(
        f"""
        import sys
        from bws import reactor as r; r.install()
        from twisted.internet import reactor, defer
        from bws.storage import Storage
        async def main():
            st = await Storage({mongo_uri!r}).connect()
            def bump(w):
                w["counter"] = w.get("counter", 0) + 1
            for _ in range(150):
                await st.update_wallet("shared", bump)
            await st.close()
        def go():
            d = defer.ensureDeferred(main())
            d.addErrback(lambda f: (f.printTraceback(), sys.exit(1)))
            d.addBoth(lambda _: reactor.stop())
        reactor.callWhenRunning(go)
        reactor.run()
        """
    )
    from pymongo import MongoClient

    with MongoClient(mongo_uri) as c:
        c.get_default_database().wallets.insert_one({"id": "shared", "counter": 0, "_rev": "x"})
        procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(2)]
        assert [p.wait(120) for p in procs] == [0, 0]
        assert c.get_default_database().wallets.find_one({"id": "shared"})["counter"] == 300


@pytest_twisted.ensureDeferred
async def test_txs_queries(storage):
    def txp(i, status, created, txid=None, creator="c1", broadcasted=None):
        d = {"id": f"t{i}", "walletId": "w1", "creatorId": creator, "status": status, "createdOn": created,
             "isPending": status not in ("temporary", "broadcasted", "rejected")}
        if txid:
            d["txid"] = txid
        if broadcasted:
            d["broadcastedOn"] = broadcasted
        return d

    await storage.proposals.store(txp(1, "pending", 100))
    await storage.proposals.store(txp(2, "accepted", 200, txid="aa"))
    await storage.proposals.store(txp(3, "rejected", 300, creator="c2"))
    await storage.proposals.store(txp(4, "broadcasted", 400, txid="bb", broadcasted=450))
    assert [t["id"] for t in await storage.proposals.fetch_pending("w1")] == ["t2", "t1"]
    assert (await storage.proposals.fetch("w1", "t3"))["status"] == "rejected"
    assert (await storage.proposals.fetch_by_txid("bb"))["id"] == "t4"
    assert [t["id"] for t in await storage.proposals.fetch_last("w1", "c1", 2)] == ["t4", "t2"]
    assert [t["id"] for t in await storage.fetch_txs("w1", min_ts=150, max_ts=350)] == ["t3", "t2"]
    assert [t["id"] for t in await storage.proposals.fetch_broadcasted("w1", min_ts=440)] == ["t4"]
    # replace by (walletId, id): no duplicate row
    await storage.proposals.store({**txp(1, "rejected", 100)})
    assert len(await storage.fetch_txs("w1")) == 4
    assert await storage.proposals.remove("w1", "t1") is True
    assert len(await storage.fetch_txs("w1")) == 3


@pytest_twisted.ensureDeferred
async def test_notifications(storage):
    ids = iter(["000000000000050001", "000000000000050002"])
    await storage.notifications.store({"id": "000000000000010000", "walletId": "w1", "type": "NewCopayer"})
    await storage.notifications.store({"id": "000000000000020000", "walletId": "testnet", "type": "NewBlock"})
    await storage.notifications.store({"id": "000000000000030000", "walletId": "w2", "type": "NewAddress"})
    # a colliding id (another process, same ms) is renewed, not lost
    n = await storage.notifications.store({"id": "000000000000030000", "walletId": "w1", "type": "X"}, renew_id=lambda: next(ids))
    assert n["id"] == "000000000000050001"
    got = await storage.notifications.fetch(["w1", "testnet"], None, 0)
    assert [x["id"] for x in got] == ["000000000000010000", "000000000000020000", "000000000000050001"]
    got = await storage.notifications.fetch(["w1", "testnet"], "000000000000010000", 0)
    assert [x["id"] for x in got] == ["000000000000020000", "000000000000050001"]
    got = await storage.notifications.fetch(["w1"], None, 4)  # minTs in ms: ids after pad14(4)+"0000"
    assert [x["id"] for x in got] == ["000000000000050001"]
    allx = await storage.notifications.fetch_after("000000000000020000")
    assert [x["id"] for x in allx] == ["000000000000030000", "000000000000050001"]


@pytest_twisted.ensureDeferred
async def test_addresses(storage):
    w = wallet_doc("w1")
    a1 = {"address": "2N1", "walletId": "w1", "createdOn": 10, "coin": "btc", "network": "testnet", "isChange": False, "path": "m/0/0", "scriptPubKey": "a914aa87"}
    a2 = {"address": "2N2", "walletId": "w1", "createdOn": 20, "coin": "btc", "network": "testnet", "isChange": True, "path": "m/1/0", "scriptPubKey": "a914bb87"}
    await storage.addresses.store_with_wallet({**w, "addressManager": {**w["addressManager"], "receiveAddressIndex": 1}}, [a1])
    await storage.addresses.store_with_wallet(w, [a1, a2])  # a1 again: never duplicated
    assert [a["address"] for a in await storage.addresses.fetch("w1")] == ["2N1", "2N2"]
    assert await storage.addresses.count("w1") == 2
    assert [a["address"] for a in await storage.fetch_new_addresses("w1", 15)] == ["2N2"]
    await storage.addresses.store({**a1, "hasActivity": True})
    assert (await storage.addresses.fetch_one("w1", "2N1"))["hasActivity"] is True
    assert [a["address"] for a in await storage.addresses.fetch_by_scripts(["a914bb87"])] == ["2N2"]
    # one address string in two wallets of different coins: pick by coin
    await storage.addresses.store_with_wallet(wallet_doc("w9"), [{**a1, "walletId": "w9", "coin": "bch"}])
    assert (await storage.addresses.fetch_by_coin("bch", "2N1"))["walletId"] == "w9"
    assert (await storage.addresses.fetch_by_coin("btc", "2N1"))["walletId"] == "w1"
    assert len(await storage.fetch_all_addresses("btc", "testnet")) == 2
    assert len(await storage.addresses.fetch_many("btc", ["2N1", "zz"])) == 1


@pytest_twisted.ensureDeferred
async def test_preferences_notes_sessions_subs(storage):
    await storage.preferences.store({"walletId": "w1", "copayerId": "c1", "email": "a@x.io"})
    await storage.preferences.store({"walletId": "w1", "copayerId": "c2", "language": "es"})
    await storage.preferences.store({"walletId": "w1", "copayerId": "c1", "email": "b@x.io"})
    assert (await storage.preferences.fetch("w1", "c1"))["email"] == "b@x.io"
    assert len(await storage.preferences.fetch("w1")) == 2

    await storage.notes.store({"walletId": "w1", "txid": "t", "body": "hi", "editedOn": 5})
    await storage.notes.store({"walletId": "w1", "txid": "u", "body": None, "editedOn": 9})
    assert (await storage.notes.fetch("w1", "t"))["body"] == "hi"
    assert [n["txid"] for n in await storage.notes.fetch_since("w1", 6)] == ["u"]

    await storage.sessions.store({"id": "s1", "copayerId": "c1", "walletId": "w1", "updatedOn": 1})
    await storage.sessions.store({"id": "s2", "copayerId": "c1", "walletId": "w1", "updatedOn": 2})
    assert (await storage.sessions.fetch("c1"))["id"] == "s2"
    await storage.sessions.remove("c1")
    assert await storage.sessions.fetch("c1") is None

    await storage.subscriptions.store_push_sub({"copayerId": "c1", "token": "A", "platform": "ios"})
    await storage.subscriptions.store_push_sub({"copayerId": "c1", "token": "A", "platform": "android"})
    await storage.subscriptions.store_push_sub({"copayerId": "c1", "token": "B"})
    assert [s["token"] for s in await storage.subscriptions.fetch_push_subs("c1")] == ["A", "B"]
    assert await storage.subscriptions.remove_push_sub("c1", "A") == 1
    assert await storage.subscriptions.remove_push_token("B") == 1

    await storage.subscriptions.store_confirmation_sub({"copayerId": "c1", "walletId": "w1", "txid": "x", "isActive": True})
    await storage.subscriptions.store_confirmation_sub({"copayerId": "c2", "walletId": "w1", "txid": "x", "isActive": True})
    assert len(await storage.subscriptions.fetch_active_confirmation_subs(txids=["x"])) == 2
    await storage.subscriptions.store_confirmation_sub({"copayerId": "c1", "walletId": "w1", "txid": "x", "isActive": False})
    assert [s["copayerId"] for s in await storage.subscriptions.fetch_active_confirmation_subs(txids=["x"])] == ["c2"]
    assert await storage.subscriptions.remove_confirmation_sub("c2", "x") == 1


@pytest_twisted.ensureDeferred
async def test_email_queue_and_cache(storage):
    await storage.store_email({"id": "e1", "notificationId": "n1", "status": "pending"})
    await storage.store_email({"id": "e1", "notificationId": "n1", "status": "fail"})
    assert (await storage.fetch_email_by_notification("n1"))["status"] == "fail"
    assert [e["id"] for e in await storage.fetch_unsent_emails()] == ["e1"]

    await storage.cache.set("w1", "twoStep", None, {"addressCount": 120})
    await storage.cache.set("w1", "twoStep", None, {"lastEmpty": 5})
    assert (await storage.cache.get("w1", "twoStep"))["addressCount"] == 120
    for pos in range(5):
        await storage.cache.set("w1", "historyCache", pos, {"tx": {"txid": str(pos)}})
    await storage.cache.set("w1", "historyCacheStatus", None, {"isUpdated": True, "totalItems": 5})
    assert [d["key"] for d in await storage.cache.fetch_range("w1", "historyCache", 1, 4)] == [1, 2, 3]
    await storage.cache.soft_reset("w1")
    assert (await storage.cache.get("w1", "historyCacheStatus"))["isUpdated"] is False
    await storage.cache.clear_history("w1")
    assert await storage.cache.fetch_range("w1", "historyCache", 0, 9) == []


@pytest_twisted.ensureDeferred
async def test_stream_cursor_and_claims(storage):
    assert await storage.stream.get_cursor("email") == ""
    await storage.stream.set_cursor("email", "000000000000020000")
    await storage.stream.set_cursor("email", "000000000000010000")  # never rewinds
    assert await storage.stream.get_cursor("email") == "000000000000020000"
    assert await storage.stream.claim("email", "n1") is True
    assert await storage.stream.claim("email", "n1") is False
    assert await storage.stream.claim("push", "n1") is True


@pytest_twisted.ensureDeferred
async def test_monitor_cursor_and_chain_txs(storage):
    assert await storage.chain_index.get_cursor("btc", "testnet") is None
    await storage.chain_index.set_cursor("btc", "testnet", 101, "ab" * 32)
    cur = await storage.chain_index.get_cursor("btc", "testnet")
    assert (cur["height"], cur["hash"]) == (101, "ab" * 32)
    await storage.store_eth_tx({"hash": "0x1", "from": "0xA", "to": "0xB", "blockNumber": 5})
    await storage.store_eth_tx({"hash": "0x1", "from": "0xA", "to": "0xB", "blockNumber": 6})
    await storage.store_try_tx({"hash": "0x2", "logIndex": 0, "from": "0xC", "to": "0xA", "blockNumber": 7})
    await storage.store_try_tx({"hash": "0x2", "logIndex": 1, "from": "0xC", "to": "0xD", "blockNumber": 7})
    assert len(await storage.fetch_eth_txs(["0xB"])) == 1
    assert len(await storage.fetch_try_txs(["0xC"])) == 2
    assert await storage.chain_index.remove_from_height("try_txs", 7) == 2


@pytest_twisted.ensureDeferred
async def test_remove_wallet_removes_everything(storage):
    await storage.wallets.store_with_lookups(wallet_doc("w1", [{"id": "c1", "requestPubKeys": []}]))
    await storage.proposals.store({"id": "t", "walletId": "w1", "isPending": True, "createdOn": 1})
    await storage.notifications.store({"id": "000000000000010000", "walletId": "w1"})
    await storage.remove_wallet("w1")
    assert await storage.wallets.fetch("w1") is None
    assert await storage.wallets.fetch_copayer_lookup("c1") is None
    assert await storage.fetch_txs("w1") == []
