"""Issue 15, findings 10 and 11 (operations).

Finding 10: two ``python -m bws`` on one database with ``lockOpts.mode: local``
lost a join and let two proposals spend one UTXO. The process registry
(bws/process_registry.py, collection ``processes``) now refuses to start an API
process when a local lock or broker meets another live one: exit 2, one line
naming the key and the other process. Real processes on the session SecantusDB
(and Redis for the allowed case); the registry's rules against the same server.

Finding 11: with the database frozen (SIGSTOP), requests hung 25-28 s before
503 and ``GET /v1/health`` answered 500. Now every database operation of the API
is bounded by ``storageOpts.mongoDb.timeoutMS`` and each health check answers
within 2 s. A dedicated SecantusDB process is frozen (never the shared one).
"""

from __future__ import annotations

import asyncio
import datetime
import os
import signal
import socket
import subprocess
import sys
import time
import types
import uuid

import pytest
import pytest_twisted
import requests
from twisted.internet import defer, reactor, task

from bws.aio import as_deferred
from bws.adapters.broker.local import LocalBroker
from bws.config import ConfigError, config_from_dict
from bws.adapters.lock.local import LocalLock
from bws.errors import StorageUnavailable
from bws.http.health import check_health
from bws.process_registry import STALE_AFTER, ProcessRegistry, new_entry
from tests.bws_process import create_wallet_http, signed_request, start_bws
from tests.helpers import db
from tests.helpers.keys import WalletKey
from tests.servers.proc import free_port
from tests.integration.test_faults import _secantus

pytestmark = pytest.mark.timeout(180)


def _registered(mongo_server, mongo_uri) -> list[dict]:
    with mongo_server.sync_client() as c:
        return list(c[mongo_uri.rsplit("/", 1)[1]].processes.find({}, {"_id": 0}))


def _refused(mongo_uri, log_dir, **env) -> str:
    """Start a ``python -m bws`` that must exit 2 at start-up; its whole output, one line."""
    with pytest.raises(RuntimeError) as e:
        p = start_bws(mongo_uri, log_dir, name="refused", **env)
        p.stop()
    assert "refused exited with 2" in str(e.value), str(e.value)
    out = (log_dir / "refused.log").read_text()
    assert out.count("\n") == 1 and out.startswith("bws: configuration error: "), out
    return out.strip()


# ----------------------------------------------------------------------------- finding 10: real processes


def test_second_api_process_with_local_lock_refused(mongo_server, mongo_uri, tmp_path):
    first = start_bws(mongo_uri, tmp_path / "first", name="bws_first")  # lockOpts.mode / broker: local
    try:
        out = _refused(mongo_uri, tmp_path / "second")
        line = out
        assert line.startswith("bws: configuration error: lockOpts.mode: 'local' allows only one API process"), line
        assert f"pid {first.proc.pid} on host {socket.gethostname()}" in line, line
        assert "set lockOpts.mode to 'locker' or 'redis'" in line
        # the first one keeps serving; the refused one left no entry behind
        assert requests.get(first.base + "/v1/version/", timeout=5).status_code == 200
        entries = _registered(mongo_server, mongo_uri)
        assert [(e["kind"], e["pid"], e["lockMode"], e["brokerMode"]) for e in entries] == [
            ("bws", first.proc.pid, "local", "local")
        ]
        assert isinstance(entries[0]["heartbeatAt"], datetime.datetime)
    finally:
        first.stop()
    # a clean shutdown removes the entry: the next single process starts
    assert _registered(mongo_server, mongo_uri) == []
    again = start_bws(mongo_uri, tmp_path / "again", name="bws_again")
    again.stop()


def test_api_processes_with_redis_lock_and_broker_share_a_database(mongo_server, mongo_uri, redis_server, tmp_path):
    shared = {"BWS_REDIS_URL": redis_server.url, "BWS_LOCK_MODE": "redis", "BWS_BROKER_MODE": "redis"}
    p1 = start_bws(mongo_uri, tmp_path / "one", name="bws1", **shared)
    p2 = start_bws(mongo_uri, tmp_path / "two", name="bws2", **shared)
    try:
        http = requests.Session()
        _wid, _key, (copayer,) = create_wallet_http(http, p1.base)
        assert signed_request(http, p2.base, "GET", "/v2/wallets/", copayer=copayer).status_code == 200
        entries = _registered(mongo_server, mongo_uri)
        assert sorted(e["pid"] for e in entries) == sorted([p1.proc.pid, p2.proc.pid])
        assert {(e["lockMode"], e["brokerMode"]) for e in entries} == {("redis", "redis")}
        # a third one with a local lock, or with a local broker, may not join them
        out = _refused(mongo_uri, tmp_path / "three", **{**shared, "BWS_LOCK_MODE": "local"})
        assert "configuration error: lockOpts.mode: 'local' allows only one API process" in out, out
        out = _refused(mongo_uri, tmp_path / "four", **{**shared, "BWS_BROKER_MODE": "local"})
        assert "configuration error: messageBrokerOpts.mode: 'local' allows only one API process" in out, out
        assert "set messageBrokerOpts.mode to 'websocket' or 'redis'" in out
        assert len(_registered(mongo_server, mongo_uri)) == 2
    finally:
        p1.stop()
        p2.stop()


# ----------------------------------------------------------------------------- finding 10: registry rules


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


async def _foreign(storage, age: float, lock: str = "local", broker: str = "local", **fields) -> dict:
    """An entry of another host, its heartbeat ``age`` seconds old."""
    entry = {**new_entry("bws", lockMode=lock, brokerMode=broker), "host": "other-host", "pid": 4242, **fields}
    await storage.processes.register(entry)
    beat = _utcnow() - datetime.timedelta(seconds=age)
    db.update_one(storage, "processes", {"id": entry["id"]}, {"$set": {"heartbeatAt": beat}})
    return entry


def _me(storage, lock: str = "local", broker: str = "local") -> ProcessRegistry:
    return ProcessRegistry(storage, reactor, new_entry("bws", lockMode=lock, brokerMode=broker))


async def _ids(storage) -> set[str]:
    return {e["id"] for e in await storage.processes.fetch("bws")}


@pytest_twisted.ensureDeferred
async def test_registry_ignores_stale_entries_and_names_live_ones(storage):
    stale = await _foreign(storage, age=STALE_AFTER + 30)
    me = _me(storage)
    await me.register_api()  # a crashed process's entry does not block anybody
    assert await _ids(storage) == {stale["id"], me.id}
    await me.stop()
    assert await _ids(storage) == {stale["id"]}

    live = await _foreign(storage, age=1, lock="redis", broker="redis")
    refused = _me(storage)
    with pytest.raises(ConfigError) as e:
        await refused.register_api()
    msg = str(e.value)
    assert msg.startswith("lockOpts.mode: 'local' allows only one API process per database"), msg
    assert "pid 4242 on host other-host (lockOpts.mode 'redis', last heartbeat 1 s ago)" in msg, msg
    assert "may have crashed" not in msg and "\n" not in msg
    assert await _ids(storage) == {stale["id"], live["id"]}  # the refused process removed its entry
    await storage.processes.remove(live["id"])

    # an entry two beats late may be a crashed process: the message says when it stops counting
    late = await _foreign(storage, age=20)
    with pytest.raises(ConfigError) as e:
        await _me(storage).register_api()
    assert "last heartbeat 20 s ago, it may have crashed: its entry is ignored 30 s after its last heartbeat" in str(e.value)
    await storage.processes.remove(late["id"])


@pytest_twisted.ensureDeferred
async def test_registry_local_mode_of_either_side_refuses(storage):
    other = await _foreign(storage, age=0, lock="local", broker="redis")
    with pytest.raises(ConfigError) as e:
        await _me(storage, lock="redis", broker="redis").register_api()
    assert str(e.value).startswith("lockOpts.mode: another API process on this database uses 'local'"), str(e.value)
    await storage.processes.remove(other["id"])

    other = await _foreign(storage, age=0, lock="redis", broker="redis")
    with pytest.raises(ConfigError) as e:
        await _me(storage, lock="locker", broker="local").register_api()
    assert str(e.value).startswith("messageBrokerOpts.mode: 'local' allows only one API process"), str(e.value)
    shared = _me(storage, lock="locker", broker="websocket")
    await shared.register_api()
    assert await _ids(storage) == {other["id"], shared.id}
    await shared.stop()


@pytest_twisted.ensureDeferred
async def test_registry_dead_predecessor_on_this_host_is_removed(storage):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    crashed = {**new_entry("bws", lockMode="local", brokerMode="local"), "pid": dead.pid}
    await storage.processes.register(crashed)  # fresh heartbeat, but its pid is gone
    me = _me(storage)
    await me.register_api()
    assert await _ids(storage) == {me.id}
    await me.stop()

    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        running = {**new_entry("bws", lockMode="local", brokerMode="local"), "pid": alive.pid}
        await storage.processes.register(running)
        with pytest.raises(ConfigError) as e:
            await _me(storage).register_api()
        assert f"pid {alive.pid} on host {socket.gethostname()}" in str(e.value)
        assert await _ids(storage) == {running["id"]}
    finally:
        alive.kill()
        alive.wait()


@pytest_twisted.ensureDeferred
async def test_registry_simultaneous_starts_refuse_at_least_one(storage):
    for _ in range(5):
        # two hosts (in one test process they would share a pid: a dead predecessor's mark)
        pair = [ProcessRegistry(storage, reactor, {**new_entry("bws", lockMode="local", brokerMode="local"),
                                                   "host": host}) for host in ("host-a", "host-b")]
        results = await defer.DeferredList([defer.ensureDeferred(r.register_api()) for r in pair], consumeErrors=True)
        started = [r for r, (ok, _) in zip(pair, results) if ok]
        refused = [f for ok, f in results if not ok]
        assert len(started) <= 1 and len(refused) >= 1
        assert all(f.check(ConfigError) for f in refused)
        assert await _ids(storage) == {r.id for r in started}
        for r in started:
            await r.stop()


@pytest_twisted.ensureDeferred
async def test_registry_heartbeat_survives_faults_and_stop_removes(storage):
    clock = task.Clock()
    me = ProcessRegistry(storage, clock, new_entry("bws", lockMode="local", brokerMode="local"), interval=10)
    await me.register_api()
    me.start_heartbeat()

    async def beat_and_read() -> dict:
        await task.deferLater(reactor, 0.01)  # server clock: a later millisecond
        clock.advance(10)
        for _ in range(200):
            await task.deferLater(reactor, 0.01)
            if not me._loop or me._loop.call is not None:  # the beat finished and the next one is due
                break
        return next(e for e in await storage.processes.fetch("bws") if e["id"] == me.id)

    first = (await storage.processes.fetch("bws"))[0]["heartbeatAt"]
    second = (await beat_and_read())["heartbeatAt"]
    assert second > first
    # a failing beat (database down) is logged and the loop goes on
    real_touch = storage.processes.touch

    async def down(_id):
        raise StorageUnavailable("database down")

    storage.processes.touch = down
    await beat_and_read()
    storage.processes.touch = real_touch
    assert me._loop.running
    # an entry that disappeared is written again by the next beat
    await storage.processes.remove(me.id)
    assert (await beat_and_read())["lockMode"] == "local"
    await me.stop()
    assert await _ids(storage) == set() and clock.getDelayedCalls() == []


# ----------------------------------------------------------------------------- finding 11: frozen database


def _wait_stopped(pid: int) -> None:
    """Until the kernel reports the process stopped (SIGSTOP is asynchronous)."""
    for _ in range(500):
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "T":
                return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} did not stop")


def test_frozen_database_health_503_and_bounded_requests_then_recovery(tmp_path):
    port = free_port()
    db = _secantus(port, ":memory:", tmp_path)
    api = start_bws(f"mongodb://127.0.0.1:{port}/frozen", tmp_path / "bws",
                    BWS__storageOpts__mongoDb__timeoutMS="2500")
    http = requests.Session()
    frozen = False
    try:
        _wid, _key, (copayer,) = create_wallet_http(http, api.base)
        assert requests.get(api.base + "/v1/health/", timeout=5).status_code == 200
        os.kill(db.pid, signal.SIGSTOP)
        frozen = True
        _wait_stopped(db.pid)
        for _ in range(2):  # the first request after the freeze and a later one
            t = time.monotonic()
            r = requests.get(api.base + "/v1/health/", timeout=20)
            took = time.monotonic() - t
            assert r.status_code == 503, (r.status_code, r.text)
            checks = r.json()["checks"]
            assert r.json()["status"] == "fail" and checks["database"]["ok"] is False, r.text
            # the check's own 2 s, shorter than the database's 2.5 s
            assert checks["database"]["error"] == "no answer in 2s", checks
            assert checks["lock"]["ok"] and checks["broker"]["ok"]
            assert took < 3.0, took
            for method, path, body, signer in (
                ("GET", "/v2/wallets/", None, copayer),
                ("POST", "/v2/wallets/", {"name": "x", "m": 1, "n": 1, "pubKey": WalletKey.random().pub}, None),
            ):
                t = time.monotonic()
                r = signed_request(http, api.base, method, path, body, signer, timeout=20)
                took = time.monotonic() - t
                assert r.status_code == 503 and r.json()["code"] == "SERVICE_UNAVAILABLE", (r.status_code, r.text)
                assert took < 4.0, (path, took)  # timeoutMS 2.5 s, plus a margin for a loaded machine
        os.kill(db.pid, signal.SIGCONT)
        frozen = False
        deadline = time.monotonic() + 20
        while True:
            r = signed_request(http, api.base, "GET", "/v2/wallets/", copayer=copayer)
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert r.status_code == 200, r.text
        assert requests.get(api.base + "/v1/health/", timeout=5).status_code == 200
        assert api.proc.alive()  # recovered without a restart
        assert "Traceback" not in api.proc.tail(100_000)
    finally:
        if frozen:
            os.kill(db.pid, signal.SIGCONT)
        api.stop()
        db.stop()


def test_database_operation_timeout_is_503_not_500(mongo_server, mongo_uri, tmp_path):
    """MongoDB answers MaxTimeMSExpired (code 50) when the timeoutMS it was sent runs out
    on the server (a slow, not frozen, database): pymongo's ExecutionTimeout."""
    app = "slowdb-" + uuid.uuid4().hex[:8]
    api = start_bws(mongo_uri + f"?appName={app}", tmp_path)
    admin = mongo_server.sync_client()
    try:
        http = requests.Session()
        _wid, _key, (copayer,) = create_wallet_http(http, api.base)
        admin.admin.command({"configureFailPoint": "failCommand", "mode": {"times": 1},
                             "data": {"failCommands": ["find"], "errorCode": 50, "appName": app}})
        r = signed_request(http, api.base, "GET", "/v2/wallets/", copayer=copayer)
        assert r.status_code == 503 and r.json()["code"] == "SERVICE_UNAVAILABLE", (r.status_code, r.text)
        assert signed_request(http, api.base, "GET", "/v2/wallets/", copayer=copayer).status_code == 200
    finally:
        admin.admin.command({"configureFailPoint": "failCommand", "mode": "off"})
        admin.close()
        api.stop()


@pytest_twisted.ensureDeferred
async def test_health_answers_in_time_when_a_cancelled_check_does_not_stop():
    """pymongo ends a cancelled server selection only when the selection itself
    ends (and with asyncio.CancelledError, a BaseException): health used to wait
    for it and then answer 500."""

    async def stubborn():
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            await asyncio.sleep(1.5)
            raise

    class FrozenStorage:
        def ping(self):
            return as_deferred(stubborn())

    service = types.SimpleNamespace(storage=FrozenStorage(), broker=LocalBroker(), lock=LocalLock(reactor), explorers={})
    t = time.monotonic()
    ok, checks = await check_health(service, timeout=0.3, clock=reactor)
    assert time.monotonic() - t < 1.0
    assert not ok and checks["database"]["ok"] is False and checks["database"]["error"] == "no answer in 0.3s"
    assert checks["lock"]["ok"] and checks["broker"]["ok"]
    await task.deferLater(reactor, 1.7)  # the abandoned check ends quietly (no unhandled error)


def test_database_timeout_config_validated(tmp_path):
    assert config_from_dict({}).storageOpts.mongoDb.timeoutMS == 3000
    assert config_from_dict({"storageOpts": {"mongoDb": {"timeoutMS": 1500}}}).storageOpts.mongoDb.timeoutMS == 1500
    for bad in (0, -1, 300_001, "5s", 2.5):
        with pytest.raises(ConfigError) as e:
            config_from_dict({"storageOpts": {"mongoDb": {"timeoutMS": bad}}})
        assert str(e.value).startswith("storageOpts.mongoDb.timeoutMS: must be an integer"), str(e.value)
    r = subprocess.run([sys.executable, "-m", "bws"], capture_output=True, text=True, timeout=60, cwd=str(tmp_path),
                       env={**os.environ, "BWS_CONFIG": "", "BWS__storageOpts__mongoDb__timeoutMS": "0"})
    assert r.returncode == 2 and r.stderr.startswith("bws: configuration error: storageOpts.mongoDb.timeoutMS:"), r.stderr
