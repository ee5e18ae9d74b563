"""Fiat-rate routes over HTTP: served from what fiatrateservice stored (spec/api.md §4.26, §4.29)."""

from __future__ import annotations

import time

import pytest_twisted

from tests.helpers.fixtures import api, clock, explorer, service  # noqa: F401


@pytest_twisted.ensureDeferred
async def test_fiatrates_route_reads_history(api):
    st = api.service.storage
    now = int(time.time() * 1000)
    await st.fiat.store_rates("BitPay", "btc", [{"code": "USD", "value": 100.0}], now - 60 * 60_000)
    await st.fiat.store_rates("BitPay", "btc", [{"code": "USD", "value": 200.0}], now - 60_000)
    await st.fiat.store_rates("Bitstamp", "btc", [{"code": "USD", "value": 300.0}], now - 60_000)

    r = await api.client.request("GET", "/v1/fiatrates/USD/")
    assert r.status == 200 and r.json["rate"] == 200.0 and r.json["fetchedOn"] == now - 60_000
    r = await api.client.request("GET", f"/v1/fiatrates/USD/?ts={now - 30 * 60_000}")
    assert r.json["rate"] == 100.0 and r.json["ts"] == now - 30 * 60_000
    r = await api.client.request("GET", "/v1/fiatrates/usd?provider=Bitstamp")  # case-insensitive path
    assert r.status == 200
    r = await api.client.request("GET", "/v1/fiatrates/USD/?provider=Bitstamp")
    assert r.json["rate"] == 300.0
    # older than the 120-minute look-back: no rate, no fetchedOn
    r = await api.client.request("GET", f"/v1/fiatrates/USD/?ts={now - 200 * 60_000}")
    assert r.status == 200 and "rate" not in r.json and "fetchedOn" not in r.json


@pytest_twisted.ensureDeferred
async def test_coin_rate_tables_empty_until_stored(api):
    st = api.service.storage
    r = await api.client.request("GET", "/v1/rates/eth")
    assert r.status == 200 and r.text == ""
    table = [{"code": "ETH", "name": "Ether", "rate": 1}, {"code": "USD", "name": "US Dollar", "rate": 3000.0}]
    await st.cache.set(None, "ethPriceCache", None, {"data": table, "updateTime": 1})
    r = await api.client.request("GET", "/v1/rates/eth")
    assert r.json == table
    r = await api.client.request("GET", "/v1/rates/try")
    assert r.status == 200 and r.text == ""
