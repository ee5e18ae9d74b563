"""fiatrateservice against a local fake provider server (real HTTP on 127.0.0.1) and a real
database: history, look-ups, a provider down, the ETH/TRY tables, the schedule under a Clock,
and ``python -m fiatrateservice --once``."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import defer, protocol
from twisted.internet.task import Clock, deferLater
from twisted.internet.utils import getProcessOutputAndValue

from bws.config import config_from_dict
from bws.errors import ClientError
from bws.fiat import MAX_LOOK_BACK_MS, fiat_rate_for_request, get_coin_rates, get_rate
from fiatrateservice.service import FiatRateService
from tests.helpers import db
from tests.servers.fake_fiat import fake_fiat  # noqa: F401 - fixture

REPO = Path(__file__).resolve().parents[2]
T0 = 1_700_000_000  # seconds; round timestamps come from the injected clock
HOUR = 3600
MS = 1000


def make_service(storage, fake, start=T0, **overrides):
    opts = config_from_dict({"fiatRateServiceOpts": fake.fiat_opts(**overrides)}).fiatRateServiceOpts
    clock = Clock()
    clock.advance(start)
    return FiatRateService(storage, opts, clock=clock), clock


async def rates(storage, **q):
    return db.find(storage, "fiat_rates", q, sort=[("ts", 1), ("provider", 1), ("coin", 1), ("code", 1)])


@pytest_twisted.ensureDeferred
async def test_round_stores_history(storage, fake_fiat):
    svc, clock = make_service(storage, fake_fiat)
    summary = await svc.fetch_round()
    assert summary["ts"] == T0 * MS
    assert summary["providers"] == {
        "BitPay": {"ok": True, "stored": {"btc": 7}},
        "Bitstamp": {"ok": True, "stored": {"btc": 1}},
        "CoinGecko": {"ok": True, "stored": {"btc": 3, "eth": 3}},
    }
    docs = await rates(storage)
    assert len(docs) == 7 + 1 + 6 and {d["ts"] for d in docs} == {T0 * MS}
    assert {"provider": "BitPay", "coin": "btc", "code": "USD", "ts": T0 * MS, "value": 60000} in docs
    assert {"provider": "Bitstamp", "coin": "btc", "code": "USD", "ts": T0 * MS, "value": 60010.0} in docs
    assert {"provider": "CoinGecko", "coin": "eth", "code": "EUR", "ts": T0 * MS, "value": 2755.25} in docs
    assert not [d for d in docs if d["code"] == "XXX"]  # BitPay entry with rate 0 skipped
    # CoinGecko was asked for exactly the configured ids and currencies
    assert fake_fiat.requests["CoinGecko"][0][1] == {"ids": "bitcoin,ethereum", "vs_currencies": "usd,eur,btc"}

    # the next round inserts again: history, nothing overwritten
    fake_fiat.bitpay[3]["rate"] = 61000
    clock.advance(HOUR)
    await svc.fetch_round()
    usd = await rates(storage, provider="BitPay", code="USD")
    assert [(d["ts"], d["value"]) for d in usd] == [(T0 * MS, 60000), ((T0 + HOUR) * MS, 61000)]
    assert len(await rates(storage)) == 2 * 14
    assert svc.rounds == 2


@pytest_twisted.ensureDeferred
async def test_lookups_with_and_without_ts(storage, fake_fiat):
    svc, clock = make_service(storage, fake_fiat)
    await svc.fetch_round()  # T0: BitPay USD 60000
    fake_fiat.bitpay[3]["rate"] = 61000
    fake_fiat.bitstamp["last"] = "61010.50"
    clock.advance(HOUR)
    await svc.fetch_round()  # T1: BitPay USD 61000
    t0, t1 = T0 * MS, (T0 + HOUR) * MS

    # no ts: now; default provider BitPay, default coin btc
    now = t1 + 5 * 60 * MS
    assert await get_rate(storage, "USD", now_ms=now) == {"ts": now, "rate": 61000, "fetchedOn": t1}
    assert await get_rate(storage, "EUR", now_ms=now) == {"ts": now, "rate": 55000.5, "fetchedOn": t1}
    # provider and coin select other series
    assert (await get_rate(storage, "USD", provider="Bitstamp", now_ms=now))["rate"] == 61010.5
    assert (await get_rate(storage, "USD", coin="eth", provider="CoinGecko", now_ms=now))["rate"] == 3005.5
    # codes are case-sensitive, unknown code → no rate
    assert await get_rate(storage, "usd", now_ms=now) == {"ts": now}

    # with ts: newest at or before ts
    mid = t0 + 30 * 60 * MS
    assert await get_rate(storage, "USD", ts=mid, now_ms=now) == {"ts": mid, "rate": 60000, "fetchedOn": t0}
    assert await get_rate(storage, "USD", ts=t1, now_ms=now) == {"ts": t1, "rate": 61000, "fetchedOn": t1}
    assert await get_rate(storage, "USD", ts=t0 - 1, now_ms=now) == {"ts": t0 - 1}
    # a list in, a list out, same order
    assert await get_rate(storage, "USD", ts=[t1, t0 - 1, mid], now_ms=now) == [
        {"ts": t1, "rate": 61000, "fetchedOn": t1},
        {"ts": t0 - 1},
        {"ts": mid, "rate": 60000, "fetchedOn": t0},
    ]
    # 120-minute look-back: exactly at the boundary kept, 1 ms beyond → missing
    edge = t1 + MAX_LOOK_BACK_MS
    assert (await get_rate(storage, "USD", ts=edge - 1, now_ms=now))["rate"] == 61000
    assert (await get_rate(storage, "USD", ts=edge, now_ms=now))["fetchedOn"] == t1
    assert await get_rate(storage, "USD", ts=edge + 1, now_ms=now) == {"ts": edge + 1}
    # falsy ts (absent/0/NaN query value) → now
    assert (await get_rate(storage, "USD", ts=0, now_ms=now))["ts"] == now

    # the HTTP route helper: query parsing, provider/coin/ts, error for a missing code
    body = await fiat_rate_for_request(storage, "USD", {"ts": str(mid)}, now_ms=now)
    assert body == {"ts": mid, "rate": 60000, "fetchedOn": t0}
    body = await fiat_rate_for_request(storage, "USD", {b"provider": [b"Bitstamp"], b"ts": [str(mid).encode()]}, now_ms=now)
    assert body == {"ts": mid, "rate": 60010.0, "fetchedOn": t0}
    body = await fiat_rate_for_request(storage, "EUR", {"coin": "ETH", "provider": "CoinGecko", "ts": str(t1)}, now_ms=now)
    assert body == {"ts": t1, "rate": 2755.25, "fetchedOn": t1}
    body = await fiat_rate_for_request(storage, "USD", {"ts": "abc"}, now_ms=now)
    assert body == {"ts": now, "rate": 61000, "fetchedOn": t1}
    later = t1 + 10 * HOUR * MS  # no ts: the caller's now, here far past the stored data
    assert await fiat_rate_for_request(storage, "USD", {}, now_ms=later) == {"ts": later}
    with pytest.raises(ClientError) as e:
        await fiat_rate_for_request(storage, "", {}, now_ms=now)
    assert e.value.to_body() == {"code": "BADREQUEST", "message": "Required argument code missing."}


@pytest_twisted.ensureDeferred
async def test_provider_down_keeps_others_and_old_data(storage, fake_fiat, caplog):
    svc, clock = make_service(storage, fake_fiat, timeout=1)
    await svc.fetch_round()
    t0, t1 = T0 * MS, (T0 + HOUR) * MS
    eth_before = await get_coin_rates(storage, "eth")

    # round 2: Bitstamp refuses connections, CoinGecko answers 500, BitPay fine
    await fake_fiat.down("Bitstamp")
    fake_fiat.set_mode("CoinGecko", "http500")
    fake_fiat.bitpay[3]["rate"] = 62000
    clock.advance(HOUR)
    caplog.set_level("INFO", logger="fiatrateservice")
    summary = await svc.fetch_round()
    p = summary["providers"]
    assert p["BitPay"] == {"ok": True, "stored": {"btc": 7}}
    assert p["Bitstamp"]["ok"] is False and "refused" in p["Bitstamp"]["error"].lower()
    assert p["CoinGecko"] == {"ok": False, "stored": {}, "error": "HTTP 500"}
    lines = [r.getMessage() for r in caplog.records if r.name == "fiatrateservice"]
    assert any(m.startswith("BitPay ok: btc 7 rates") for m in lines)
    assert any(m.startswith("Bitstamp failed:") for m in lines)
    assert any(m.startswith("CoinGecko failed: HTTP 500") for m in lines)
    assert [d["ts"] for d in await rates(storage, provider="BitPay", code="USD")] == [t0, t1]
    assert [d["ts"] for d in await rates(storage, provider="Bitstamp")] == [t0]
    # the down provider's last rate is still served (within the look-back window)
    now = t1 + 60 * MS
    assert await get_rate(storage, "USD", provider="Bitstamp", now_ms=now) == {"ts": now, "rate": 60010.0, "fetchedOn": t0}
    assert await get_rate(storage, "USD", now_ms=now) == {"ts": now, "rate": 62000, "fetchedOn": t1}
    assert {e["code"]: e["rate"] for e in await get_coin_rates(storage, "eth")}["USD"] == pytest.approx(3100.0)

    # round 3: BitPay down, the rest answer garbage / nothing / never → all failed, old tables kept
    eth_t1 = await get_coin_rates(storage, "eth")
    try_t1 = await get_coin_rates(storage, "try")
    await fake_fiat.down("BitPay")
    await fake_fiat.up("Bitstamp")
    fake_fiat.set_mode("Bitstamp", "garbage")
    fake_fiat.set_mode("CoinGecko", "empty")
    fake_fiat.set_mode("TRY", "hang")
    clock.advance(HOUR)
    started = time.monotonic()
    summary = await svc.fetch_round()
    assert time.monotonic() - started < 4  # the hung TRY source costs the 1 s timeout, not more
    assert {n: r["ok"] for n, r in summary["providers"].items()} == {"BitPay": False, "Bitstamp": False, "CoinGecko": False}
    assert summary["providers"]["Bitstamp"]["error"].startswith("invalid JSON")
    assert summary["providers"]["CoinGecko"]["error"] == "empty body"
    assert summary["tables"] == {"eth": "no BitPay rates this round", "try": "no BitPay rates this round"}
    assert await get_coin_rates(storage, "eth") == eth_t1 != eth_before
    assert await get_coin_rates(storage, "try") == try_t1

    # round 4: everything back → all land again
    await fake_fiat.up("BitPay")
    for n in ("Bitstamp", "CoinGecko", "TRY"):
        fake_fiat.set_mode(n, "ok")
    clock.advance(HOUR)
    summary = await svc.fetch_round()
    assert all(r["ok"] for r in summary["providers"].values()) and summary["tables"] == {"eth": True, "try": True}


@pytest_twisted.ensureDeferred
async def test_eth_and_try_tables(storage, fake_fiat):
    assert await get_coin_rates(storage, "eth") is None  # nothing before the first round
    assert await get_coin_rates(storage, "try") is None
    svc, clock = make_service(storage, fake_fiat)
    summary = await svc.fetch_round()
    assert summary["tables"] == {"eth": True, "try": True}
    eth = await get_coin_rates(storage, "eth")
    assert [e["code"] for e in eth] == ["BTC", "BCH", "ETH", "USD", "EUR", "GBP", "JPY"]
    assert eth[2] == {"code": "ETH", "name": "Ether", "rate": 1}
    assert eth[3]["rate"] == pytest.approx(3000.0) and eth[0]["rate"] == pytest.approx(0.05)
    tr = await get_coin_rates(storage, "try")
    assert tr[0] == {"code": "TRY", "name": "Trias Token", "rate": 1}
    assert tr[4] == {"code": "USD", "name": "US Dollar", "rate": pytest.approx(0.12)}  # 60000 × 0.000002
    doc = await storage.cache.get(None, "tryPriceCache", None)
    assert doc["updateTime"] == T0 * MS

    # TRY source gives an out-of-range price: table kept; with CoinGecko's trias id configured
    # its BTC quote of the same round is the fallback
    fake_fiat.try_point[2] = 2.5
    clock.advance(HOUR)
    summary = await svc.fetch_round()
    assert summary["tables"]["try"].startswith("no TRY price this round") and summary["tables"]["eth"] is True
    assert await get_coin_rates(storage, "try") == tr
    svc2, _ = make_service(storage, fake_fiat, start=T0 + 2 * HOUR, coinGeckoIds={"btc": "bitcoin", "try": "trias-token"})
    summary = await svc2.fetch_round()
    assert summary["providers"]["CoinGecko"]["stored"] == {"btc": 3, "try": 3}
    tr2 = await get_coin_rates(storage, "try")
    assert tr2[4]["rate"] == pytest.approx(0.06)  # 60000 × 0.000001

    # coins without eth/try: no tables touched
    svc3, _ = make_service(storage, fake_fiat, start=T0 + 3 * HOUR, coins=["btc"])
    assert (await svc3.fetch_round())["tables"] == {}


@pytest_twisted.ensureDeferred
async def test_schedule_fires_every_interval(storage, fake_fiat):
    svc, clock = make_service(storage, fake_fiat, fetchInterval=60)
    svc.start()
    await svc.when_rounds(1)  # at start
    assert len(fake_fiat.requests["BitPay"]) == 1

    clock.advance(60 * 60 - 1)
    assert svc._current.called and svc.rounds == 1  # not yet due: nothing in flight
    await fake_fiat.down("BitPay")  # a failing provider must not end the schedule
    clock.advance(1)
    await svc.when_rounds(2)
    assert svc.last_result["ts"] == (T0 + HOUR) * MS
    assert svc.last_result["providers"]["BitPay"]["ok"] is False

    await fake_fiat.up("BitPay")
    clock.advance(60 * 60)
    await svc.when_rounds(3)
    assert svc.last_result["ts"] == (T0 + 2 * HOUR) * MS and svc.last_result["providers"]["BitPay"]["ok"]
    assert len(fake_fiat.requests["BitPay"]) == 2  # round 2 was refused before HTTP
    assert len(fake_fiat.requests["Bitstamp"]) == 3
    assert sorted({d["ts"] for d in await rates(storage, provider="Bitstamp")}) == [
        T0 * MS, (T0 + HOUR) * MS, (T0 + 2 * HOUR) * MS,
    ]

    await svc.stop()
    clock.advance(10 * HOUR)
    assert svc.rounds == 3 and not clock.getDelayedCalls()


@pytest_twisted.ensureDeferred
async def test_fractional_interval(storage, fake_fiat):
    svc, clock = make_service(storage, fake_fiat, fetchInterval=0.5)
    svc.start()
    await svc.when_rounds(1)
    clock.advance(30)
    await svc.when_rounds(2)
    await svc.stop()


async def run_main(args, env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BWS")}
    env.update(env_extra)
    out, err, code = await getProcessOutputAndValue(
        sys.executable, ["-m", "fiatrateservice", *args], env=env, path=str(REPO)
    )
    return out.decode(), err.decode(), code


@pytest_twisted.ensureDeferred
async def test_main_once_and_help(storage, fake_fiat, mongo_uri):
    out, err, code = await run_main(["--help"], {})
    assert code == 0 and "--once" in out and "--config" in out and "fetchInterval" in out

    env = {"BWS_MONGODB_URI": mongo_uri, "BWS__fiatRateServiceOpts": json.dumps(fake_fiat.fiat_opts())}
    out, err, code = await run_main(["--once"], env)
    assert code == 0, err
    assert "BitPay ok: btc 7 rates" in err and "/v1/rates/eth table ok" in err
    assert len(await rates(storage, provider="BitPay")) == 7
    assert (await get_coin_rates(storage, "try"))[0]["code"] == "TRY"

    await fake_fiat.down("Bitstamp")
    out, err, code = await run_main(["--once"], env)
    assert code == 1, err
    assert "Bitstamp failed" in err
    assert len(await rates(storage, provider="BitPay")) == 14  # the others still landed

    bad = dict(env, BWS__fiatRateServiceOpts=json.dumps({"providers": {"Nope": {"url": "http://x/"}}, "defaultProvider": "Nope"}))
    out, err, code = await run_main(["--once"], bad)
    assert code == 2 and "fiatRateServiceOpts.providers.Nope: unknown provider" in err


class _Collect(protocol.ProcessProtocol):
    def __init__(self):
        self.err = b""
        self.ended: defer.Deferred = defer.Deferred()

    def errReceived(self, data):
        self.err += data

    def processEnded(self, reason):
        self.ended.callback(reason.value.exitCode)


@pytest_twisted.ensureDeferred
async def test_main_runs_until_terminated(storage, fake_fiat, mongo_uri):
    """Long-running mode: a round at start, then a clean exit on SIGTERM."""
    from twisted.internet import reactor

    env = {k: v for k, v in os.environ.items() if not k.startswith("BWS")}
    env.update({"BWS_MONGODB_URI": mongo_uri, "BWS__fiatRateServiceOpts": json.dumps(fake_fiat.fiat_opts())})
    proc = _Collect()
    transport = reactor.spawnProcess(
        proc, sys.executable, [sys.executable, "-m", "fiatrateservice"], env=env, path=str(REPO)
    )
    try:
        for _ in range(200):
            if b"/v1/rates/try table ok" in proc.err:
                break
            await deferLater(reactor, 0.05)
        assert b"every 60 min" in proc.err and b"/v1/rates/try table ok" in proc.err, proc.err.decode()
    finally:
        if not proc.ended.called:
            transport.signalProcess("TERM")
    assert await proc.ended == 0, proc.err.decode()
    assert len(await rates(storage, provider="BitPay")) == 7
