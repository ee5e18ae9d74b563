"""The ``haproxy_factory`` fixture (tests/plugins/haproxy.py) with a real HAProxy in front of
two real backend processes (tests/servers/http_backend.py): requests alternate between them;
a backend whose health path answers 503 is taken out and gets nothing until it is healthy
again; the admin socket reports each server's state and request count; admin ``maint``
drains a server; a custom health path is the one checked."""

from __future__ import annotations

import json
import urllib.request
from collections import Counter

import pytest

from tests.servers.http_backend import start_backend


@pytest.fixture
def backends(tmp_path):
    started = []
    try:
        for name in ("a", "b"):
            started.append(start_backend(name, tmp_path))
        yield started
    finally:
        for b in started:
            b.stop()


def get(lb, path="/bws/api/v1/version"):
    """One request through the proxy (a new connection each time): (served-by header, body)."""
    with urllib.request.urlopen(lb.url + path, timeout=5) as r:
        return r.headers["X-Served-By"], json.load(r)


def test_round_robin_alternates_and_reports_per_server_counts(haproxy_factory, backends):
    a, b = backends
    lb = haproxy_factory([a.port, b.port])
    assert {n: r["status"] for n, r in lb.servers().items()} == {"s0": "UP", "s1": "UP"}
    assert {r["check_status"] for r in lb.servers().values()} == {"L7OK"}

    served = [get(lb) for _ in range(6)]
    names = [s for s, _ in served]
    assert all(x != y for x, y in zip(names, names[1:])), names  # strictly alternating
    assert Counter(names) == {"s0": 3, "s1": 3}
    # the header names the server that really answered, and the proxy adds X-Forwarded-For
    assert {(s, body["backend"]) for s, body in served} == {("s0", "a"), ("s1", "b")}
    assert all(body["headers"]["x-forwarded-for"] == "127.0.0.1" for _, body in served)
    assert all(body["path"] == "/bws/api/v1/version" for _, body in served)
    assert {n: int(r["stot"]) for n, r in lb.servers().items()} == {"s0": 3, "s1": 3}


def test_unhealthy_backend_is_taken_out_and_back(haproxy_factory, backends):
    a, b = backends
    lb = haproxy_factory({"api-a": a.port, "api-b": b.port}, inter_ms=100, fall=2, rise=2)

    b.set_health(503)
    row = lb.wait_status("api-b", "DOWN", timeout=5)
    assert (row["check_status"], row["check_code"]) == ("L7STS", "503")
    assert lb.status("api-a") == "UP"
    assert {get(lb)[0] for _ in range(6)} == {"api-a"}

    b.set_health(200)
    lb.wait_status("api-b", "UP", timeout=5)
    assert Counter(get(lb)[0] for _ in range(4)) == {"api-a": 2, "api-b": 2}


def test_admin_maint_and_ready(haproxy_factory, backends):
    a, b = backends
    lb = haproxy_factory([a.port, b.port])
    lb.set_state("s0", "maint")
    assert lb.status("s0") == "MAINT"
    assert {get(lb)[0] for _ in range(4)} == {"s1"}
    lb.set_state("s0", "ready")
    lb.wait_status("s0", "UP", timeout=5)
    with pytest.raises(ValueError):
        lb.set_state("s0", "off")


def test_health_path_is_configurable(haproxy_factory, tmp_path):
    """A backend with basePath /other answers 404 on /bws/api/v1/health: with the default
    path it is down; with the configured one it is up and serves."""
    other = start_backend("c", tmp_path, base_path="/other")
    try:
        wrong = haproxy_factory([other.port])
        assert wrong.wait_status("s0", "DOWN", timeout=5)["check_code"] == "404"
        right = haproxy_factory([other.port], health_path="/other/v1/health")
        assert right.status("s0") == "UP"
        served_by, body = get(right, "/other/v1/version")
        assert (served_by, body["backend"]) == ("s0", "c")
    finally:
        other.stop()


def test_two_bws_processes_behind_haproxy(haproxy_factory, mongo_uri, redis_server, tmp_path):
    """The default health path is our API's: two real ``python -m bws`` on one database (Redis
    lock and broker: a local one refuses a second API process) are UP and share the requests;
    one killed is taken out (connection refused) and the other serves everything."""
    from tests.bws_process import start_bws

    redis = {"BWS_LOCK_MODE": "redis", "BWS_BROKER_MODE": "redis", "BWS_REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0"}
    apis = [start_bws(mongo_uri, tmp_path / f"bws{i}", name=f"bws{i}", **redis) for i in range(2)]
    try:
        lb = haproxy_factory({"bws0": apis[0].port, "bws1": apis[1].port}, inter_ms=100)
        assert {n: (r["status"], r["check_code"]) for n, r in lb.servers().items()} == {
            "bws0": ("UP", "200"), "bws1": ("UP", "200")}
        with urllib.request.urlopen(lb.url + "/bws/api/v1/health", timeout=5) as r:
            assert json.load(r)["status"] == "ok"
        versions = [get(lb) for _ in range(4)]
        assert Counter(s for s, _ in versions) == {"bws0": 2, "bws1": 2}
        assert {v["serviceVersion"] for _, v in versions} == {versions[0][1]["serviceVersion"]}

        apis[1].proc.kill()
        assert lb.wait_status("bws1", "DOWN", timeout=5)["check_status"] == "L4CON"
        assert {get(lb)[0] for _ in range(4)} == {"bws0"}
    finally:
        for api in apis:
            api.stop()
