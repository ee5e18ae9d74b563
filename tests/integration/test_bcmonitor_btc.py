"""BTC push monitor against a private litecoind regtest node (P2P + RPC).

The node is this module's own (restarts, invalidateblock): the session
``litecoind`` is shared and must not be reorganised.
"""

from __future__ import annotations

import time
import uuid

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.task import deferLater

from bcmonitor.btc import BtcMonitor, TxView
from bcmonitor.notify import MonitorNotices
from bws.adapters.bitcoind_rpc import BitcoindRpc
from bws.model import NotificationIds
from bws.services.notifier import Notifier
from bws.adapters.bitcoind_rpc import BitcoindRpc
from bcmonitor.runner import BtcRunner
from bws.adapters.broker.local import LocalBroker
from bws.adapters.lock.local import LocalLock
from bws.services.broadcasts import BroadcastMarks
from devtools.litecoind import RegtestNode
from devtools.process import free_port
from bws.model import TxConfirmationSub, notification_id_ms
from bws.storage import Storage

from tests.helpers import db

REGTEST_MAGIC = bytes.fromhex("fabfb5da")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    n = RegtestNode(tmp_path_factory.mktemp("bcmon-ltc"), rpc_port=free_port(), p2p_port=free_port())
    n.start()
    try:
        n.ensure_funded()
        yield n
    finally:
        n.stop()


def sleep(seconds):
    return deferLater(reactor, seconds, lambda: None)


async def wait_for(predicate, timeout=15.0, step=0.1):
    """Await until ``await predicate()`` is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in %.1f s" % timeout)
        await sleep(step)


async def add_wallet_address(storage, node, wallet_id=None, is_change=False, created_on=None, wallet=None):
    """A node-wallet legacy address registered as a BTC testnet wallet address,
    stored as the API stores one (with ``wallet``, default ``{id, name}``)."""
    address = node.new_address("legacy")
    spk = node.rpc("getaddressinfo", address, wallet="miner")["scriptPubKey"]
    wallet_id = wallet_id or (wallet or {}).get("id") or str(uuid.uuid4())
    doc = {
        "version": "1.0.0",
        "createdOn": int(time.time()) if created_on is None else created_on,
        "address": address,
        "walletId": wallet_id,
        "isChange": is_change,
        "path": "m/0/0",
        "publicKeys": [],
        "coin": "btc",
        "network": "testnet",
        "type": "P2PKH",
        "hasActivity": None,
        "scriptPubKey": spk,
    }
    await storage.addresses.store_with_wallet(wallet or {"id": wallet_id, "name": "w"}, [doc])
    return doc


def make_monitor(storage, node, broker, third_party_delay=0.3, lock=None):
    """lock: the wallet lock the monitor marks proposals under (the API's, to race it; default a fresh LocalLock)."""
    notifier = Notifier(storage, broker, NotificationIds())
    return BtcMonitor(
        storage, MonitorNotices(notifier),
        BitcoindRpc(node.rpc_url, reactor) if node else None, reactor,
        coin="btc", network="testnet", third_party_delay=third_party_delay,
        broadcasts=BroadcastMarks(storage, notifier, lock or LocalLock(reactor), reactor),
    )  # fmt: skip


def make_runner(storage, node, broker, third_party_delay=0.3):
    monitor = make_monitor(storage, node, broker, third_party_delay)
    return BtcRunner(monitor, reactor, "127.0.0.1", node.p2p_port, REGTEST_MAGIC, max_delay=2.0)


async def notes(storage, type_=None, wallet_id=None):
    q = await storage.notifications.fetch_after("", limit=10_000)
    return [n for n in q if (type_ is None or n["type"] == type_) and (wallet_id is None or n["walletId"] == wallet_id)]


async def connected(runner):
    return runner.factory.protocol_instance is not None and runner.factory.protocol_instance.handshake_done


@pytest_twisted.ensureDeferred
async def test_live_incoming_third_party_block_confirmation(storage, node):
    broker = LocalBroker()
    runner = make_runner(storage, node, broker)
    await runner.start()
    try:
        await wait_for(lambda: connected(runner))
        addr = await add_wallet_address(storage, node)
        change = await add_wallet_address(storage, node, wallet_id=addr["walletId"], is_change=True)
        wid = addr["walletId"]

        # -- incoming payment, announced over P2P
        txid = node.fund(addr["address"], "1.5")
        node.fund(change["address"], "0.1")  # change addresses are never notified
        # the node trickles tx announcements to inbound peers (~5 s mean, exponential)
        incoming = await wait_for(lambda: notes(storage, "NewIncomingTx", wid), timeout=30)
        announced = runner.monitor.p2p_seen[txid]  # pushed over P2P, not found by polling
        assert len(incoming) == 1
        elapsed = notification_id_ms(incoming[0]["id"]) / 1000 - announced
        n = incoming[0]
        assert n["data"] == {"txid": txid, "address": addr["address"], "amount": 150_000_000}
        assert "creatorId" not in n
        assert elapsed < 10, elapsed
        assert any(m["id"] == n["id"] for m in broker.published)  # stored, then published
        cache = await storage.cache.get(wid, "addressesWithBalance", None)
        assert cache["addresses"] == [addr["address"]]

        # -- an accepted proposal broadcast by someone else
        dest = node.new_address("legacy")
        raw = node.rpc("createrawtransaction", [], {dest: "0.25"})
        funded = node.rpc("fundrawtransaction", raw, wallet="miner")["hex"]
        signed = node.rpc("signrawtransactionwithwallet", funded, wallet="miner")["hex"]
        out_txid = node.rpc("decoderawtransaction", signed)["txid"]
        txp_wallet = str(uuid.uuid4())
        txp = {
            "version": 3, "createdOn": int(time.time()), "id": str(uuid.uuid4()), "walletId": txp_wallet,
            "creatorId": "c0", "coin": "btc", "network": "testnet", "outputs": [{"toAddress": dest, "amount": 25_000_000}],
            "amount": 25_000_000, "message": None, "changeAddress": None, "inputs": [], "fee": 1000,
            "requiredSignatures": 1, "requiredRejections": 1, "walletM": 1, "walletN": 1, "status": "accepted",
            "txid": out_txid, "actions": [], "isPending": True,
        }  # fmt: skip
        await storage.proposals.store(txp)
        node.rpc("sendrawtransaction", signed)
        third = await wait_for(lambda: notes(storage, "NewOutgoingTxByThirdParty"), timeout=30)
        assert len(third) == 1
        assert third[0]["walletId"] == txp_wallet
        # the API's payload (bws/services/broadcasts.py: one mark-broadcast rule)
        assert third[0]["data"] == {"txProposalId": txp["id"], "creatorId": "c0", "amount": 25_000_000,
                                    "message": None, "txid": out_txid}
        stored = await storage.proposals.fetch(txp_wallet, txp["id"])
        assert stored["status"] == "broadcasted" and stored["broadcastedOn"] > 0
        assert len([d for d in db.find(storage, "txs", {"walletId": txp_wallet}, sort=[("createdOn", -1)])]) == 1  # no duplicate txp document

        # -- a block: NewBlock + the subscribed TxConfirmation
        sub = TxConfirmationSub.create(wid, "copayer-1", txid)
        await storage.subscriptions.store_confirmation_sub(sub.to_storage())
        [block_hash] = node.mine(1)
        conf = await wait_for(lambda: notes(storage, "TxConfirmation"), timeout=10)
        blocks = await notes(storage, "NewBlock")
        assert [b["data"] for b in blocks] == [{"hash": block_hash, "coin": "btc", "network": "testnet"}]
        assert blocks[0]["walletId"] == "testnet"
        assert len(conf) == 1
        assert conf[0]["walletId"] == wid and conf[0]["creatorId"] == "copayer-1"
        assert conf[0]["data"] == {"txid": txid, "coin": "btc", "network": "testnet"}
        assert await storage.subscriptions.fetch_active_confirmation_subs(txids=[txid]) == []
        await sleep(0.3)
        assert len(await notes(storage, "NewIncomingTx", wid)) == 1  # the block did not repeat it
        cursor = await storage.chain_index.get_cursor("btc", "testnet")
        assert cursor["hash"] == block_hash and cursor["height"] == node.height()
    finally:
        await runner.stop()


@pytest_twisted.ensureDeferred
async def test_restart_backfills_missed_blocks_once(storage, node):
    broker = LocalBroker()
    first = make_runner(storage, node, broker)
    await first.start()
    await first.stop()
    start_height = (await storage.chain_index.get_cursor("btc", "testnet"))["height"]
    assert start_height == node.height()

    addr = await add_wallet_address(storage, node)
    wid = addr["walletId"]
    tx1 = node.fund(addr["address"], "0.3")
    tx2 = node.fund(addr["address"], "0.4")
    await storage.subscriptions.store_confirmation_sub(TxConfirmationSub.create(wid, "c-restart", tx1).to_storage())
    hashes = node.mine(3)
    tx3 = node.fund(addr["address"], "0.5")  # paid while down, still unconfirmed

    t0 = time.monotonic()
    second = make_runner(storage, node, broker)
    await second.start()  # back-fill over RPC + mempool scan happen here
    catch_up = time.monotonic() - t0
    try:
        await wait_for(lambda: connected(second))
        await sleep(0.5)
    finally:
        await second.stop()
    third = make_runner(storage, node, broker)
    await third.start()  # nothing new: every notification exactly once
    await third.stop()

    incoming = await notes(storage, "NewIncomingTx", wid)
    assert sorted((n["data"]["txid"], n["data"]["amount"]) for n in incoming) == sorted(
        [(tx1, 30_000_000), (tx2, 40_000_000), (tx3, 50_000_000)]
    )
    assert [n["data"]["hash"] for n in await notes(storage, "NewBlock")] == hashes
    conf = await notes(storage, "TxConfirmation")
    assert [(n["data"]["txid"], n["creatorId"]) for n in conf] == [(tx1, "c-restart")]
    cursor = await storage.chain_index.get_cursor("btc", "testnet")
    assert (cursor["height"], cursor["hash"]) == (start_height + 3, hashes[-1])
    assert catch_up < 5, catch_up


@pytest_twisted.ensureDeferred
async def test_reorg_rolls_back_and_reapplies(storage, node):
    broker = LocalBroker()
    runner = make_runner(storage, node, broker)
    await runner.start()
    try:
        await wait_for(lambda: connected(runner))
        addr = await add_wallet_address(storage, node)
        wid = addr["walletId"]
        tx = node.fund(addr["address"], "0.2")
        await storage.subscriptions.store_confirmation_sub(TxConfirmationSub.create(wid, "c-reorg", tx).to_storage())
        [orphan] = node.mine(1)
        await wait_for(lambda: notes(storage, "TxConfirmation"))
        fork_height = node.height() - 1

        # the block that confirmed tx is orphaned by a longer branch without tx
        node.rpc("invalidateblock", orphan)
        assert tx in node.rpc("getrawmempool")
        side = [node.rpc("generateblock", node.mining_address, [])["hash"] for _ in range(2)]

        async def moved():
            c = await storage.chain_index.get_cursor("btc", "testnet")
            return c["hash"] == side[-1]

        await wait_for(moved, timeout=10)
        cursor = await storage.chain_index.get_cursor("btc", "testnet")
        assert cursor["height"] == fork_height + 2
        assert len(await notes(storage, "TxConfirmation")) == 1  # no phantom confirmation
        [sub] = await storage.subscriptions.fetch_active_confirmation_subs(txids=[tx])  # re-activated
        assert "confirmedBlock" not in sub
        block_hashes = [n["data"]["hash"] for n in await notes(storage, "NewBlock")]
        assert block_hashes == [orphan] + side

        # tx is mined again on the new branch: confirmed once more, for real this time
        [again] = node.mine(1)
        conf = await wait_for(
            lambda: _count(storage, "TxConfirmation", 2), timeout=10
        )
        assert [n["data"]["txid"] for n in conf] == [tx, tx]
        assert await storage.subscriptions.fetch_active_confirmation_subs(txids=[tx]) == []
        assert len(await notes(storage, "NewIncomingTx", wid)) == 1
        cursor = await storage.chain_index.get_cursor("btc", "testnet")
        assert cursor["hash"] == again
    finally:
        await runner.stop()


async def _count(storage, type_, n):
    found = await notes(storage, type_)
    return found if len(found) >= n else None


@pytest_twisted.ensureDeferred
async def test_process_python_m_bcmonitor_btc(storage, node, mongo_uri, tmp_path):
    """The real entry point: config file -> P2P + RPC -> NewBlock in the database; SIGTERM stops it."""
    import json
    import signal
    import subprocess
    import sys

    cfg = {
        "storageOpts": {"mongoDb": {"uri": mongo_uri}},
        "messageBrokerOpts": {"mode": "local"},
        "blockchainExplorerOpts": {
            "btc": {"testnet": {"provider": "bitcoind", "url": node.rpc_url, "p2p": f"127.0.0.1:{node.p2p_port}",
                                "magic": "fabfb5da"}}
        },
    }  # fmt: skip
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    log_path = tmp_path / "bcmonitor.log"
    with open(log_path, "w") as logf:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bcmonitor", "btc", "--config", str(path)], stdout=logf, stderr=subprocess.STDOUT
        )
    try:
        await wait_for(lambda: storage.chain_index.get_cursor("btc", "testnet"), timeout=15)
        await wait_for(lambda: _handshake_logged(log_path), timeout=10)
        [block_hash] = node.mine(1)
        blocks = await wait_for(lambda: notes(storage, "NewBlock"), timeout=10)
        assert [b["data"]["hash"] for b in blocks] == [block_hash]
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(15)
    text = log_path.read_text()
    assert "p2p handshake done" in text, text
    assert rc == 0, text


async def _handshake_logged(path):
    return "p2p handshake done" in path.read_text()


# -- issue 11: in-memory matching of watched scripts, batched per block ----------------------


@pytest_twisted.ensureDeferred
async def test_addresses_stored_after_start_are_matched_in_the_next_block(storage, node):
    """The monitor matches outputs against scripts loaded at start; addresses the API
    stores later (createAddress, and a scan that stores a branch's addresses long
    after their ``createdOn``) must still be found in the next block (RPC sync path,
    no mempool: the block is the first sighting)."""
    monitor = make_monitor(storage, node, LocalBroker())
    await monitor.start(scan_mempool=False)
    loaded = set(monitor.watched)

    # createAddress after start: createdOn = now
    created = await add_wallet_address(storage, node)
    # a scan: the wallet is marked running, a block is handled meanwhile, then the
    # branch's addresses are stored with the createdOn of the branch's start (an hour
    # ago: far outside the monitor's createdOn window) and the scan ends
    scan_wallet = {"id": str(uuid.uuid4()), "name": "scanned", "scanStatus": "running"}
    await storage.wallets.store(scan_wallet)
    node.mine(1)
    await monitor.sync()
    scanned = await add_wallet_address(storage, node, created_on=int(time.time()) - 3600, wallet=scan_wallet)
    await storage.wallets.store({**scan_wallet, "scanStatus": "success"})
    assert created["scriptPubKey"] not in loaded and scanned["scriptPubKey"] not in loaded

    tx1 = node.fund(created["address"], "0.7")
    tx2 = node.fund(scanned["address"], "0.8")
    [block_hash] = node.mine(1)
    await monitor.sync()

    assert {created["scriptPubKey"], scanned["scriptPubKey"]} <= monitor.watched
    got = [(n["walletId"], n["data"]) for n in await notes(storage, "NewIncomingTx")]
    assert sorted(got, key=lambda x: x[1]["amount"]) == [
        (created["walletId"], {"txid": tx1, "address": created["address"], "amount": 70_000_000}),
        (scan_wallet["id"], {"txid": tx2, "address": scanned["address"], "amount": 80_000_000}),
    ]
    cursor = await storage.chain_index.get_cursor("btc", "testnet")
    assert cursor["hash"] == block_hash


def _txid(n: int) -> str:
    return f"{n:064x}"


async def _store_address(storage, wallet_id, address, spk, is_change=False, network="testnet"):
    doc = {
        "version": "1.0.0", "createdOn": int(time.time()), "address": address, "walletId": wallet_id,
        "isChange": is_change, "path": "m/0/0", "publicKeys": [], "coin": "btc", "network": network,
        "type": "P2PKH", "hasActivity": None, "scriptPubKey": spk,
    }  # fmt: skip
    await storage.addresses.store_with_wallet({"id": wallet_id, "name": wallet_id}, [doc])


def _proposal(wallet_id, txid, status):
    return {
        "version": 3, "createdOn": int(time.time()), "id": "txp-" + txid[-4:], "walletId": wallet_id,
        "creatorId": "c0", "coin": "btc", "network": "testnet", "outputs": [{"toAddress": "x", "amount": 5_000}],
        "amount": 5_000, "message": None, "changeAddress": None, "inputs": [], "fee": 1000,
        "requiredSignatures": 1, "requiredRejections": 1, "walletM": 1, "walletN": 1, "status": status,
        "txid": txid, "actions": [], "isPending": status == "accepted",
    }  # fmt: skip


async def _feed_block_or_txs(storage, by_block: bool):
    """The same payments through one block (batched) or one ``on_tx`` per tx;
    returns the notifications ``(type, walletId, data)`` in id order."""
    from bcmonitor.btc import BlockView, TxView

    s1, s2, s3, s4, other = ("76a914" + c * 40 + "88ac" for c in "12345")
    await _store_address(storage, "wA", "a1", s1)
    await _store_address(storage, "wA", "a2", s2)
    await _store_address(storage, "wA", "c1", s3, is_change=True)  # change: never notified
    await _store_address(storage, "wB", "b1", s4)
    await _store_address(storage, "wL", "l1", s1, network="livenet")  # same script, other network
    await storage.proposals.store(_proposal("wP", _txid(3), "accepted"))
    await storage.proposals.store(_proposal("wQ", _txid(5), "broadcasted"))
    for w in ("wA", "wB"):
        await storage.cache.set(w, "historyCacheStatus", None, {"isUpdated": True})
    await storage.cache.set("wA", "addressesWithBalance", None, {"addresses": ["a0"]})

    monitor = make_monitor(storage, None, LocalBroker(), third_party_delay=0)
    prev = _txid(1000)
    await storage.chain_index.set_cursor("btc", "testnet", 100, prev, now=int(monitor.clock.seconds()))
    monitor.cursor = await storage.chain_index.get_cursor("btc", "testnet")
    await monitor.refresh_watched()
    txs = [
        TxView(_txid(1), [(s1, 1_000), (s1, 500), (s3, 200), (other, 9)]),
        TxView(_txid(2), [(s4, 700), (s2, 300)]),
        TxView(_txid(3), [(other, 5_000)]),  # the accepted proposal, broadcast by someone else
        TxView(_txid(4), [(s1, 42)]),  # already notified from the mempool
        TxView(_txid(5), [(other, 5_000)]),  # its proposal is already broadcasted
        TxView(_txid(6), [(other, 1)]),
    ]
    await monitor.on_tx(txs[3])
    if by_block:
        await monitor.on_block(BlockView(_txid(2000), prev, txs))
    else:
        for tx in txs:
            await monitor.on_tx(tx)
    for w in ("wA", "wB"):
        assert (await storage.cache.get(w, "historyCacheStatus", None))["isUpdated"] is False
    assert (await storage.cache.get("wA", "addressesWithBalance", None))["addresses"] == ["a0", "a1", "a2"]
    assert (await storage.cache.get("wB", "addressesWithBalance", None))["addresses"] == ["b1"]
    assert (await storage.proposals.fetch("wP", "txp-0003"))["status"] == "broadcasted"
    return [(n["type"], n["walletId"], n["data"]) for n in await notes(storage)]


@pytest_twisted.ensureDeferred
async def test_block_batching_gives_the_notifications_of_one_tx_at_a_time(storage, mongo_server):
    """A block is matched with a fixed number of queries; its notifications (and
    caches, proposal status) are those of handling its txs one at a time, in order."""
    by_block = await _feed_block_or_txs(storage, by_block=True)

    other = Storage(mongo_server.uri("t_" + uuid.uuid4().hex[:12]))
    await other.connect()
    try:
        one_by_one = await _feed_block_or_txs(other, by_block=False)
    finally:
        await other.drop_database()
        await other.close()

    incoming = [
        ("NewIncomingTx", "wA", {"txid": _txid(4), "address": "a1", "amount": 42}),
        ("NewIncomingTx", "wA", {"txid": _txid(1), "address": "a1", "amount": 1_500}),
        ("NewIncomingTx", "wB", {"txid": _txid(2), "address": "b1", "amount": 700}),
        ("NewIncomingTx", "wA", {"txid": _txid(2), "address": "a2", "amount": 300}),
        ("NewOutgoingTxByThirdParty", "wP",
         {"txProposalId": "txp-0003", "creatorId": "c0", "amount": 5_000, "message": None, "txid": _txid(3)}),
    ]
    assert one_by_one == incoming
    assert by_block == incoming + [("NewBlock", "testnet", {"hash": _txid(2000), "coin": "btc", "network": "testnet"})]


@pytest_twisted.ensureDeferred
async def test_mempool_payment_to_a_just_created_address_is_notified_at_once(storage, node):
    """The in-memory set was refreshed a moment before the address was stored:
    a mempool tx paying it must still be notified from the mempool (not only
    when its block arrives)."""
    monitor = make_monitor(storage, None, LocalBroker())
    await monitor.refresh_watched()
    addr = await add_wallet_address(storage, node)
    assert addr["scriptPubKey"] not in monitor.watched
    await monitor.on_tx(TxView("ab" * 32, [(addr["scriptPubKey"], 12_345)]))
    [n] = await notes(storage, "NewIncomingTx", addr["walletId"])
    assert n["data"] == {"txid": "ab" * 32, "address": addr["address"], "amount": 12_345}
    assert addr["scriptPubKey"] in monitor.watched  # learnt for the next block


@pytest_twisted.ensureDeferred
async def test_mempool_payment_refuses_a_history_fill_already_in_flight(storage):
    """Bug 1 (issue 16): a history fill that read the cache status before a 0-conf
    payment reached the monitor must not mark the cache fresh afterwards, or the
    payment is missing from the history until the next block resets it again."""
    from bcmonitor.btc import TxView

    spk = "76a914" + "7" * 40 + "88ac"
    await _store_address(storage, "wA", "a1", spk)
    status = {"totalItems": 0, "updatedOn": 1, "isComplete": True, "isUpdated": True}
    rev = await storage.cache.init_history_status("wA")  # the fill reads the status, asks the explorer ...
    monitor = make_monitor(storage, None, LocalBroker(), third_party_delay=0)
    await monitor.refresh_watched()
    await monitor.on_tx(TxView(_txid(77), [(spk, 1_000)]))  # ... the payment arrives meanwhile ...
    assert [n["data"]["txid"] for n in await notes(storage, "NewIncomingTx", "wA")] == [_txid(77)]
    # ... and the fill's answer, which predates the payment, does not mark the cache fresh
    assert await storage.cache.store_history_fill("wA", 0, [], status, rev) is False
    assert (await storage.cache.get("wA", "historyCacheStatus", None))["isUpdated"] is False
