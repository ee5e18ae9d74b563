"""Durable notification stream (bws/delivery/stream.py) and the one store-then-publish Notifier
(bws/services/notifier.py) against a real database; exactly-once across consumer restarts, broker
restarts and two instances, in both broker modes (websocket relay process, Redis pub/sub)."""

from __future__ import annotations

import collections
import sys
import time

import pytest
import pytest_twisted
from twisted.internet import reactor, task

from bws.adapters.broker.local import LocalBroker
from bws.adapters.broker.redis import RedisBroker
from bws.adapters.broker.ws import WebSocketBroker
from bws.model import Notification, NotificationIds
from bws.model.notification import format_notification_id
from bws.delivery.stream import StreamConsumer
from bws.services.notifier import Notifier
from tests.helpers import db
from tests.servers.proc import ROOT, ManagedProcess, free_port, port_open, require_binary


def sleep(s):
    return task.deferLater(reactor, s, lambda: None)


async def wait_until(cond, timeout=20.0, step=0.05):
    deadline = reactor.seconds() + timeout
    while not cond():
        if reactor.seconds() > deadline:
            raise AssertionError("condition not reached in time")
        await sleep(step)


def note(i, wallet="w1", type_="NewIncomingTx"):
    return Notification.create(type_, {"n": i}, wallet)


class Recorder:
    def __init__(self):
        self.ids = []

    async def __call__(self, n):
        self.ids.append(n["id"])

    def counts(self):
        return collections.Counter(self.ids)


def consumer(name, storage, broker, handler, **kw):
    kw.setdefault("start_from", "beginning")
    kw.setdefault("poll_interval", 0.5)
    return StreamConsumer(name, storage, broker, handler, reactor, **kw)


# -- Notifier -----------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_notifier_stores_first_then_publishes_and_renews_colliding_ids(storage):
    broker = LocalBroker()
    seen_in_db = []

    def on_msg(m):
        seen_in_db.append(m["id"])

    broker.on_message(on_msg)
    notifier = Notifier(storage, broker, NotificationIds())
    n = note(1)
    stored = await notifier.notify(n)
    assert broker.published == [stored] and "_id" not in stored
    assert (await storage.notifications.fetch_by_id(stored["id"]))["data"] == {"n": 1}
    # a second notification carrying the same id (another process, same millisecond) gets a new one
    clash = Notification.create("NewBlock", {}, "livenet", id=stored["id"])
    stored2 = await notifier.notify(clash)
    assert stored2["id"] != stored["id"] and stored2["id"] > stored["id"]
    assert len(await storage.notifications.fetch_after("", 10)) == 2


# -- StreamConsumer with an in-process broker ----------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_publish_failure_keeps_the_stored_notification(storage, caplog):
    """The store is the source of truth: a broker that throws on publish is
    logged, and notify() still returns the stored notification."""

    class BrokenBroker(LocalBroker):
        def publish(self, message):
            raise ConnectionError("broker down")

    with caplog.at_level("ERROR"):
        stored = await Notifier(storage, BrokenBroker(), NotificationIds()).notify(note(1))
    assert (await storage.notifications.fetch_by_id(stored["id"]))["data"] == {"n": 1}
    assert any("publishing notification" in r.getMessage() for r in caplog.records)


@pytest_twisted.ensureDeferred
async def test_consumer_handles_each_once_and_resumes_from_its_cursor(storage):
    broker = LocalBroker()
    notifier = Notifier(storage, broker, NotificationIds())
    for i in range(5):
        await notifier.notify(note(i))
    rec = Recorder()
    c = await consumer("email", storage, broker, rec).start()
    assert len(rec.ids) == 5
    for i in range(5, 8):
        await notifier.notify(note(i))  # the broker wake-up drains
    await wait_until(lambda: len(rec.ids) == 8)
    # the cursor is saved after the handler of the batch's last notification returns:
    # wait for that write (a loaded machine may not have made it yet), then stop
    await wait_until(lambda: c.cursor == max(rec.ids))
    c.stop()
    last = await storage.stream.get_cursor("email")
    assert last == max(rec.ids)
    assert (db.find_one(storage, "stream_deliveries", {"consumer": "email", "notificationId": rec.ids[0]}))["state"] == "done"
    # restart: nothing is handled again, new ones are
    rec2 = Recorder()
    c2 = await consumer("email", storage, broker, rec2).start()
    assert rec2.ids == []
    await notifier.notify(note(9))
    await wait_until(lambda: len(rec2.ids) == 1)
    c2.stop()
    # another consumer name has its own cursor and keys
    rec3 = Recorder()
    c3 = await consumer("push", storage, broker, rec3).start()
    assert len(rec3.ids) == 9
    c3.stop()


@pytest_twisted.ensureDeferred
async def test_first_start_from_now_skips_history(storage):
    broker = LocalBroker()
    notifier = Notifier(storage, broker, NotificationIds())
    await notifier.notify(note(1))
    rec = Recorder()
    c = await consumer("fresh", storage, broker, rec, start_from="now").start()
    assert rec.ids == []
    await sleep(0.002)
    n = await notifier.notify(note(2))
    await wait_until(lambda: rec.ids == [n["id"]])
    c.stop()


@pytest_twisted.ensureDeferred
async def test_late_commit_within_lookback_is_not_missed(storage):
    broker = LocalBroker()
    rec = Recorder()
    c = await consumer("late", storage, broker, rec, lookback=5.0, poll_interval=60).start()
    now = int(time.time() * 1000)
    newer = Notification.create("NewBlock", {}, "livenet", id=format_notification_id(now, 5)).to_dict()
    await storage.notifications.store(newer)
    await c.drain()
    assert rec.ids == [newer["id"]] and c.cursor == newer["id"]
    # a writer that allocated its id earlier commits only now (2 s older than the cursor)
    older = Notification.create("NewBlock", {}, "livenet", id=format_notification_id(now - 2000, 1)).to_dict()
    await storage.notifications.store(older)
    too_old = Notification.create("NewBlock", {}, "livenet", id=format_notification_id(now - 60_000, 1)).to_dict()
    await storage.notifications.store(too_old)
    await c.drain()
    assert rec.ids == [newer["id"], older["id"]]  # beyond the lookback window is the documented limit
    assert c.cursor == newer["id"]  # never rewinds
    c.stop()


@pytest_twisted.ensureDeferred
async def test_failing_handler_is_retried_then_marked_dead(storage):
    broker = LocalBroker()
    notifier = Notifier(storage, broker, NotificationIds())
    calls = collections.Counter()

    async def flaky(n):
        calls[n["data"]["n"]] += 1
        if n["data"]["n"] == 1 and calls[1] < 3:
            raise RuntimeError("smtp down")
        if n["data"]["n"] == 2:
            raise RuntimeError("always")

    a = await notifier.notify(note(1))
    b = await notifier.notify(note(2))
    c = await consumer("retry", storage, broker, flaky, retry_delay=0.1, max_attempts=3, poll_interval=0.2).start()
    await wait_until(lambda: calls[1] == 3 and calls[2] == 3, timeout=10)
    await sleep(0.5)
    c.stop()
    assert (db.find_one(storage, "stream_deliveries", {"consumer": "retry", "notificationId": a["id"]}))["state"] == "done"
    dead = db.find_one(storage, "stream_deliveries", {"consumer": "retry", "notificationId": b["id"]})
    assert dead["state"] == "dead" and dead["error"] == "always"
    assert calls[2] == 3  # max_attempts, not more


@pytest_twisted.ensureDeferred
async def test_claim_left_by_a_crashed_process_is_rerun_after_claim_timeout(storage):
    broker = LocalBroker()
    notifier = Notifier(storage, broker, NotificationIds())
    n = await notifier.notify(note(1))
    fresh = await notifier.notify(note(2))
    now = int(time.time() * 1000)
    # a previous incarnation claimed both and died before finishing; one claim is old
    await storage.stream.claim("crashy", n["id"], {"state": "claimed", "claimedAt": now - 10_000, "attempts": 1}, now=now // 1000)
    await storage.stream.claim("crashy", fresh["id"], {"state": "claimed", "claimedAt": now, "attempts": 1}, now=now // 1000)
    rec = Recorder()
    c = await consumer("crashy", storage, broker, rec, claim_timeout=5.0).start()
    assert rec.ids == [n["id"]]  # the recent claim may still be alive elsewhere: left alone
    d = db.find_one(storage, "stream_deliveries", {"consumer": "crashy", "notificationId": n["id"]})
    assert d["state"] == "done" and d["attempts"] == 2
    c.stop()


# -- both broker modes: 1,000 while down; broker restart mid-stream ---------------------------------


def _broker_proc(tmp_path, port):
    return ManagedProcess("messagebroker", [sys.executable, "-m", "messagebroker", "--port", str(port)],
                          ready=lambda: port_open(port), log_dir=tmp_path, cwd=str(ROOT))


def _redis_proc(tmp_path, port):
    return ManagedProcess("redis", [require_binary("redis-server"), "--bind", "127.0.0.1", "--port", str(port),
                                    "--save", "", "--appendonly", "no"],
                          ready=lambda: port_open(port), log_dir=tmp_path)


@pytest.fixture(params=["websocket", "redis"])
def broker_env(request, tmp_path):
    """A private broker server (process) and a factory of started clients."""
    port = free_port()
    made = []
    if request.param == "websocket":
        proc = _broker_proc(tmp_path, port).start()

        def make():
            b = WebSocketBroker(f"ws://127.0.0.1:{port}", reactor, min_delay=0.2, max_delay=1.0)
            made.append(b)
            return b.start()
    else:
        proc = _redis_proc(tmp_path, port).start()

        def make():
            b = RedisBroker(f"redis://127.0.0.1:{port}/0", reactor, min_delay=0.1, max_delay=1.0)
            made.append(b)
            return b.start()

    yield request.param, proc, make
    for b in made:
        b.stop()
    proc.stop()


@pytest_twisted.ensureDeferred
async def test_1000_stored_while_consumer_down_are_handled_exactly_once(storage, broker_env):
    mode, _, make = broker_env
    producer = Notifier(storage, make(), NotificationIds())
    rec = Recorder()
    first = await consumer("svc", storage, make(), rec, start_from="now").start()
    first.stop()  # the consumer goes down with a cursor
    ids = [(await producer.notify(note(i, wallet=f"w{i % 7}")))["id"] for i in range(1000)]
    # two instances of the same consumer come back at once (e.g. two e-mail services)
    rec_a, rec_b = Recorder(), Recorder()
    a = consumer("svc", storage, make(), rec_a, poll_interval=30)
    b = consumer("svc", storage, make(), rec_b, poll_interval=30)
    await a.start()
    await b.start()
    await wait_until(lambda: len(rec_a.ids) + len(rec_b.ids) >= 1000)
    await sleep(0.3)
    a.stop()
    b.stop()
    counts = rec_a.counts() + rec_b.counts()
    assert rec.ids == []
    assert set(counts) == set(ids) and max(counts.values()) == 1, mode
    assert await storage.stream.get_cursor("svc") == max(ids)


@pytest_twisted.ensureDeferred
async def test_broker_restart_mid_stream_loses_none_doubles_none(storage, broker_env):
    mode, proc, make = broker_env
    producer = Notifier(storage, make(), NotificationIds())
    cons_broker = make()
    rec = Recorder()
    # poll every 60 s: only broker messages and the reconnect replay can deliver in time
    c = await consumer("live", storage, cons_broker, rec, poll_interval=60).start()
    await wait_until(lambda: cons_broker.connected)
    ids = []
    for i in range(300):
        ids.append((await producer.notify(note(i)))["id"])
        if i == 100:
            proc.stop()  # broker dies mid-stream
        if i == 200:
            proc.start()  # and comes back
        if i % 20 == 0:
            await sleep(0.01)
    await wait_until(lambda: len(rec.ids) >= 300, timeout=30)
    await sleep(0.3)
    c.stop()
    counts = rec.counts()
    assert set(counts) == set(ids) and max(counts.values()) == 1, mode
