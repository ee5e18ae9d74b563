"""The one store-then-publish Notifier (bws/service/notifier.py) against in-memory fakes of
its storage and broker: stored before published, nothing published when nothing was stored,
ids from the generator passed in, a clashing id renewed from that generator."""

from __future__ import annotations

import pytest
import pytest_twisted

from bws.model import UNDEFINED, Notification, NotificationIds
from bws.service.notifier import Notifier


class DuplicateId(Exception):
    pass


class MemoryNotifications:
    """bws/storage/notifications.py NotificationsRepo.store in memory: a unique ``id``
    index, retried with ``renew_id()`` after a clash."""

    def __init__(self, events):
        self.docs: dict[str, dict] = {}
        self.events = events
        self.fail = False

    def insert(self, docs, renew_id):
        docs = [dict(d) for d in docs]
        for d in docs:
            while d["id"] in self.docs:
                if renew_id is None:
                    raise DuplicateId(d["id"])
                d["id"] = renew_id()
        for d in docs:
            self.docs[d["id"]] = d
            self.events.append(("stored", d["id"]))
        return docs

    async def store(self, doc, renew_id=None):
        if self.fail:
            raise ConnectionError("database down")
        return self.insert([doc], renew_id)[0]


class MemoryProposals:
    """bws/storage/proposals.py ProposalsRepo.store_with_notifications in memory:
    the conditional proposal replace together with its notifications."""

    def __init__(self, notifications: MemoryNotifications):
        self.txs: dict[str, dict] = {}
        self.notifications = notifications

    async def store_with_notifications(self, txp, docs, renew_id=None, *, expect=None):
        current = self.txs.get(txp["id"])
        if expect is not None and (current is None or any(current.get(k) != v for k, v in expect.items())):
            return None
        self.txs[txp["id"]] = dict(txp)
        return self.notifications.insert(docs, renew_id)


class MemoryStorage:
    """The repositories of bws.storage.Storage the Notifier writes through."""

    def __init__(self, events):
        self.notifications = MemoryNotifications(events)
        self.proposals = MemoryProposals(self.notifications)


class MemoryBroker:
    def __init__(self, events, fail=False):
        self.published = []
        self.events = events
        self.fail = fail

    def publish(self, message):
        if self.fail:
            raise ConnectionError("broker down")
        self.events.append(("published", message["id"]))
        self.published.append(message)


def make(clock_ms=1_700_000_000_000, broker_fails=False):
    events = []
    now = [clock_ms]
    storage, broker = MemoryStorage(events), MemoryBroker(events, broker_fails)
    return Notifier(storage, broker, NotificationIds(clock=lambda: now[0])), storage, broker, events, now


@pytest_twisted.ensureDeferred
async def test_notify_stores_then_publishes_the_stored_document():
    notifier, storage, broker, events, _ = make()
    n = notifier.new("NewAddress", {"address": "a"}, "w1", "c1")
    assert n.id == "017000000000000000" and n.created_on == 1_700_000_000
    stored = await notifier.notify(n)
    assert events == [("stored", n.id), ("published", n.id)]
    assert broker.published == [stored] == [storage.notifications.docs[n.id]]
    assert stored["creatorId"] == "c1" and stored["walletId"] == "w1"


@pytest_twisted.ensureDeferred
async def test_monitor_notification_omits_creator_and_takes_the_event_time():
    notifier, storage, _, _, _ = make()
    n = notifier.new("NewBlock", {"hash": "h"}, "livenet", UNDEFINED, now_ms=1_600_000_000_123)
    stored = await notifier.notify(n)
    assert "creatorId" not in stored
    assert stored["id"] == "016000000001230000" and stored["createdOn"] == 1_600_000_000


@pytest_twisted.ensureDeferred
async def test_a_clashing_id_is_renewed_from_the_generator():
    notifier, storage, broker, _, _ = make()
    # another process stored this millisecond's first id already
    storage.notifications.docs["017000000000000000"] = {"id": "017000000000000000"}
    stored = await notifier.notify(notifier.new("NewAddress", {"address": "a"}, "w1", "c1"))
    assert stored["id"] == "017000000000000001"
    assert [m["id"] for m in broker.published] == ["017000000000000001"]


@pytest_twisted.ensureDeferred
async def test_a_failed_store_publishes_nothing():
    notifier, storage, broker, _, _ = make()
    storage.notifications.fail = True
    with pytest.raises(ConnectionError):
        await notifier.notify(notifier.new("NewAddress", {"address": "a"}, "w1", "c1"))
    assert broker.published == []


@pytest_twisted.ensureDeferred
async def test_a_failed_publish_keeps_the_stored_notification():
    notifier, storage, _, _, _ = make(broker_fails=True)
    stored = await notifier.notify(notifier.new("NewAddress", {"address": "a"}, "w1", "c1"))
    assert storage.notifications.docs[stored["id"]] == stored


@pytest_twisted.ensureDeferred
async def test_notify_with_tx_announces_a_change_once():
    notifier, storage, broker, events, _ = make()
    storage.proposals.txs["p1"] = {"id": "p1", "walletId": "w1", "status": "accepted"}
    marked = {"id": "p1", "walletId": "w1", "status": "broadcasted"}
    first = notifier.new("NewOutgoingTx", {"txProposalId": "p1"}, "w1", "c1")
    stored = await notifier.notify_with_tx(marked, [first], expect={"status": "accepted"})
    assert [d["id"] for d in stored] == [first.id]
    assert storage.proposals.txs["p1"]["status"] == "broadcasted"
    assert events == [("stored", first.id), ("published", first.id)]
    # a second marker (the monitor, another request) finds it no longer accepted
    again = notifier.new("NewOutgoingTxByThirdParty", {"txProposalId": "p1"}, "w1", UNDEFINED)
    assert await notifier.notify_with_tx(marked, [again], expect={"status": "accepted"}) is None
    assert again.id not in storage.notifications.docs and [m["id"] for m in broker.published] == [first.id]


@pytest_twisted.ensureDeferred
async def test_commit_gives_ids_in_order_and_publishes_after_the_write():
    notifier, storage, broker, _, _ = make()
    notes = [Notification.create("NewCopayer", {}, "w1", "c2"), Notification.create("WalletComplete", {}, "w1")]
    written = []

    async def store(docs, renew_id):
        written.append([d["id"] for d in docs])
        return storage.notifications.insert(docs, renew_id)

    stored = await notifier.commit(notes, store)
    assert written == [["017000000000000000", "017000000000000001"]]
    assert [m["id"] for m in broker.published] == [d["id"] for d in stored] == written[0]

    async def nothing(docs, renew_id):
        return None

    assert await notifier.commit([notifier.new("X", {}, "w1")], nothing) is None
    assert len(broker.published) == 2
