"""Storage against a real SecantusDB server: every collection's main queries."""

from __future__ import annotations

import pytest
import pytest_twisted
from pymongo.errors import DuplicateKeyError

from bws.errors import StorageUnavailable
from bws.storage import INDEXES, Storage
from tests.helpers import db
from tests.servers.proc import free_port


def wallet_doc(wid="w1", copayers=()):
    return {
        "version": "1.0.0", "createdOn": 1588230000, "id": wid, "name": "n", "m": 1, "n": 2,
        "singleAddress": False, "status": "pending", "publicKeyRing": [], "copayers": list(copayers),
        "pubKey": "02" + "11" * 32, "coin": "btc", "network": "testnet", "derivationStrategy": "BIP44",
        "addressType": "P2SH", "addressManager": {"version": 2, "derivationStrategy": "BIP44",
        "receiveAddressIndex": 0, "changeAddressIndex": 0, "copayerIndex": 2147483647}, "scanStatus": None,
    }


@pytest_twisted.ensureDeferred
async def test_connect_creates_every_index(storage):
    with db.open_db(storage) as database:
        for name, indexes in INDEXES.items():
            if not indexes:
                continue
            have = {tuple(ix["key"].items()) for ix in database[name].list_indexes()}
            for ix in indexes:
                assert tuple(ix.document["key"].items()) in have, (name, ix.document)
    # connecting again (another process starting) is harmless
    await storage.connect()


@pytest_twisted.ensureDeferred
async def test_unique_index_raises_duplicate_key(storage):
    await storage.sessions.store({"id": "s1", "copayerId": "c1", "walletId": "w"})
    with pytest.raises(DuplicateKeyError):
        db.insert_one(storage, "sessions", {"copayerId": "c1"})


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
    db.update_one(storage, "copayers_lookup", {"copayerId": "cp1"}, {"$set": {"isSupportStaff": True}})
    c2 = {"id": "cp2", "requestPubKeys": [{"key": "03bb", "signature": "3045"}]}
    await storage.wallets.store_with_lookups(wallet_doc("w1", [c, c2]))
    assert (await storage.wallets.fetch_copayer_lookup("cp1"))["isSupportStaff"] is True
    assert (await storage.wallets.fetch_copayer_lookup("cp2"))["walletId"] == "w1"
    # legacy lookup documents are upgraded on read
    db.insert_one(storage, "copayers_lookup", {"copayerId": "old", "walletId": "w0", "requestPubKey": "02cc", "signature": "30"})
    assert (await storage.wallets.fetch_copayer_lookup("old"))["requestPubKeys"] == [{"key": "02cc", "signature": "30"}]


@pytest_twisted.ensureDeferred
async def test_an_unreachable_database_raises_storage_unavailable():
    """Storage's callers (the API's 503, the monitors' retries) see bws.errors
    types, never the driver's."""
    st = Storage(f"mongodb://127.0.0.1:{free_port()}/t_down", server_selection_timeout_ms=300)
    try:
        with pytest.raises(StorageUnavailable):
            await st.wallets.fetch("w1")
        with pytest.raises(StorageUnavailable):  # a transactional write takes the same path
            await st.addresses.store_with_wallet(wallet_doc("w1"), [])
    finally:
        await st.close()


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
    assert [t["id"] for t in await storage.proposals.fetch_broadcasted("w1", min_ts=440)] == ["t4"]
    # replace by (walletId, id): no duplicate row
    await storage.proposals.store({**txp(1, "rejected", 100)})
    assert db.count(storage, "txs", {"walletId": "w1"}) == 4
    assert await storage.proposals.remove("w1", "t1") is True
    assert await storage.proposals.remove("w1", "t1") is False
    assert db.count(storage, "txs", {"walletId": "w1"}) == 3


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
    await storage.addresses.store({**a1, "hasActivity": True})
    assert (await storage.addresses.fetch_one("w1", "2N1"))["hasActivity"] is True
    assert [a["address"] for a in await storage.addresses.fetch_by_scripts(["a914bb87"])] == ["2N2"]
    # one address string in two wallets of different coins: pick by coin
    await storage.addresses.store_with_wallet(wallet_doc("w9"), [{**a1, "walletId": "w9", "coin": "bch"}])
    assert (await storage.addresses.fetch_by_coin("bch", "2N1"))["walletId"] == "w9"
    assert (await storage.addresses.fetch_by_coin("btc", "2N1"))["walletId"] == "w1"
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
async def test_cache(storage):
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
    await storage.stream.set_cursor("email", "000000000000020000", now=1_700_000_000)
    await storage.stream.set_cursor("email", "000000000000010000", now=1_700_000_001)  # never rewinds
    assert await storage.stream.get_cursor("email") == "000000000000020000"
    assert await storage.stream.claim("email", "n1", now=1_700_000_002) is True
    assert await storage.stream.claim("email", "n1", now=1_700_000_003) is False
    assert await storage.stream.claim("push", "n1", now=1_700_000_004) is True


@pytest_twisted.ensureDeferred
async def test_monitor_cursor_and_chain_txs(storage):
    assert await storage.chain_index.get_cursor("btc", "testnet") is None
    await storage.chain_index.set_cursor("btc", "testnet", 101, "ab" * 32, now=1_700_000_005)
    cur = await storage.chain_index.get_cursor("btc", "testnet")
    assert (cur["height"], cur["hash"], cur["updatedOn"]) == (101, "ab" * 32, 1_700_000_005)  # the caller's clock
    await storage.chain_index.store("eth_txs", {"hash": "0x1", "from": "0xA", "to": "0xB", "blockNumber": 5})
    await storage.chain_index.store("eth_txs", {"hash": "0x1", "from": "0xA", "to": "0xB", "blockNumber": 6})
    await storage.chain_index.store("try_txs", {"hash": "0x2", "logIndex": 0, "from": "0xC", "to": "0xA", "blockNumber": 7})
    await storage.chain_index.store("try_txs", {"hash": "0x2", "logIndex": 1, "from": "0xC", "to": "0xD", "blockNumber": 7})
    assert [t["blockNumber"] for t in await storage.chain_index.fetch("eth_txs", ["0xB"])] == [6]
    assert len(await storage.chain_index.fetch("try_txs", ["0xC"])) == 2
    await storage.chain_index.delete("try_txs", {"hash": "0x2", "logIndex": 1})
    assert [t["logIndex"] for t in await storage.chain_index.fetch("try_txs", ["0xC"])] == [0]
    assert await storage.chain_index.remove_from_height("try_txs", 7) == 1
    with pytest.raises(KeyError):  # only the index collections
        await storage.chain_index.fetch("wallets", ["0xB"])
