"""Fiat rates v2/v3 over HTTP (issue 17; docs/spec/protocol-bwc11.md §4): answered from what
fiatrateservice stored, at the services' clock; unknown codes/coins and bad ``ts`` are 400s."""

from __future__ import annotations

import pytest_twisted

from tests.helpers.fixtures import api, clock, explorer, service  # noqa: F401

MIN = 60_000


async def _store(api, now: int) -> None:
    st = api.service.storage.fiat
    await st.store_rates("BitPay", "btc", [{"code": "USD", "value": 100.0}, {"code": "EUR", "value": 90.0}], now - 300 * MIN)
    await st.store_rates("BitPay", "btc", [{"code": "USD", "value": 200.0}, {"code": "EUR", "value": 180.0}], now - 30 * MIN)
    await st.store_rates("BitPay", "btc", [{"code": "USD", "value": 210.0}], now - 5 * MIN)
    await st.store_rates("BitPay", "ltc", [{"code": "USD", "value": 7.0}], now - 3 * MIN)
    await st.store_rates("Bitstamp", "btc", [{"code": "USD", "value": 999.0}], now - 1 * MIN)


def _now(clock) -> int:
    return int(clock.seconds() * 1000)


@pytest_twisted.ensureDeferred
async def test_v2_history_since_ts_per_coin(api, clock):
    now = _now(clock)
    await _store(api, now)
    # default: since now - 10 min (FIAT_RATE_FETCH_INTERVAL), newest first, coins with rates only
    r = await api.client.request("GET", "/v2/fiatrates/USD/")
    assert r.status == 200, r.text
    assert r.json == {
        "btc": [{"ts": now - 5 * MIN, "rate": 210.0, "fetchedOn": now - 5 * MIN}],
        "ltc": [{"ts": now - 3 * MIN, "rate": 7.0, "fetchedOn": now - 3 * MIN}],
    }
    r = await api.client.request("GET", f"/v2/fiatrates/USD/?ts={now - 60 * MIN}&coin=btc")
    assert r.status == 200
    assert [p["rate"] for p in r.json["btc"]] == [210.0, 200.0] and list(r.json) == ["btc"]
    r = await api.client.request("GET", f"/v2/fiatrates/EUR/?ts={now - 400 * MIN}")
    assert r.json == {"btc": [{"ts": now - 30 * MIN, "rate": 180.0, "fetchedOn": now - 30 * MIN},
                              {"ts": now - 300 * MIN, "rate": 90.0, "fetchedOn": now - 300 * MIN}]}
    # the provider is honoured as in v1; a lower-case code is the stored upper-case one
    r = await api.client.request("GET", f"/v2/fiatrates/usd/?provider=Bitstamp&ts={now - 60 * MIN}")
    assert r.json == {"btc": [{"ts": now - MIN, "rate": 999.0, "fetchedOn": now - MIN}]}
    # nothing since ts: an empty object, not an error
    r = await api.client.request("GET", f"/v2/fiatrates/EUR/?ts={now}")
    assert r.status == 200 and r.json == {}


@pytest_twisted.ensureDeferred
async def test_v3_every_coin_and_code_at_ts(api, clock):
    now = _now(clock)
    await _store(api, now)
    r = await api.client.request("GET", "/v3/fiatrates/")
    assert r.status == 200, r.text
    assert r.json == {
        "btc": [
            {"ts": now, "rate": 180.0, "fetchedOn": now - 30 * MIN, "code": "EUR", "name": "Eurozone Euro"},
            {"ts": now, "rate": 210.0, "fetchedOn": now - 5 * MIN, "code": "USD", "name": "US Dollar"},
        ],
        "ltc": [
            {"ts": now, "code": "EUR", "name": "Eurozone Euro"},  # never stored: no rate
            {"ts": now, "rate": 7.0, "fetchedOn": now - 3 * MIN, "code": "USD", "name": "US Dollar"},
        ],
    }
    # at -10 min: the -30 min record; at -200 min the -300 min one (100 min back); at -150 min
    # nothing: the -300 min record is past the 120-min look-back
    r = await api.client.request("GET", f"/v3/fiatrates/?code=USD&ts={now - 10 * MIN}")
    assert r.json == {"btc": [{"ts": now - 10 * MIN, "rate": 200.0, "fetchedOn": now - 30 * MIN,
                               "code": "USD", "name": "US Dollar"}],
                      "ltc": [{"ts": now - 10 * MIN, "code": "USD", "name": "US Dollar"}]}
    r = await api.client.request("GET", f"/v3/fiatrates/btc/?code=USD&ts={now - 200 * MIN}")
    assert r.json[0]["rate"] == 100.0 and r.json[0]["fetchedOn"] == now - 300 * MIN
    r = await api.client.request("GET", f"/v3/fiatrates/?code=USD&ts={now - 150 * MIN}")
    assert r.status == 200 and len(r.json["btc"]) == 1 and all("rate" not in e for entries in r.json.values() for e in entries)


@pytest_twisted.ensureDeferred
async def test_v3_by_coin(api, clock):
    now = _now(clock)
    await _store(api, now)
    r = await api.client.request("GET", "/v3/fiatrates/BTC/?code=EUR")
    assert r.status == 200, r.text
    assert r.json == [{"ts": now, "rate": 180.0, "fetchedOn": now - 30 * MIN, "code": "EUR", "name": "Eurozone Euro"}]
    r = await api.client.request("GET", "/v3/fiatrates/ltc/")
    assert [(e["code"], e.get("rate")) for e in r.json] == [("EUR", None), ("USD", 7.0)]


@pytest_twisted.ensureDeferred
async def test_unknown_code_coin_and_bad_ts_are_400(api, clock):
    now = _now(clock)
    await _store(api, now)
    for path, words in [
        ("/v3/fiatrates/?code=XYZ", "XYZ is not supported"),
        ("/v3/fiatrates/btc/?code=XYZ", "XYZ is not supported"),
        ("/v3/fiatrates/doge/", "doge is not supported"),
        ("/v2/fiatrates/XYZ/", "XYZ is not supported"),
        ("/v2/fiatrates/USD/?coin=doge", "doge is not supported"),
        ("/v2/fiatrates/USD/?ts=yesterday", "Invalid timestamp"),
        ("/v3/fiatrates/?ts=abc", "Invalid timestamp"),
        ("/v3/fiatrates/btc/?ts=Infinity", "Invalid timestamp"),
    ]:
        r = await api.client.request("GET", path)
        assert r.status == 400, (path, r.status, r.text)
        assert r.json["code"] == "BADREQUEST" and words in r.json["message"], (path, r.json)


@pytest_twisted.ensureDeferred
async def test_nothing_stored_yet(api):
    r = await api.client.request("GET", "/v3/fiatrates/")
    assert r.status == 200 and r.json == {}
    r = await api.client.request("GET", "/v2/fiatrates/USD/")
    assert r.status == 400 and "USD is not supported" in r.json["message"]


@pytest_twisted.ensureDeferred
async def test_v1_still_answers_alongside(api, clock):
    now = _now(clock)
    await _store(api, now)
    r = await api.client.request("GET", "/v1/fiatrates/USD/")
    assert r.status == 200 and r.json == {"ts": now, "rate": 210.0, "fetchedOn": now - 5 * MIN}
    r = await api.client.request("GET", "/v1/fiatrates/USD/?coin=ltc")
    assert r.json["rate"] == 7.0
