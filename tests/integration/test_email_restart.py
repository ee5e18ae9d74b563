"""Kill ``python -m emailservice`` (SIGKILL) in the middle of a batch, restart it: nothing lost, nothing twice.

The SMTP sink (real ESMTP on 127.0.0.1) stalls the connection that would carry the 8th message at
``MAIL FROM``, so the service is killed mid-send with 7 mails delivered and the rest queued.
"""

import json
import os
import signal
from collections import Counter

import pytest_twisted
from twisted.internet import defer, reactor, task

import devtools.smtpsink as smtpsink
from tests.helpers import db
from tests.notify_fixtures import ROOT, make_wallet, notify, set_prefs, start_service, until


@pytest_twisted.ensureDeferred
async def test_kill_mid_batch_and_restart(storage, mongo_uri, smtp_sink, tmp_path, monkeypatch):
    stall = {"after": 7, "hits": 0}
    original = smtpsink._Delivery.validateFrom

    def gated(self, helo, origin):
        if stall["after"] is not None and len(smtp_sink.messages) >= stall["after"]:
            stall["hits"] += 1
            return defer.Deferred()  # never answers: the client hangs in MAIL FROM
        return original(self, helo, origin)

    monkeypatch.setattr(smtpsink._Delivery, "validateFrom", gated)

    w = await make_wallet(storage)
    await set_prefs(storage, w, [(0, "a@example.com", "en", "bit"), (1, "b@example.com", "es", "btc"), (2, "c@example.com", "fr", "sat")])
    notes = [await notify(storage, "NewIncomingTx", w, {"txid": f"{i:064x}", "amount": 1000 + i}) for i in range(6)]
    expected = {(n["id"], rcpt) for n in notes for rcpt in ("a@example.com", "b@example.com", "c@example.com")}

    cfg = {
        "storageOpts": {"mongoDb": {"uri": mongo_uri}},
        "messageBrokerOpts": {"mode": "local"},
        "emailOpts": {"enabled": True, "host": "127.0.0.1", "port": smtp_sink.port, "from": "bws@example.com",
                      "templatePath": str(ROOT / "templates"), "pollInterval": 0.2, "leaseSeconds": 2.0,
                      "sendTimeout": 30.0, "retryBackoff": 0.2},
    }
    cfg_path = tmp_path / "config.json"
    cfg_path.write_text(json.dumps(cfg))
    log_path = tmp_path / "emailservice.log"

    proc = start_service("emailservice", cfg_path, log_path)
    try:
        await until(lambda: stall["hits"] >= 1, what="the 8th mail to stall")
        assert len(smtp_sink.messages) == 7
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        rows = db.find(storage, "email_queue", {}, sort=[("id", 1)])
        states = Counter(r["status"] for r in rows)
        assert len(rows) == 18 and states["sent"] == 7 and states["pending"] == 11, states

        stall["after"] = None
        proc = start_service("emailservice", cfg_path, log_path)
        await until(lambda: len(smtp_sink.messages) >= 18, timeout=30, what="all 18 mails")
        await task.deferLater(reactor, 1.0, lambda: None)  # nothing more arrives
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
    got = [(m.message["X-BWS-Notification-Id"], m.rcpt_to[0]) for m in smtp_sink.messages]
    assert len(got) == 18 and set(got) == expected, Counter(got).most_common(3)
    rows = db.find(storage, "email_queue", {}, sort=[("id", 1)])
    assert all(r["status"] == "sent" for r in rows)
    log = log_path.read_text()
    assert log.count('"outcome": "sent"') == 18
