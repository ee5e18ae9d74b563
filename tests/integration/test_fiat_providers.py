"""Provider parsers and the ETH/TRY table arithmetic (pure functions, no I/O)."""

from __future__ import annotations

import json

import pytest

from fiatrateservice.providers import (
    ProviderError,
    coingecko_url,
    decode_json,
    eth_price_table,
    parse_bitpay_entries,
    parse_bitstamp,
    parse_coingecko,
    parse_try_price,
    try_price_table,
)
from tests.servers.fake_fiat import BITPAY_RATES, BITSTAMP_TICKER, COINGECKO_PRICES


def test_bitpay_keeps_entries_with_code_and_rate():
    raw = BITPAY_RATES + [{"code": "", "name": "x", "rate": 3}, {"name": "no code", "rate": 2}, {"code": "Q", "rate": "n/a"}]
    entries = parse_bitpay_entries(raw)
    assert [e["code"] for e in entries] == ["BTC", "BCH", "ETH", "USD", "EUR", "GBP", "JPY"]
    assert entries[3] == {"code": "USD", "name": "US Dollar", "rate": 60000.0}
    with pytest.raises(ProviderError):
        parse_bitpay_entries({"data": BITPAY_RATES})  # the newer /rates shape is not this endpoint's
    with pytest.raises(ProviderError):
        parse_bitpay_entries([])


def test_bitstamp_last_is_a_decimal_string():
    assert parse_bitstamp(BITSTAMP_TICKER) == [{"code": "USD", "value": 60010.0}]
    for bad in ({"last": "n/a"}, {"bid": "1"}, [], {"last": None}):
        with pytest.raises(ProviderError):
            parse_bitstamp(bad)


def test_coingecko_url_and_parse():
    url = coingecko_url("https://api.coingecko.com/api/v3/simple/price", ["bitcoin", "ethereum"], ["usd", "eur"])
    assert url == "https://api.coingecko.com/api/v3/simple/price?ids=bitcoin,ethereum&vs_currencies=usd,eur"
    assert coingecko_url("http://h/p?x_cg_demo_api_key=k", ["bitcoin"], ["usd"]).startswith("http://h/p?x_cg_demo_api_key=k&ids=")
    out = parse_coingecko(COINGECKO_PRICES, {"btc": "bitcoin", "eth": "ethereum", "ltc": "litecoin"})
    assert out["btc"] == [{"code": "USD", "value": 60100.0}, {"code": "EUR", "value": 55100.0}, {"code": "BTC", "value": 1.0}]
    assert "ltc" not in out  # unknown to the answer: left out, not an error
    assert parse_coingecko({"bitcoin": {"usd": 1.5, "usd_24h_change": 3.2}}, {"btc": "bitcoin"}) == {
        "btc": [{"code": "USD", "value": 1.5}]
    }
    with pytest.raises(ProviderError):
        parse_coingecko({}, {"btc": "bitcoin"})


def test_try_price_reads_element_2_of_the_last_bracket():
    value = 'x([[1,2,3,4,5]],"last":[1716900000000, 0.1, 0.000002, 5, 6])'
    assert parse_try_price({"value": value}) == 0.000002
    for bad in (
        {"value": "[1,2,3,4]"},  # 4 elements
        {"value": "[1,2,3,4,5]"},  # 3 is not < 1
        {"value": "[1,2,0,4,5]"},  # 0 is not > 0
        {"value": "no brackets"},
        {"value": 5},
        [],
    ):
        with pytest.raises(ProviderError):
            parse_try_price(bad)


def test_decode_json_rejects_empty_and_garbage():
    assert decode_json(b'{"a":1}') == {"a": 1}
    for body in (b"", b"  ", b"<html>"):
        with pytest.raises(ProviderError):
            decode_json(body)


def test_eth_table_is_price_of_one_eth():
    table = eth_price_table(parse_bitpay_entries(BITPAY_RATES))
    by = {e["code"]: e for e in table}
    assert by["ETH"] == {"code": "ETH", "name": "Ether", "rate": 1}
    assert by["USD"]["rate"] == pytest.approx(3000.0)  # 60000 USD/BTC / 20 ETH/BTC
    assert by["BTC"]["rate"] == pytest.approx(0.05)
    assert [e["code"] for e in table] == [e["code"] for e in parse_bitpay_entries(BITPAY_RATES)]
    json.dumps(table)  # plain JSON
    with pytest.raises(ProviderError):
        eth_price_table([{"code": "USD", "name": "US Dollar", "rate": 1.0}])


def test_try_table_starts_with_try():
    table = try_price_table(parse_bitpay_entries(BITPAY_RATES), 0.000002)
    assert table[0] == {"code": "TRY", "name": "Trias Token", "rate": 1}
    by = {e["code"]: e["rate"] for e in table[1:]}
    assert by["USD"] == pytest.approx(0.12) and by["BTC"] == pytest.approx(0.000002)
