"""Issue 15, findings 6, 7 and 8: writes and their notifications under faults and races.

* Finding 7: publish, sign, reject, remove and createAddress store their state
  change and its notifications in one transaction (``Storage._store_with_notifications``);
  a fail point on any of those writes leaves neither, and nothing is published.
* Finding 6: transient transaction errors (WriteConflict, code 112 with the
  ``TransientTransactionError`` label, as after a kill -9 left a transaction
  open) are retried with backoff; when they persist past
  ``storageOpts.mongoDb.transactionTimeoutMS`` the request answers 503
  SERVICE_UNAVAILABLE, never 500 (real ``python -m bws``, and a real kill -9).
* Finding 8: an accepted proposal broadcast out of band is marked once: 20
  concurrent ``GET /v1/txproposals/`` (and the block monitors racing them) store
  exactly one NewOutgoingTxByThirdParty and never answer 500.

Fail points: SecantusDB's ``failCommand`` scoped by ``appName`` (tests/integration/test_faults.py).
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import pytest_twisted
import requests
from pymongo import MongoClient
from twisted.internet import defer, reactor

from bcmonitor.evm import EvmMonitor
from bcmonitor.notify import MonitorNotices
from bws.adapters.broker.local import LocalBroker
from bws.model import NotificationIds
from bws.services.notifier import Notifier
from bws.adapters.broker.local import LocalBroker
from bws.adapters.lock.local import LocalLock
from bws.services.broadcasts import BroadcastMarks
from bws.chains.address import script_for_address
from ops.embedded_db import server_argv
from tests.bws_process import create_wallet_http, signed_request, start_bws
from tests.helpers.fixtures import api, make_service  # noqa: F401
from tests.helpers.keys import CopayerKeys
from tests.helpers.wallets import create_and_join
from tests.servers.proc import ManagedProcess, free_port
from tests.integration.test_bcmonitor_btc import _proposal, make_monitor
from tests.integration.test_faults import FailPoints, faulty  # noqa: F401
from tests.helpers.proposals import (  # noqa: F401
    chain_service,
    fund,
    module_watch_wallet,
    node_explorer,
    notifications,
    proposal_signature,
    sign_txp,
)

pytestmark = pytest.mark.timeout(180)

WRITE_CONFLICT = 112  # mongod's WriteConflict; in a transaction it carries TransientTransactionError


def _state(db, wallet_id: str) -> dict:
    """Everything stored about one wallet that these writes change."""
    return {
        "wallet": db.wallets.find_one({"id": wallet_id}, {"_id": 0, "_rev": 0}),
        "txs": sorted((d for d in db.txs.find({"walletId": wallet_id}, {"_id": 0})), key=lambda d: d["id"]),
        "addresses": sorted(d["address"] for d in db.addresses.find({"walletId": wallet_id})),
        "notifications": sorted(d["type"] for d in db.notifications.find({"walletId": wallet_id})),
    }


async def _funded(service, ex, m: int, n: int):
    """An m-of-n livenet wallet with one 0.05 BTC UTXO on the fake explorer -> (wallet, [bound copayers], keys)."""
    keys = [CopayerKeys.random("livenet", "BIP44") for _ in range(n)]
    w = await create_and_join(service, m, n, copayers=keys)
    cs = [w.as_copayer(service, i) for i in range(n)]
    addr = await cs[0].create_address({})
    ex.utxos = [{"txid": "%064x" % 7, "vout": 0, "address": addr["address"], "satoshis": 5_000_000,
                 "scriptPubKey": script_for_address(addr["address"], "btc"), "confirmations": 10,
                 "path": addr["path"], "publicKeys": addr["publicKeys"]}]
    return w, cs, keys


async def _proposal_of(me, keys, publish: bool = True) -> dict:
    t = await me.create_tx({"outputs": [{"toAddress": "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "amount": 100_000}],
                            "feePerKb": 10_000})
    if publish:
        t = await me.publish_tx({"txProposalId": t["id"], "proposalSignature": proposal_signature(t, keys)})
    return t


async def _all_or_nothing(service, fp, db, wallet_id, call, faults, types):
    """Fail each write of ``call()`` in turn: nothing of it is stored or published;
    then it succeeds and stores and publishes ``types`` once, in that order."""
    published = service.broker.published
    before, n_published = _state(db, wallet_id), len(published)
    for commands, skip in faults:
        fp.fail(commands, skip=skip)
        with pytest.raises(Exception):
            await call()
        fp.off()
        # never the state change without its notifications, nor the other way round
        assert _state(db, wallet_id) == before, (commands, skip)
        assert len(published) == n_published, ("published a write that did not commit", commands, skip)
    result = await call()
    after = _state(db, wallet_id)
    added = list(after["notifications"])
    for t in before["notifications"]:
        added.remove(t)
    assert sorted(added) == sorted(types)
    # published after the commit, in order, exactly what was stored
    sent = published[n_published:]
    assert [m["type"] for m in sent] == types
    for m in sent:
        stored = db.notifications.find_one({"id": m["id"]}, {"_id": 0})
        assert stored == {k: v for k, v in m.items() if k != "_id"}
    return result


# ----------------------------------------------------------------------------- finding 7


@pytest_twisted.ensureDeferred
async def test_publish_and_its_notification_commit_together(faulty):
    service, fp, db, ex = faulty
    w, (me,), (keys,) = await _funded(service, ex, 1, 1)
    t = await _proposal_of(me, keys, publish=False)
    # publish writes (one transaction): the proposal (pending), NewTxProposal
    r = await _all_or_nothing(
        service, fp, db, w.id,
        lambda: me.publish_tx({"txProposalId": t["id"], "proposalSignature": proposal_signature(t, keys)}),
        [(["update"], 0), (["insert"], 0)], ["NewTxProposal"],
    )  # fmt: skip
    assert r["status"] == "pending"


@pytest_twisted.ensureDeferred
async def test_sign_and_its_notifications_commit_together(faulty):
    service, fp, db, ex = faulty
    w, (me,), (keys,) = await _funded(service, ex, 1, 1)
    t = await _proposal_of(me, keys)
    # sign writes: the proposal (accepted), TxProposalAcceptedBy, TxProposalFinallyAccepted
    r = await _all_or_nothing(
        service, fp, db, w.id, lambda: me.sign_tx({"txProposalId": t["id"], "signatures": sign_txp(t, keys)}),
        [(["update"], 0), (["insert"], 0), (["insert"], 1)], ["TxProposalAcceptedBy", "TxProposalFinallyAccepted"],
    )  # fmt: skip
    assert r["status"] == "accepted"


@pytest_twisted.ensureDeferred
async def test_reject_and_its_notifications_commit_together(faulty):
    service, fp, db, ex = faulty
    w, (a, b), keys = await _funded(service, ex, 2, 2)
    t = await _proposal_of(a, keys[0])
    # 2-of-2: one rejection rejects; writes: the proposal, TxProposalRejectedBy, TxProposalFinallyRejected
    r = await _all_or_nothing(
        service, fp, db, w.id, lambda: b.reject_tx({"txProposalId": t["id"], "reason": "no"}),
        [(["update"], 0), (["insert"], 0), (["insert"], 1)], ["TxProposalRejectedBy", "TxProposalFinallyRejected"],
    )  # fmt: skip
    assert r["status"] == "rejected"


@pytest_twisted.ensureDeferred
async def test_remove_and_its_notification_commit_together(faulty):
    service, fp, db, ex = faulty
    w, (me,), (keys,) = await _funded(service, ex, 1, 1)
    t = await _proposal_of(me, keys)
    # remove writes: the proposal deleted, TxProposalRemoved
    r = await _all_or_nothing(
        service, fp, db, w.id, lambda: me.remove_pending_tx({"txProposalId": t["id"]}),
        [(["delete"], 0), (["insert"], 0)], ["TxProposalRemoved"],
    )  # fmt: skip
    assert r == {"success": True} and db.txs.find_one({"id": t["id"]}) is None


@pytest_twisted.ensureDeferred
async def test_create_address_and_its_notification_commit_together(faulty):
    service, fp, db, _ex = faulty
    w = await create_and_join(service, 1, 1)
    me = w.as_copayer(service)
    await me.create_address({})
    # createAddress writes: the address (upsert), the wallet's receive index, NewAddress
    r = await _all_or_nothing(
        service, fp, db, w.id, lambda: me.create_address({}),
        [(["update"], 0), (["update"], 1), (["insert"], 0)], ["NewAddress"],
    )  # fmt: skip
    assert r["path"] == "m/0/1" and db.wallets.find_one({"id": w.id})["addressManager"]["receiveAddressIndex"] == 2


# ----------------------------------------------------------------------------- finding 6


@pytest_twisted.ensureDeferred
async def test_transient_transaction_errors_are_retried(faulty):
    service, fp, db, ex = faulty
    w, (me,), (keys,) = await _funded(service, ex, 1, 1)
    n_published = len(service.broker.published)
    # WriteConflict on a statement, then on the commit: the whole transaction is run again
    for commands in (["update"], ["insert"], ["commitTransaction"]):
        fp.fail(commands, times=3, code=WRITE_CONFLICT)
        a = await me.create_address({})
        fp.off()
        assert db.addresses.count_documents({"walletId": w.id, "address": a["address"]}) == 1, commands
    # a commit whose outcome is unknown (the connection drops) is retried as a commit: applied once
    t = await _proposal_of(me, keys)
    fp.admin.admin.command({
        "configureFailPoint": "failCommand", "mode": {"times": 2},
        "data": {"failCommands": ["commitTransaction"], "closeConnection": True, "appName": fp.app},
    })
    r = await me.sign_tx({"txProposalId": t["id"], "signatures": sign_txp(t, keys)})
    fp.off()
    assert r["status"] == "accepted"
    types = _state(db, w.id)["notifications"]
    assert types.count("NewAddress") == 4 and types.count("TxProposalAcceptedBy") == 1
    assert [m["type"] for m in service.broker.published[n_published:]] == [
        "NewAddress", "NewAddress", "NewAddress", "NewTxProposal", "TxProposalAcceptedBy", "TxProposalFinallyAccepted"
    ]


@pytest_twisted.ensureDeferred
async def test_transient_errors_past_the_budget_raise_storage_busy(faulty):
    from bws.errors import StorageBusy

    service, fp, db, _ex = faulty
    service.storage.mongo.transaction_timeout_ms = 1500
    w = await create_and_join(service, 1, 1)
    me = w.as_copayer(service)
    before = _state(db, w.id)
    fp.fail(["update"], times=10**6, code=WRITE_CONFLICT)
    started = time.monotonic()
    try:
        with pytest.raises(StorageBusy):
            await me.create_address({})
    finally:
        fp.off()
    assert 1.0 < time.monotonic() - started < 6.0  # retried for the budget, then given up
    assert _state(db, w.id) == before
    assert (await me.create_address({}))["path"] == "m/0/0"


@pytest.fixture
def bws_db(mongo_server):
    name = "atomic_" + uuid.uuid4().hex[:10]
    yield name
    with mongo_server.sync_client() as c:
        c.drop_database(name)


def test_write_conflicts_answer_503_over_http_not_500(mongo_server, bws_db, tmp_path):
    """A real ``python -m bws``: a write conflict that does not clear in time is a 503."""
    app = "bws-wc-" + uuid.uuid4().hex[:6]
    p = start_bws(mongo_server.uri(bws_db) + f"?appName={app}", tmp_path)
    admin = mongo_server.sync_client()
    fp = FailPoints(admin, app)
    db = admin[bws_db]
    try:
        http = requests.Session()
        wallet_id, _key, (me,) = create_wallet_http(http, p.base)
        before = _state(db, wallet_id)
        fp.fail(["update"], times=10**6, code=WRITE_CONFLICT)
        started = time.monotonic()
        r = signed_request(http, p.base, "POST", "/v3/addresses/", {}, me)
        elapsed = time.monotonic() - started
        fp.off()
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "SERVICE_UNAVAILABLE" and "Traceback" not in r.text
        assert 3.0 < elapsed < 15.0  # retried for transactionTimeoutMS (default 5000), then answered
        assert _state(db, wallet_id) == before  # nothing half-written
        r = signed_request(http, p.base, "POST", "/v3/addresses/", {}, me)
        assert r.status_code == 200 and r.json()["path"] == "m/0/0", r.text
        assert _state(db, wallet_id)["notifications"].count("NewAddress") == 1
    finally:
        fp.off()
        admin.close()
        p.stop()


def test_kill_9_mid_transaction_answers_503_not_500(tmp_path):
    """The review's case: an API killed (SIGKILL) inside a createAddress
    transaction leaves it open on the server, holding the wallet document
    until the server's transaction lifetime (60 s) ends; another API's writes
    to that wallet then conflict. They are retried, then answered 503, and
    nothing of the killed request is visible. Own SecantusDB process: the open
    transaction would otherwise outlive the test on the shared server."""
    port = free_port()

    def ready():
        with MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=300) as c:
            c.admin.command("ping")
        return True

    server = ManagedProcess("secantus_kill9", server_argv("127.0.0.1", port, ":memory:", test_commands=True),
                            ready=ready, log_dir=tmp_path, timeout=30).start()
    admin = MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=5000)
    uri = f"mongodb://127.0.0.1:{port}/kill9"
    victim = start_bws(uri + "?appName=victim", tmp_path / "victim", name="bws-victim")
    survivor = None
    try:
        http = requests.Session()
        wallet_id, _key, (me,) = create_wallet_http(http, victim.base)
        assert signed_request(http, victim.base, "POST", "/v3/addresses/", {}, me).status_code == 200
        before = _state(admin.kill9, wallet_id)
        # hold the next createAddress inside its transaction, at the wallet write (after the address)
        admin.admin.command({
            "configureFailPoint": "failCommand", "mode": {"skip": 1, "times": 1},
            "data": {"failCommands": ["update"], "blockConnection": True, "blockTimeMS": 2000, "appName": "victim"},
        })

        def doomed():
            try:
                signed_request(requests.Session(), victim.base, "POST", "/v3/addresses/", {}, me, timeout=30)
            except requests.RequestException:
                pass  # the process is killed under it

        t = threading.Thread(target=doomed, daemon=True)
        t.start()
        time.sleep(1.0)
        victim.proc.kill()  # SIGKILL: no abort, no commit
        victim.proc.proc.wait(10)  # reaped: a dead pid, not a zombie, for the next API's start-up checks
        t.join(10)
        time.sleep(2.0)  # the blocked write runs in the now orphaned transaction
        survivor = start_bws(uri, tmp_path / "survivor", name="bws-survivor")
        started = time.monotonic()
        r = signed_request(http, survivor.base, "POST", "/v3/addresses/", {}, me)
        elapsed = time.monotonic() - started
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "SERVICE_UNAVAILABLE" and "Traceback" not in r.text
        assert elapsed > 3.0  # retried (transactionTimeoutMS, 5 s) before giving up
        assert _state(admin.kill9, wallet_id) == before  # neither the killed request's address nor its notification
        r = signed_request(http, survivor.base, "GET", "/v1/addresses/", copayer=me)  # reads are not blocked
        assert r.status_code == 200 and [a["address"] for a in r.json()] == before["addresses"], r.text
    finally:
        admin.admin.command({"configureFailPoint": "failCommand", "mode": "off"})
        admin.close()
        if survivor is not None:
            survivor.stop()
        victim.stop()
        server.stop()


# ----------------------------------------------------------------------------- finding 8


@pytest.fixture
def service(chain_service):  # the `api` fixture serves this one
    return chain_service


async def _accepted_and_broadcast_elsewhere(service, litecoind):
    """A 1-of-1 testnet wallet whose accepted proposal was pushed to the node by someone else."""
    keys = CopayerKeys.random("testnet")
    w = await create_and_join(service, 1, 1, network="testnet", copayers=[keys])
    me = w.as_copayer(service)
    await fund(me, litecoind, "0.1")
    t = await me.create_tx({"outputs": [{"toAddress": litecoind.new_address(), "amount": 1_000_000}],
                            "feePerKb": 10_000})
    t = await me.publish_tx({"txProposalId": t["id"], "proposalSignature": proposal_signature(t, keys)})
    t = await me.sign_tx({"txProposalId": t["id"], "signatures": sign_txp(t, keys)})
    assert t["status"] == "accepted"
    assert await me.broadcast_raw_tx({"network": "testnet", "rawTx": t["raw"]}) == t["txid"]
    return w, me, keys, t


async def _gather(ds):
    return await defer.gatherResults([defer.ensureDeferred(d) for d in ds], consumeErrors=True)


@pytest_twisted.ensureDeferred
async def test_concurrent_pending_lists_mark_a_third_party_broadcast_once(api, litecoind):
    service = api.service
    w, me, keys, t = await _accepted_and_broadcast_elsewhere(service, litecoind)
    n_published = len(service.broker.published)
    responses = await _gather([api.client.get("/v1/txproposals/", keys) for _ in range(20)])
    assert [r.status for r in responses] == [200] * 20, [r.text for r in responses if r.status != 200]
    assert all(r.json == [] for r in responses)
    outgoing = await notifications(service, w.id, {"NewOutgoingTx", "NewOutgoingTxByThirdParty"})
    assert [(n["type"], n["data"]["txid"]) for n in outgoing] == [("NewOutgoingTxByThirdParty", t["txid"])]
    assert [m["type"] for m in service.broker.published[n_published:]] == ["NewOutgoingTxByThirdParty"]
    assert (await me.get_tx({"txProposalId": t["id"]}))["status"] == "broadcasted"


@pytest_twisted.ensureDeferred
async def test_monitor_racing_the_pending_list_marks_once(api, litecoind):
    service = api.service
    w, me, keys, t = await _accepted_and_broadcast_elsewhere(service, litecoind)
    monitor = make_monitor(service.storage, None, LocalBroker(), third_party_delay=0, lock=service.lock)
    calls = [api.client.get("/v1/txproposals/", keys) for _ in range(10)]
    calls += [monitor._mark_third_party(t["txid"]) for _ in range(3)]
    results = await _gather(calls)
    assert [r.status for r in results[:10]] == [200] * 10
    outgoing = await notifications(service, w.id, {"NewOutgoingTx", "NewOutgoingTxByThirdParty"})
    assert len(outgoing) == 1 and outgoing[0]["data"]["txid"] == t["txid"]
    assert (await me.get_tx({"txProposalId": t["id"]}))["status"] == "broadcasted"


@pytest_twisted.ensureDeferred
async def test_monitors_mark_a_third_party_broadcast_once(storage):
    txid = "ab" * 32
    await storage.proposals.store(_proposal("wM", txid, "accepted"))
    btc_broker, evm_broker = LocalBroker(), LocalBroker()
    lock = LocalLock(reactor)  # both monitors' wallet lock (one locker across processes in production)
    btc = make_monitor(storage, None, btc_broker, third_party_delay=0, lock=lock)
    notifier = Notifier(storage, evm_broker, NotificationIds())
    evm = EvmMonitor(storage, MonitorNotices(notifier), None, reactor, coin="eth",
                     broadcasts=BroadcastMarks(storage, notifier, lock, reactor))
    await _gather([btc._mark_third_party(txid) for _ in range(5)] + [evm._third_party(txid) for _ in range(5)])
    notes = [n for n in await storage.notifications.fetch(["wM"]) if n["type"] == "NewOutgoingTxByThirdParty"]
    assert len(notes) == 1 and notes[0]["data"]["txid"] == txid
    assert len(btc_broker.published) + len(evm_broker.published) == 1
    assert (await storage.proposals.fetch("wM", "txp-" + txid[-4:]))["status"] == "broadcasted"
