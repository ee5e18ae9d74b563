"""GET /bws/api/v1/health (bws/http/routes/ops.py, bws/http/health.py): 200 when database, broker,
lock and every node answer; 503 naming the failing checks otherwise."""

from __future__ import annotations

import pytest_twisted
from twisted.internet import defer, reactor

from bws.http.health import check_health
from bws.interfaces import LockTimeout
from tests.helpers.fixtures import api, clock, explorer, service  # noqa: F401


class HeightExplorer:
    def __init__(self, height=None, error=None, hang=False):
        self.height, self.error, self.hang = height, error, hang

    async def get_blockchain_height(self):
        if self.hang:
            await defer.Deferred()  # never answers
        if self.error:
            raise self.error
        return self.height


class DownBroker:
    connected = False


class BusyLock:
    async def acquire(self, token, wait_time, max_hold):
        raise LockTimeout(token)


@pytest_twisted.ensureDeferred
async def test_health_ok(api):
    api.service.explorers[("btc", "testnet")] = HeightExplorer(height=101)
    r = await api.client.get("/v1/health")
    assert r.status == 200, r.text
    assert r.json["status"] == "ok"
    checks = r.json["checks"]
    assert {"database", "broker", "lock", "node:btc:testnet"} <= set(checks)
    assert all(c["ok"] for c in checks.values())
    assert checks["node:btc:testnet"]["height"] == 101
    assert r.headers["content-type"].startswith("application/json")
    # no authentication and no client-version gate (probes are not wallet clients)
    r = await api.client.get("/v1/health/", headers={"x-client-version": "bwc-0.0.1"})
    assert r.status == 200


@pytest_twisted.ensureDeferred
async def test_health_503_names_failing_checks(api):
    api.service.explorers[("btc", "testnet")] = HeightExplorer(error=ConnectionRefusedError("node down"))
    api.service.broker = DownBroker()
    api.service.lock = BusyLock()
    r = await api.client.get("/v1/health/")
    assert r.status == 503, r.text
    body = r.json
    assert body["status"] == "fail"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"] == {"ok": False, "error": "not connected", "ms": body["checks"]["broker"]["ms"]}
    assert body["checks"]["lock"]["ok"] is False and "not granted" in body["checks"]["lock"]["error"]
    assert body["checks"]["node:btc:testnet"]["ok"] is False and "node down" in body["checks"]["node:btc:testnet"]["error"]


@pytest_twisted.ensureDeferred
async def test_health_check_times_out(service):
    service.explorers = {("eth", "livenet"): HeightExplorer(hang=True)}
    ok, checks = await check_health(service, timeout=0.3, clock=reactor)  # real time: the hang times out
    assert not ok
    assert checks["node:eth:livenet"]["ok"] is False
    assert "no answer" in checks["node:eth:livenet"]["error"]
    assert checks["database"]["ok"] and checks["lock"]["ok"] and checks["broker"]["ok"]
