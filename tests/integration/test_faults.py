"""Fault handling (issue 10).

* A write failing in the middle of joining a wallet, creating a proposal or
  broadcasting leaves no partial state: SecantusDB's ``failCommand`` fail point
  (``--enable-test-commands``) fails the n-th write of the service's own
  connection (scoped by ``appName``); the database is read after each fault.
* The database unreachable -> 503 SERVICE_UNAVAILABLE quickly, and the API
  recovers by itself when the server is back (real ``python -m bws`` and a
  SecantusDB process stopped and restarted on the same port).
* A node RPC that is down or never answers -> a clear error within the
  configured timeout, never a hung request.
* The locker down -> WALLET_BUSY, then recovery when it comes back; the
  broker down -> the notification is stored (consumers read the store) and the
  request succeeds.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
import uuid

import pytest
import pytest_twisted
import requests
from pymongo import MongoClient
from twisted.internet import reactor

from bws.adapters.broker.ws import WebSocketBroker
from bws.http.app import BwsApi
from bws.chains.address import script_for_address
from ops.embedded_db import server_argv
from bws.errors import ClientError, ServerError
from bws.adapters.explorers.bitcoind import BitcoindExplorer
from bws.adapters.lock.local import LocalLock
from bws.adapters.lock.locker import LockerClient
from bws.model import format_notification_id, notification_id_ms
from tests.helpers.services import ServicesForTests
from bws.storage import Storage
from tests.bws_process import create_wallet_http, signed_request, start_bws
from tests.helpers.client import TestClient
from tests.helpers.fixtures import Clock, make_service
from tests.helpers.keys import CopayerKeys, WalletKey
from tests.helpers.wallets import create_and_join, join_opts
from tests.servers.proc import ROOT, ManagedProcess, free_port, port_open
from tests.helpers.proposals import FakeExplorer, proposal_signature, sign_txp

pytestmark = pytest.mark.timeout(120)


# ----------------------------------------------------------------------------- fail points


class FailPoints:
    """Arm ``failCommand`` for one application name only (other tests' and the
    checking client's commands are never failed)."""

    def __init__(self, admin: MongoClient, app: str):
        self.admin = admin
        self.app = app

    def fail(self, commands: list[str], skip: int = 0, times: int = 1, code: int = 2) -> None:
        self.admin.admin.command({
            "configureFailPoint": "failCommand", "mode": {"skip": skip, "times": times},
            "data": {"failCommands": commands, "errorCode": code, "appName": self.app},
        })

    def off(self) -> None:
        self.admin.admin.command({"configureFailPoint": "failCommand", "mode": "off"})


@pytest_twisted.async_yield_fixture
async def faulty(mongo_server, mongo_uri):
    """(service on a connection named for the fail points, FailPoints, sync db for checks, FakeExplorer)."""
    app = "faulty-" + uuid.uuid4().hex[:8]
    storage = await Storage(mongo_uri + f"?appName={app}").connect()
    ex = FakeExplorer()
    service = make_service(storage, {(c, n): ex for c in ("btc",) for n in ("livenet", "testnet")})
    admin = mongo_server.sync_client()
    fp = FailPoints(admin, app)
    db = admin[mongo_uri.rsplit("/", 1)[1]]
    yield service, fp, db, ex
    fp.off()
    admin.close()
    await storage.close()


def _snapshot(db, wallet_id: str) -> dict:
    """Everything stored about one wallet (ids and versions only where they change)."""
    w = db.wallets.find_one({"id": wallet_id}, {"_id": 0, "_rev": 0})
    return {
        "wallet": w,
        "lookups": sorted(d["copayerId"] for d in db.copayers_lookup.find({"walletId": wallet_id})),
        "txs": sorted((d["id"], d["status"]) for d in db.txs.find({"walletId": wallet_id})),
        "addresses": sorted(d["address"] for d in db.addresses.find({"walletId": wallet_id})),
        "notifications": sorted(d["type"] for d in db.notifications.find({"walletId": wallet_id})),
    }


@pytest_twisted.ensureDeferred
async def test_join_write_failure_leaves_nothing(faulty):
    service, fp, db, _ex = faulty
    key = WalletKey.random()
    w = await create_and_join(service, 2, 3, key=key, join=1)
    newcomer = CopayerKeys.random("livenet", "BIP44")
    before = _snapshot(db, w.id)
    # join writes: delete old lookups, insert lookups, replace the wallet (one transaction)
    for commands, skip in ((["delete"], 0), (["insert"], 0), (["update"], 0)):
        fp.fail(commands, skip=skip)
        with pytest.raises(Exception):
            await service.join_wallet(join_opts(w.id, key, newcomer, name="late"))
        fp.off()
        assert _snapshot(db, w.id) == before, commands
        assert db.copayers_lookup.find_one({"copayerId": newcomer.copayer_id("btc")}) is None
    # the same join then succeeds: no COPAYER_REGISTERED left behind by the failures
    r = await service.join_wallet(join_opts(w.id, key, newcomer, name="late"))
    assert r["copayerId"] == newcomer.copayer_id("btc") and len(r["wallet"]["copayers"]) == 2
    after = _snapshot(db, w.id)
    assert len(after["lookups"]) == 2 and after["notifications"].count("NewCopayer") == 2


def _join_notes(db, wallet_id: str) -> list[dict]:
    """The wallet's NewCopayer / WalletComplete notifications in id order."""
    return [
        {k: d.get(k) for k in ("id", "type", "data", "walletId", "creatorId")}
        for d in db.notifications.find({"walletId": wallet_id, "type": {"$in": ["NewCopayer", "WalletComplete"]}})
        .sort("id", 1)
    ]


@pytest_twisted.ensureDeferred
async def test_join_notifications_land_with_the_copayer(faulty):
    service, fp, db, _ex = faulty
    key = WalletKey.random()
    w = await create_and_join(service, 2, 2, key=key, join=1)
    last = CopayerKeys.random("livenet", "BIP44")
    last_id = last.copayer_id("btc")
    before = _snapshot(db, w.id)
    published = service.broker.published
    n_published = len(published)
    # the completing join writes, in one transaction: delete old lookups, insert lookups,
    # replace the wallet, insert NewCopayer, insert WalletComplete -- fail each of them
    for commands, skip in ((["delete"], 0), (["insert"], 0), (["update"], 0), (["insert"], 1), (["insert"], 2)):
        fp.fail(commands, skip=skip)
        with pytest.raises(Exception):
            await service.join_wallet(join_opts(w.id, key, last, name="last"))
        fp.off()
        assert _snapshot(db, w.id) == before, (commands, skip)
        # never the copayer without its notifications, nor the other way round
        assert db.copayers_lookup.find_one({"copayerId": last_id}) is None
        assert db.notifications.find_one({"walletId": w.id, "data.copayerId": last_id}) is None
        assert len(published) == n_published, "nothing is published for a write that did not commit"
    r = await service.join_wallet(join_opts(w.id, key, last, name="last"))
    assert r["copayerId"] == last_id and len(r["wallet"]["copayers"]) == 2
    notes = _join_notes(db, w.id)
    # the wire shape of the reference: NewCopayer (creator = the joiner), then the global WalletComplete
    assert [n["type"] for n in notes] == ["NewCopayer", "NewCopayer", "WalletComplete"]
    assert notes[1]["data"] == {"walletId": w.id, "copayerId": last_id, "copayerName": "last"}
    assert notes[1]["creatorId"] == last_id
    assert notes[2]["data"] == {"walletId": w.id} and notes[2]["creatorId"] is None
    assert "creatorId" in db.notifications.find_one({"id": notes[2]["id"]})  # null, not omitted
    # published after the commit, in the same order, as stored
    sent = [{k: m.get(k) for k in ("id", "type", "data", "walletId", "creatorId")} for m in published[n_published:]]
    assert sent == notes[1:] and all("_id" not in m for m in published[n_published:])


@pytest_twisted.ensureDeferred
async def test_join_notification_id_collision_renews_both_ids(faulty):
    service, _fp, db, _ex = faulty
    key = WalletKey.random()
    w = await create_and_join(service, 2, 2, key=key, join=1)
    last = CopayerKeys.random("livenet", "BIP44")
    # freeze the service clock one second after every id its generator gave (all stored):
    # the join's notifications then get tickers 0 and 1 of that millisecond
    latest = db.notifications.find_one({}, sort=[("id", -1)])["id"]
    ms = notification_id_ms(latest) + 1000
    service.clock = Clock(ms / 1000)
    new_copayer_id, complete_id = format_notification_id(ms, 0), format_notification_id(ms, 1)
    # another process already stored the id the WalletComplete notification will get:
    # the whole write (copayer + both notifications) aborts and is retried with fresh ids
    db.notifications.insert_one({"id": complete_id, "type": "foreign", "walletId": "elsewhere"})
    r = await service.join_wallet(join_opts(w.id, key, last, name="last"))
    assert r["copayerId"] == last.copayer_id("btc")
    notes = _join_notes(db, w.id)
    assert [n["type"] for n in notes] == ["NewCopayer", "NewCopayer", "WalletComplete"]
    assert notes[1]["id"] > complete_id and notes[2]["id"] > notes[1]["id"]  # both renewed, order kept
    assert db.notifications.find_one({"id": new_copayer_id}) is None  # the first attempt left nothing
    assert sorted(_snapshot(db, w.id)["lookups"]) == sorted(w.copayer_ids + [r["copayerId"]])
    sent = [m["id"] for m in service.broker.published[-2:]]
    assert sent == [notes[1]["id"], notes[2]["id"]]


@pytest_twisted.ensureDeferred
async def test_join_publish_failure_keeps_the_join(storage):
    class DeadBroker:
        def __init__(self):
            self.seen = []

        def publish(self, message):
            self.seen.append(message["type"])
            raise ConnectionError("broker gone")

    broker = DeadBroker()
    service = ServicesForTests(storage, LocalLock(reactor), broker, {}, clock=reactor)
    w = await create_and_join(service, 1, 2, join=1)
    other = CopayerKeys.random("livenet", "BIP44")
    r = await service.join_wallet(join_opts(w.id, w.key, other, name="second"))
    assert r["copayerId"] and broker.seen[-2:] == ["NewCopayer", "WalletComplete"]
    types = [n["type"] for n in await storage.notifications.fetch([w.id])]
    assert types == ["NewCopayer", "NewCopayer", "WalletComplete"]


async def _funded_1of1(service, ex):
    keys = CopayerKeys.random("livenet", "BIP44")
    w = await create_and_join(service, 1, 1, copayers=[keys])
    me = w.as_copayer(service)
    addr = await me.create_address({})
    ex.utxos = [{"txid": "%064x" % 7, "vout": 0, "address": addr["address"], "satoshis": 5_000_000,
                 "scriptPubKey": script_for_address(addr["address"], "btc"), "confirmations": 10,
                 "path": addr["path"], "publicKeys": addr["publicKeys"]}]
    return w, me, keys


def _dest() -> str:
    return "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"


@pytest_twisted.ensureDeferred
async def test_create_proposal_write_failure_leaves_nothing(faulty):
    service, fp, db, ex = faulty
    w, me, _keys = await _funded_1of1(service, ex)
    before = _snapshot(db, w.id)
    change_index = before["wallet"]["addressManager"]["changeAddressIndex"]
    # createTx writes (one transaction): the new change address, the wallet's change index, the proposal
    for skip in (0, 1, 2):
        fp.fail(["update", "insert"], skip=skip)
        with pytest.raises(Exception):
            await me.create_tx({"outputs": [{"toAddress": _dest(), "amount": 100_000}], "feePerKb": 10_000})
        fp.off()
        now = _snapshot(db, w.id)
        assert now == before, skip
        assert now["wallet"]["addressManager"]["changeAddressIndex"] == change_index
    t = await me.create_tx({"outputs": [{"toAddress": _dest(), "amount": 100_000}], "feePerKb": 10_000})
    after = _snapshot(db, w.id)
    assert after["txs"] == [(t["id"], "temporary")] and len(after["addresses"]) == len(before["addresses"]) + 1


@pytest_twisted.ensureDeferred
async def test_broadcast_write_failure_leaves_nothing(faulty):
    service, fp, db, ex = faulty
    w, me, keys = await _funded_1of1(service, ex)
    t = await me.create_tx({"outputs": [{"toAddress": _dest(), "amount": 100_000}], "feePerKb": 10_000})
    t = await me.publish_tx({"txProposalId": t["id"], "proposalSignature": proposal_signature(t, keys)})
    t = await me.sign_tx({"txProposalId": t["id"], "signatures": sign_txp(t, keys)})
    assert t["status"] == "accepted"
    before = _snapshot(db, w.id)
    # broadcast writes: the proposal marked broadcast + its NewOutgoingTx notification (one transaction)
    for commands in (["update"], ["insert"]):
        fp.fail(commands)
        with pytest.raises(Exception):
            await me.broadcast_tx({"txProposalId": t["id"]})
        fp.off()
        assert _snapshot(db, w.id) == before, commands
        assert db.txs.find_one({"id": t["id"]})["status"] == "accepted"
    # retried: the node already has the transaction -> marked, announced once
    ex.known[t["txid"]] = {"txid": t["txid"]}
    r = await me.broadcast_tx({"txProposalId": t["id"]})
    assert r["status"] == "broadcasted"
    after = _snapshot(db, w.id)
    outgoing = [n for n in after["notifications"] if n.startswith("NewOutgoingTx")]
    assert len(outgoing) == 1 and after["txs"] == [(t["id"], "broadcasted")]


# ----------------------------------------------------------------------------- database down


def _secantus(port: int, data: str, log_dir) -> ManagedProcess:
    def ready():
        with MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=300) as c:
            c.admin.command("ping")
        return True

    return ManagedProcess("secantus_faults", server_argv("127.0.0.1", port, data), ready=ready,
                          log_dir=log_dir, timeout=30).start()


def test_database_down_503_then_recovers(tmp_path):
    port = free_port()
    data = tmp_path / "db"
    data.mkdir()
    db = _secantus(port, str(data), tmp_path)
    api = start_bws(f"mongodb://127.0.0.1:{port}/faults", tmp_path / "bws",
                    BWS__storageOpts__mongoDb__timeoutMS="1000")
    http = requests.Session()
    try:
        _wid, _key, (copayer,) = create_wallet_http(http, api.base)
        assert signed_request(http, api.base, "GET", "/v2/wallets/", copayer=copayer).status_code == 200
        db.stop()
        for method, path, body, signer in (("GET", "/v2/wallets/", None, copayer),
                                           ("POST", "/v2/wallets/", {"name": "x", "m": 1, "n": 1,
                                                                     "pubKey": WalletKey.random().pub}, None)):
            t = time.monotonic()
            r = signed_request(http, api.base, method, path, body, signer, timeout=20)
            took = time.monotonic() - t
            assert r.status_code == 503 and r.json()["code"] == "SERVICE_UNAVAILABLE", (r.status_code, r.text)
            assert took < 5, took
            assert "Traceback" not in r.text
        assert requests.get(api.base + "/v1/version/", timeout=5).status_code == 200  # the process itself is fine
        db = _secantus(port, str(data), tmp_path)  # same port, same data
        deadline = time.monotonic() + 20
        while True:
            r = signed_request(http, api.base, "GET", "/v2/wallets/", copayer=copayer)
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert r.status_code == 200, r.text
        assert r.json()["wallet"]["copayers"][0]["id"] == copayer.copayer_id("btc")
    finally:
        api.stop()
        db.stop()


# ----------------------------------------------------------------------------- node RPC down / silent


class _SilentServer:
    """Accepts TCP connections and never answers (a hung node)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
                self.conns.append(c)
            except OSError:
                return

    def close(self):
        self.stopped = True
        for c in self.conns:
            c.close()
        self.sock.close()


#: a transaction that decodes (one input, one output) but spends nothing: it reaches the node
#: (a rawTx that does not decode is refused before, issue 15 finding 12)
WELL_FORMED_TX = "01000000" "01" + "ab" * 32 + "00000000" "00" "ffffffff" "01" "e803000000000000" "00" "00000000"


@pytest_twisted.ensureDeferred
async def test_node_down_or_silent_answers_quickly(storage):
    silent = _SilentServer()
    down_port = free_port()
    explorers = {
        ("btc", "livenet"): BitcoindExplorer("btc", "livenet", f"http://u:p@127.0.0.1:{silent.port}", reactor, timeout=1.0),
        ("btc", "testnet"): BitcoindExplorer("btc", "testnet", f"http://u:p@127.0.0.1:{down_port}", reactor, timeout=1.0),
    }
    service = make_service(storage, explorers)
    site = BwsApi(service).site()
    site.noisy = False
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    client = TestClient(f"http://127.0.0.1:{port.getHost().port}/bws/api")
    try:
        for network, words in (("livenet", "did not answer"), ("testnet", "")):
            keys = CopayerKeys.random(network, "BIP44")
            await create_and_join(service, 1, 1, network=network, copayers=[keys])
            for method, path, body in (("POST", "/v3/addresses/", {}),
                                       ("POST", "/v1/broadcast_raw/", {"network": network, "rawTx": WELL_FORMED_TX})):
                t = time.monotonic()
                r = await client.request(method, path, body, keys)
                took = time.monotonic() - t
                assert took < 4, (network, path, took)
                assert r.status == 500 and words in r.json["error"], (network, path, r.status, r.text)
                assert "u:p" not in r.text and "Traceback" not in r.text
    finally:
        await client.close()
        await port.stopListening()
        for ex in explorers.values():
            await ex.close()
        silent.close()


# ----------------------------------------------------------------------------- locker / broker down


@pytest_twisted.ensureDeferred
async def test_locker_down_wallet_busy_then_recovers(storage, tmp_path):
    port = free_port()
    lock = LockerClient("127.0.0.1", port, reactor)
    service = ServicesForTests(storage, lock, None, {}, clock=reactor, lock_wait=1.0)
    local = make_service(storage)
    w = await create_and_join(local, 1, 1)
    me = w.as_copayer(service)
    t = time.monotonic()
    with pytest.raises(ClientError) as e:
        await me.save_preferences({"language": "es"})
    assert e.value.code == "WALLET_BUSY" and time.monotonic() - t < 5
    locker = ManagedProcess("locker_faults", [sys.executable, "-m", "locker", "--port", str(port)],
                            ready=lambda: port_open(port), log_dir=tmp_path, cwd=str(ROOT)).start()
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                await me.save_preferences({"language": "es"})
                break
            except ClientError as err:
                assert err.code == "WALLET_BUSY"
                assert time.monotonic() < deadline, "no recovery after the locker came back"
        assert (await me.get_preferences({}))["language"] == "es"
    finally:
        lock.close()
        locker.stop()


@pytest_twisted.ensureDeferred
async def test_broker_down_notification_stored(storage):
    broker = WebSocketBroker(f"ws://127.0.0.1:{free_port()}", reactor).start()
    try:
        service = ServicesForTests(storage, LocalLock(reactor), broker, {}, clock=reactor)
        w = await create_and_join(service, 1, 2, join=1)
        other = CopayerKeys.random("livenet", "BIP44")
        r = await service.join_wallet(join_opts(w.id, w.key, other, name="second"))
        assert r["copayerId"]
        types = [n["type"] for n in await storage.notifications.fetch_after("", 1000) if n["walletId"] == w.id]
        assert "WalletComplete" in types and "NewCopayer" in types
    finally:
        broker.stop()



# ----------------------------------------------------------------------------- config secrets


def test_config_file_permission_warning(tmp_path, caplog):
    import json
    import logging
    import os

    from bws.config import load_config, secret_keys

    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"storageOpts": {"mongoDb": {"uri": "mongodb://bws:hunter2@127.0.0.1:27017/bws"}},
                               "emailOpts": {"password": "pw"}, "port": 3232}))
    assert secret_keys(json.loads(cfg.read_text())) == ["storageOpts.mongoDb.uri", "emailOpts.password"]
    os.chmod(cfg, 0o644)
    with caplog.at_level(logging.WARNING, logger="bws.config"):
        load_config(str(cfg), environ={})
    assert any("readable by group/others" in r.getMessage() and "chmod 600" in r.getMessage() for r in caplog.records)
    assert all("hunter2" not in r.getMessage() for r in caplog.records)
    caplog.clear()
    os.chmod(cfg, 0o600)
    with caplog.at_level(logging.WARNING, logger="bws.config"):
        load_config(str(cfg), environ={})
    assert not caplog.records
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"port": 3232, "storageOpts": {"mongoDb": {"uri": "mongodb://127.0.0.1/bws"}}}))
    os.chmod(plain, 0o644)
    with caplog.at_level(logging.WARNING, logger="bws.config"):
        load_config(str(plain), environ={})
    assert not caplog.records  # nothing secret in it


def test_explorer_timeout_configurable():
    from bws.config import config_from_dict
    from bws.runtime import make_explorer

    cfg = config_from_dict({"blockchainExplorerOpts": {"btc": {"livenet": {"url": "http://u:p@127.0.0.1:1", "timeout": 2}}}})
    opts = cfg.blockchainExplorerOpts["btc"]["livenet"]
    assert opts.timeout == 2.0
    assert make_explorer("btc", "livenet", opts, storage=None, reactor=reactor).timeout == 2.0
