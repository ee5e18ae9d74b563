"""Prometheus /metrics of bws (bws/http/metrics.py): requests by route pattern and status,
latency histogram, lock waits and WALLET_BUSY, notifications delivered per service."""

from __future__ import annotations

import pytest_twisted
import treq
from prometheus_client.parser import text_string_to_metric_families
from twisted.internet import defer, reactor
from twisted.web.server import Site

from bws.http.app import BwsApi
from bws.errors import ClientError
from bws.http.metrics import instrument
from bws.interfaces import run_locked
from tests.helpers.client import TestClient
from tests.helpers.fixtures import clock, explorer, service  # noqa: F401


def samples(text: str) -> dict:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


@pytest_twisted.async_yield_fixture
async def served(service):
    api = BwsApi(service)
    site = Site(instrument(api.resource(), api, service))
    site.noisy = False
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    root = f"http://127.0.0.1:{port.getHost().port}"
    client = TestClient(root + "/bws/api")
    yield root, client, service
    await client.close()
    await port.stopListening()


async def scrape(root: str) -> tuple[int, str, dict]:
    resp = await treq.get(root + "/metrics", persistent=False)
    text = (await resp.content()).decode()
    return resp.code, resp.headers.getRawHeaders("content-type")[0], samples(text)


@pytest_twisted.ensureDeferred
async def test_requests_by_route_and_status_and_latency(served):
    root, client, _ = served
    assert (await client.get("/v1/version/")).status == 200
    assert (await client.get("/V1/Version")).status == 200
    assert (await client.get("/v1/txproposals/abc/")).status == 401  # unsigned
    assert (await client.get("/v1/no-such-route")).status == 404
    assert (await client.request("OPTIONS", "/v1/wallets/")).status == 200
    code, ctype, s = await scrape(root)
    assert code == 200 and ctype.startswith("text/plain")
    req = "bws_http_requests_total"
    assert s[(req, (("method", "GET"), ("route", "/v1/version/"), ("status", "200")))] == 2
    assert s[(req, (("method", "GET"), ("route", "/v1/txproposals/:id/"), ("status", "401")))] == 1
    assert s[(req, (("method", "GET"), ("route", "<unmatched>"), ("status", "404")))] == 1
    assert s[(req, (("method", "OPTIONS"), ("route", "*"), ("status", "200")))] == 1
    lat = "bws_http_request_duration_seconds_count"
    assert s[(lat, (("method", "GET"), ("route", "/v1/version/")))] == 2
    assert s[("bws_http_request_duration_seconds_bucket", (("le", "+Inf"), ("method", "GET"), ("route", "/v1/version/")))] == 2
    # the scrape itself is not an API request; paths outside basePath still 404 via the API
    resp = await treq.get(root + "/other", persistent=False)
    assert resp.code == 404
    await resp.content()


@pytest_twisted.ensureDeferred
async def test_lock_waits_and_wallet_busy(served):
    root, _, service = served
    assert await run_locked(service.lock, "w1", lambda: defer.succeed(1), wait_time=1) == 1
    release = await service.lock.acquire("w2", 5, 5)
    try:
        await run_locked(service.lock, "w2", lambda: defer.succeed(1), wait_time=0.05)
    except ClientError as e:
        assert e.code == "WALLET_BUSY"
    else:
        raise AssertionError("expected WALLET_BUSY")
    release()
    _, _, s = await scrape(root)
    assert s[("bws_lock_wait_seconds_count", (("outcome", "acquired"),))] == 2
    assert s[("bws_lock_wait_seconds_count", (("outcome", "busy"),))] == 1
    assert s[("bws_lock_busy_total", ())] == 1


@pytest_twisted.ensureDeferred
async def test_notifications_delivered_per_service(served):
    root, _, service = served
    st = service.storage
    await st.outbox.insert("email_queue", [{"id": "e1", "status": "sent"}, {"id": "e2", "status": "pending"}])
    await st.outbox.insert("push_deliveries", [{"id": f"p{i}", "status": "sent"} for i in range(3)])
    await st.outbox.insert("webhook_deliveries", [{"id": "w1", "status": "fail"}])
    _, _, s = await scrape(root)
    delivered = "bws_notifications_delivered_total"
    assert s[(delivered, (("service", "email"),))] == 1
    assert s[(delivered, (("service", "push"),))] == 3
    assert s[(delivered, (("service", "webhook"),))] == 0
    assert s[("bws_notifications_count_ok", ())] == 1
