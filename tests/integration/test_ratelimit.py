"""Rate limits (spec api.md §3.8, issue 10): upstream's per-IP limits on wallet
creation and fee levels, slow-down then 429 plain text; counted in memory for
one process, in Redis (INCR + PEXPIRE) so several API processes share one
count.  Checked with the limiter alone, the in-process API, and two real
``python -m bws`` processes on one Redis."""

from __future__ import annotations

import time
import uuid

import pytest
import pytest_twisted
import requests
from twisted.internet import reactor

from bws.http.app import BwsApi
from bws.config import config_from_dict
from bws.http.ratelimit import MemoryCounter, RateLimited, RateLimiter, RedisCounter, Rule, clock_sleep, make_rate_limiter
from tests.bws_process import start_bws
from tests.helpers.client import TestClient
from tests.helpers.fixtures import clock, explorer, service  # noqa: F401
from tests.helpers.keys import WalletKey

WALLET_MSG = "Too many wallets created from this IP, please try again after an hour"


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_rule_semantics_match_express_rate_limit():
    upstream = config_from_dict({"rateLimits": {"enabled": True}}).rateLimits
    cw, fl = upstream.createWallet, upstream.feeLevels
    assert (cw.windowMs, cw.max, cw.delayAfter, cw.delayMs, cw.message) == (3_600_000, 15, 8, 3000, WALLET_MSG)
    assert (fl.windowMs, fl.max, fl.delayAfter, fl.delayMs, fl.message) == (600_000, 10, 5, 300, "Too many request")
    rule = Rule("createWallet", cw.windowMs, cw.max, cw.delayAfter, cw.delayMs, cw.message)
    decisions = [rule.decide(n) for n in range(1, 18)]
    assert decisions[:8] == [(False, 0.0)] * 8
    assert decisions[8] == (False, 3.0) and decisions[9] == (False, 6.0) and decisions[14] == (False, 21.0)
    assert decisions[15] == (True, 0.0) and decisions[16] == (True, 0.0)
    assert Rule("x", 1000, 0, 0, 0, "m").decide(10**6) == (False, 0.0)  # max 0 = unlimited


def test_default_on_and_store_choice():
    assert make_rate_limiter(config_from_dict({"rateLimits": {"enabled": False}}), reactor) is None
    mem = make_rate_limiter(config_from_dict({}), reactor)
    assert isinstance(mem.counter, MemoryCounter) and not mem.trust_proxy
    assert set(mem.rules) == {"createWallet", "feeLevels"}
    red = make_rate_limiter(config_from_dict({"lockOpts": {"mode": "redis"}}), reactor)
    assert isinstance(red.counter, RedisCounter)
    broker = make_rate_limiter(config_from_dict({"messageBrokerOpts": {"mode": "redis"}}), reactor)
    assert isinstance(broker.counter, RedisCounter)
    forced = make_rate_limiter(config_from_dict({"rateLimits": {"enabled": True, "store": "memory"},
                                                 "lockOpts": {"mode": "redis"}}), reactor)
    assert isinstance(forced.counter, MemoryCounter)


@pytest_twisted.ensureDeferred
async def test_limiter_window_slowdown_and_ips():
    clk = FakeClock()
    slept: list[float] = []

    async def sleep(s):
        slept.append(s)

    rules = {"createWallet": Rule("createWallet", 60_000, 4, 2, 100, WALLET_MSG)}
    lim = RateLimiter(rules, MemoryCounter(clk), trust_proxy=True, sleep=sleep)
    hdr = {"x-forwarded-for": "203.0.113.7, 10.0.0.1"}
    for _ in range(4):
        await lim.check("POST", "/v2/wallets/", "127.0.0.1", hdr)
    assert slept == [0.1, 0.2]
    with pytest.raises(RateLimited) as e:
        await lim.check("POST", "/v1/wallets/", "127.0.0.1", hdr)  # v1 and v2 share the count
    assert e.value.message == WALLET_MSG and 1 <= e.value.retry_after <= 60
    # another client IP has its own window; unlisted routes are never counted
    await lim.check("POST", "/v2/wallets/", "127.0.0.1", {"x-forwarded-for": "198.51.100.1"})
    for _ in range(20):
        await lim.check("GET", "/v1/version/", "127.0.0.1", hdr)
    # the window ends: counting starts again
    clk.t += 61
    await lim.check("POST", "/v2/wallets/", "127.0.0.1", hdr)
    # without trusting the proxy the peer address counts, whatever the header says
    plain = RateLimiter(rules, MemoryCounter(clk), trust_proxy=False, sleep=sleep)
    assert plain.client_ip("192.0.2.9", hdr) == "192.0.2.9"
    assert lim.client_ip("192.0.2.9", {}) == "192.0.2.9"
    assert lim.client_ip("192.0.2.9", {"x-forwarded-for": " , x"}) == "192.0.2.9"


@pytest_twisted.async_yield_fixture
async def limited_api(service):
    slept: list[float] = []

    async def sleep(s):
        slept.append(s)

    rules = {"createWallet": Rule("createWallet", 3_600_000, 3, 1, 3000, WALLET_MSG),
             "feeLevels": Rule("feeLevels", 600_000, 2, 5, 300, "Too many request")}
    lim = RateLimiter(rules, MemoryCounter(reactor.seconds), trust_proxy=True, sleep=sleep)
    site = BwsApi(service, rate_limiter=lim).site()
    site.noisy = False
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    client = TestClient(f"http://127.0.0.1:{port.getHost().port}/bws/api")
    yield client, slept
    await client.close()
    await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_api_answers_429_plain_text(limited_api):
    client, slept = limited_api
    ip = {"X-Forwarded-For": "203.0.113.50"}
    statuses = []
    for _ in range(3):
        r = await client.post("/v2/wallets/", {"name": "w", "m": 1, "n": 1, "pubKey": WalletKey.random().pub},
                              headers=ip)
        statuses.append(r.status)
    assert statuses == [200, 200, 200] and slept == [3.0, 6.0]
    r = await client.post("/v2/wallets/", {"name": "w", "m": 1, "n": 1, "pubKey": WalletKey.random().pub}, headers=ip)
    assert r.status == 429 and r.text == WALLET_MSG
    assert r.headers["content-type"].startswith("text/plain") and int(r.headers["retry-after"]) > 3000
    assert r.headers["x-service-version"] == "bws-2.5.1"
    # a refused request counts as well; another IP is not affected
    assert (await client.post("/v1/wallets/", {}, headers=ip)).status == 429
    assert (await client.post("/v2/wallets/", {}, headers={"X-Forwarded-For": "203.0.113.51"})).status == 400
    # fee levels: own rule and count (no explorer: the service error passes, the 3rd is refused)
    codes = [(await client.get("/v2/feelevels/?coin=btc", headers=ip)).status for _ in range(3)]
    assert codes[:2] != [429, 429] and codes[2] == 429
    assert (await client.get("/v1/version/", headers=ip)).status == 200


@pytest_twisted.ensureDeferred
async def test_redis_counter_shared_and_expiring(redis_server):
    a = RedisCounter(redis_server.url, clock=reactor)
    b = RedisCounter(redis_server.url, clock=reactor)
    key = "bws:ratelimit:test:" + uuid.uuid4().hex
    try:
        assert (await a.hit(key, 60_000))[0] == 1
        assert (await b.hit(key, 60_000))[0] == 2
        count, remaining = await a.hit(key, 60_000)
        assert count == 3 and 0 < remaining <= 60
        ttl = int(await a.conn.eval("return redis.call('pttl', KEYS[1])", keys=[key], args=[]))
        assert 0 < ttl <= 60_000
        short = key + ":short"
        await a.hit(short, 200)
        from twisted.internet import task

        await task.deferLater(reactor, 0.35, lambda: None)
        assert (await b.hit(short, 200))[0] == 1  # the window expired in Redis
    finally:
        await a.close()
        await b.close()


@pytest_twisted.ensureDeferred
async def test_redis_down_fails_open():
    from tests.servers.proc import free_port

    lim = RateLimiter({"createWallet": Rule("createWallet", 60_000, 1, 0, 0, WALLET_MSG)},
                      RedisCounter(f"redis://127.0.0.1:{free_port()}/0", clock=reactor, timeout=0.5),
                      sleep=clock_sleep(reactor))
    started = time.monotonic()
    for _ in range(3):
        await lim.check("POST", "/v2/wallets/", "127.0.0.1", {})  # never refused while the count is unknown
    assert time.monotonic() - started < 5
    await lim.counter.close()


def _create(base: str, ip: str) -> requests.Response:
    body = {"name": "w", "m": 1, "n": 1, "pubKey": WalletKey.random().pub}
    return requests.post(base + "/v2/wallets/", json=body, timeout=30,
                         headers={"X-Forwarded-For": ip, "x-client-version": "bwc-6.8.0"})


def test_two_api_processes_share_one_count(mongo_server, redis_server, tmp_path):
    db = "rl_" + uuid.uuid4().hex[:10]
    env = {
        "BWS_REDIS_URL": redis_server.url,
        "BWS__rateLimits__enabled": "true",
        "BWS__rateLimits__trustProxy": "true",
        "BWS__rateLimits__store": "redis",
        "BWS__rateLimits__createWallet": '{"max": 4, "delayAfter": 2, "delayMs": 300, "windowMs": 60000}',
        # two API processes on one database need a shared lock and broker (a local one is refused)
        "BWS_LOCK_MODE": "redis",
        "BWS_BROKER_MODE": "redis",
    }
    p1 = start_bws(mongo_server.uri(db), tmp_path / "one", name="bws1", **env)
    p2 = start_bws(mongo_server.uri(db), tmp_path / "two", name="bws2", **env)
    try:
        ip = f"198.51.100.{uuid.uuid4().int % 200 + 1}-{uuid.uuid4().hex[:6]}"
        timings, statuses = [], []
        for i in range(5):
            base = (p1, p2)[i % 2].base
            t = time.monotonic()
            r = _create(base, ip)
            timings.append(time.monotonic() - t)
            statuses.append(r.status_code)
        assert statuses == [200, 200, 200, 200, 429], statuses
        # 3rd request: +0.3 s, 4th: +0.6 s, whichever process served it
        assert timings[2] >= 0.28 and timings[3] >= 0.58, timings
        r = _create(p1.base, ip)
        assert r.status_code == 429 and r.text == WALLET_MSG and r.headers["Content-Type"].startswith("text/plain")
        # another client IP still gets through on both
        other = ip + "-b"
        assert _create(p2.base, other).status_code == 200 and _create(p1.base, other).status_code == 200
    finally:
        p1.stop()
        p2.stop()
        with mongo_server.sync_client() as c:
            c.drop_database(db)


def test_one_api_process_memory_count(mongo_server, tmp_path):
    db = "rl_" + uuid.uuid4().hex[:10]
    env = {"BWS__rateLimits__enabled": "true", "BWS__rateLimits__trustProxy": "true",
           "BWS__rateLimits__feeLevels": '{"max": 2, "delayAfter": 1, "delayMs": 200, "windowMs": 60000}'}
    p = start_bws(mongo_server.uri(db), tmp_path, name="bws_mem", **env)
    try:
        h = {"X-Forwarded-For": "192.0.2.77", "x-client-version": "bwc-6.8.0"}
        t = time.monotonic()
        codes = [requests.get(p.base + "/v2/feelevels/?coin=btc", headers=h, timeout=30).status_code for _ in range(3)]
        assert codes[2] == 429 and 429 not in codes[:2], codes
        assert time.monotonic() - t >= 0.19  # the 2nd was slowed down by 200 ms
        r = requests.get(p.base + "/v1/feelevels/", headers=h, timeout=30)
        assert r.status_code == 429 and r.text == "Too many request"
        # without the header: the peer address (127.0.0.1) is a different client
        assert requests.get(p.base + "/v2/feelevels/?coin=btc", timeout=30).status_code != 429
    finally:
        p.stop()
        with mongo_server.sync_client() as c:
            c.drop_database(db)
