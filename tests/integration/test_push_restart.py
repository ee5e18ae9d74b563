"""Kill ``python -m pushservice`` (SIGKILL) in the middle of a batch, restart it: nothing lost, nothing twice.

30 pushes (5 notifications × 3 copayers × 2 device tokens) go to the local fake FCM HTTP v1. The fake
accepts 11 and holds the 12th request open, so the service is killed mid-send with 11 pushes
delivered, one row leased and in flight, and the rest queued. The restarted process sends the 19
others (the in-flight one after its lease expires); the fake's log has each (notification, token)
exactly once.
"""

import json
import os
import signal
from collections import Counter

import pytest_twisted
from twisted.internet import reactor, task

from pushservice.service import COLLECTION
from tests.helpers import db
from tests.notify_fixtures import ROOT, make_wallet, notify, set_prefs, start_service, subscribe, until

ACCEPT_BEFORE_KILL = 11


@pytest_twisted.ensureDeferred
async def test_kill_mid_batch_and_restart(storage, mongo_uri, fake_fcm, fcm_service_account, tmp_path):
    w = await make_wallet(storage)
    await set_prefs(storage, w, [(0, None, "en", "bit"), (1, None, "es", "btc"), (2, None, "fr", "sat")])
    tokens = await subscribe(storage, w, per_copayer=2)
    notes = [await notify(storage, "NewIncomingTx", w, {"txid": f"{i:064x}", "amount": 1_000_000 * (i + 1)}, creator=None)
             for i in range(5)]
    expected = {(n["id"], tok) for n in notes for tok in tokens}
    total = len(expected)
    assert total == 30

    async def rows():
        return db.find(storage, COLLECTION, {}, sort=[("notificationId", 1), ("seq", 1)])

    async def all_rows_queued():
        return len(await rows()) == total

    fake_fcm.hold(ACCEPT_BEFORE_KILL)
    cfg = {
        "storageOpts": {"mongoDb": {"uri": mongo_uri}},
        "messageBrokerOpts": {"mode": "local"},
        "pushNotificationsOpts": {
            "enabled": True, "templatePath": str(ROOT / "templates"),
            "fcm": {"serviceAccountFile": fcm_service_account, "endpointBase": fake_fcm.base_url + "/v1/projects"},
            "pollInterval": 0.2, "leaseSeconds": 2.0, "sendTimeout": 30.0, "retryBackoff": 0.2,
        },
    }
    cfg_path = tmp_path / "config.json"
    cfg_path.write_text(json.dumps(cfg))
    log_path = tmp_path / "pushservice.log"

    proc = start_service("pushservice", cfg_path, log_path)
    try:
        await until(lambda: fake_fcm.held >= 1, what=f"push #{ACCEPT_BEFORE_KILL + 1} to be held")
        await until(all_rows_queued, what=f"all {total} delivery rows")  # the stream consumer is not held
        assert len(fake_fcm.messages) == ACCEPT_BEFORE_KILL and fake_fcm.held == 1
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        # the held request's connection must be seen closed, or release() would answer (and log) it
        await until(lambda: fake_fcm.held_open == 0, what="the killed client's connection to close")
        fake_fcm.release()
        assert len(fake_fcm.messages) == ACCEPT_BEFORE_KILL
        before = await rows()
        states = Counter(r["status"] for r in before)
        assert states == {"sent": ACCEPT_BEFORE_KILL, "pending": total - ACCEPT_BEFORE_KILL}, states
        assert sum(1 for r in before if r["status"] == "pending" and r.get("leaseUntil")) == 1  # the one in flight

        proc = start_service("pushservice", cfg_path, log_path)
        await until(lambda: len(fake_fcm.messages) >= total, timeout=30, what=f"all {total} pushes")
        await task.deferLater(reactor, 1.0, lambda: None)  # nothing more arrives
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)

    after = await rows()
    assert len(after) == total and all(r["status"] == "sent" for r in after), Counter(r["status"] for r in after)
    assert {(r["notificationId"], r["token"]) for r in after} == expected
    # a push carries no notification id: map (token, title, body) back through the rows (unique per
    # notification since the amounts differ) and check it is a bijection
    by_content = {(r["token"], r["title"], r["body"]): r["notificationId"] for r in after}
    assert len(by_content) == total
    got = [(by_content[(m["message"]["token"], m["message"]["notification"]["title"], m["message"]["notification"]["body"])],
            m["message"]["token"]) for m in fake_fcm.messages]
    assert len(got) == total and set(got) == expected, Counter(got).most_common(3)
    assert fake_fcm.rejected == []
    log = log_path.read_text()
    assert log.count('"outcome": "sent"') == total
