"""Signed webhooks: registration (service logic) and delivery to a local receiver with retries."""

import json

import pytest
import pytest_twisted
from twisted.internet import reactor, task

from bws.config import WebhookOpts
from bws.errors import ClientError
from bws.services.webhooks import list_webhook_deliveries, list_webhooks, register_webhook, remove_webhook
from bws.delivery.destinations import DestinationPolicy
from bws.delivery.webhooks import WebhookService, sign, verify_signature
from tests.notify_fixtures import make_wallet, notify


def test_signature_format():
    body = b'{"a":1}'
    sig = sign("s" * 32, "1700000000", body)
    assert sig.startswith("sha256=") and len(sig) == 7 + 64
    assert verify_signature("s" * 32, "1700000000", body, sig)
    assert not verify_signature("s" * 32, "1700000001", body, sig)


@pytest_twisted.ensureDeferred
async def test_registration_rules(storage):
    with pytest.raises(ClientError, match="https"):
        await register_webhook(storage, "w1", "c1", {"url": "http://8.8.8.8/hook"}, now=1_700_000_000)
    with pytest.raises(ClientError):
        await register_webhook(storage, "w1", "c1", {"url": "https://8.8.8.8/h", "secret": "short"}, now=1_700_000_000)
    with pytest.raises(ClientError):
        await register_webhook(storage, "w1", "c1", {}, now=1_700_000_000)
    h = await register_webhook(storage, "w1", "c1", {"url": "https://8.8.8.8/hook"}, now=1_700_000_000)
    assert len(h["secret"]) == 64 and h["url"] == "https://8.8.8.8/hook"
    assert (h["createdOn"], h["updatedOn"]) == (1_700_000_000, 1_700_000_000)  # the caller's clock
    h2 = await register_webhook(storage, "w1", "c1", {"url": "https://8.8.4.4/other", "secret": "x" * 20}, now=1_700_000_100)
    assert h2["id"] == h["id"] and h2["secret"] == "x" * 20
    assert (h2["createdOn"], h2["updatedOn"]) == (1_700_000_000, 1_700_000_100)  # a replacement keeps createdOn
    listed = await list_webhooks(storage, "w1", "c1")
    assert [x["url"] for x in listed] == ["https://8.8.4.4/other"] and "secret" not in listed[0]
    assert await list_webhooks(storage, "w1", "c2") == []
    assert (await remove_webhook(storage, "w1", "c2", h["id"]))["n"] == 0
    assert (await remove_webhook(storage, "w1", "c1", h["id"]))["n"] == 1


@pytest_twisted.ensureDeferred
async def test_receiver_failing_twice_gets_it_once_signed(storage, webhook_receiver):
    w = await make_wallet(storage, m=1, n=1)
    local = DestinationPolicy(["127.0.0.0/8"])  # the receiver is on loopback: the operator allow-list
    hook = await register_webhook(storage, w["id"], "w1-c1", {"url": webhook_receiver.url}, allow_http=True,
                                  policy=local, now=1_700_000_000)
    webhook_receiver.secret = hook["secret"]
    webhook_receiver.fail_first = 2
    svc = WebhookService(storage, WebhookOpts(enabled=True, retryBackoff=0.1, maxAttempts=5, pollInterval=0.2, allowHttp=True,
                                                allowPrivateNetworks=["127.0.0.0/8"]),
                         reactor, reactor=reactor)
    svc.start()
    try:
        n = await notify(storage, "NewIncomingTx", w, {"txid": "aa", "amount": 5})
        await svc.handle(n)
        await svc.handle(n)  # a replay queues nothing new
        for _ in range(100):
            if webhook_receiver.delivered:
                break
            await task.deferLater(reactor, 0.05, lambda: None)
        await task.deferLater(reactor, 0.5, lambda: None)  # nothing more arrives
    finally:
        svc.stop()
    reqs = webhook_receiver.requests
    assert [r["code"] for r in reqs] == [500, 500, 200]
    assert all(r["valid"] for r in reqs)
    ok = webhook_receiver.delivered[0]
    assert json.loads(ok["body"]) == n
    assert ok["headers"]["x-bws-event"] == "NewIncomingTx"
    assert ok["headers"]["x-bws-delivery"] == f"{n['id']}:{hook['id']}"
    assert len({r["headers"]["x-bws-delivery"] for r in reqs}) == 1
    (row,) = await list_webhook_deliveries(storage, w["id"], "w1-c1", hook["id"])
    assert row["status"] == "sent" and row["attempts"] == 3 and row["responseStatus"] == 200
