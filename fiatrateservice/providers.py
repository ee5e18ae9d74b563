"""Fiat-rate providers: request URLs and pure parsers (no I/O here).

Wire shapes, as the real services send them (docs/spec/services.md §6.1, §6.3):

* ``BitPay`` — ``GET https://bitpay.com/api/rates/`` → JSON array
  ``[{"code": "BTC", "name": "Bitcoin", "rate": 1}, {"code": "USD", "name": "US Dollar",
  "rate": 67012.5}, {"code": "ETH", "name": "Ether", "rate": 19.3}, ...]``; ``rate`` = units of
  ``code`` per 1 BTC. Entries without a truthy ``code`` and ``rate`` are skipped (reference).
* ``Bitstamp`` — ``GET https://www.bitstamp.net/api/ticker/`` → JSON object whose values are
  decimal *strings*: ``{"timestamp": "1716900000", "last": "67010", "high": ..., "low": ...,
  "bid": ..., "ask": ..., "open": ..., "vwap": ..., "volume": ...}``; ``last`` is USD per 1 BTC.
* ``CoinGecko`` — ``GET https://api.coingecko.com/api/v3/simple/price?ids=bitcoin,ethereum
  &vs_currencies=usd,eur`` → ``{"bitcoin": {"usd": 67187.3, "eur": 61920.1}, "ethereum":
  {...}}``; ids or currencies it does not know are simply absent. Codes are stored upper case.
* TRY price (the fork's source) — ``GET https://dncapi.bqiapp.com/api/coin/web-charts?code=trias
  &type=all&webp=1`` → a JSON object whose string field ``value`` embeds chart points; the text
  from its last ``[`` to its last ``]`` is a JSON array of exactly 5 numbers, element 2 being the
  TRY price in BTC, accepted only when ``0 < price < 1``.

Every parser raises :class:`ProviderError` on a body it cannot use, so the service logs the
reason and treats the provider as failed for this round.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import urlencode, urlsplit, urlunsplit

#: One stored rate: ``{"code": str, "value": float}`` (value = units of code per 1 coin).
Rate = dict[str, Any]
#: BitPay's own entry: ``{"code": str, "name": str, "rate": float}``.
Entry = dict[str, Any]

TRY_ENTRY: Entry = {"code": "TRY", "name": "Trias Token", "rate": 1}


class ProviderError(ValueError):
    """A provider answered something unusable; the message says what."""


def _number(value: Any, what: str) -> float:
    """A finite float from a JSON number or a decimal string (Bitstamp sends strings)."""
    if isinstance(value, bool):
        raise ProviderError(f"{what}: not a number: {value!r}")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ProviderError(f"{what}: not a number: {value!r}") from None
    if not math.isfinite(f):
        raise ProviderError(f"{what}: not finite: {value!r}")
    return f


def decode_json(body: bytes) -> Any:
    """Parse a response body; an empty body is an error, as in the reference ("empty body")."""
    if not body or not body.strip():
        raise ProviderError("empty body")
    try:
        return json.loads(body)
    except ValueError as e:
        raise ProviderError(f"invalid JSON: {e}") from None


# -- BitPay ------------------------------------------------------------------------


def parse_bitpay_entries(data: Any) -> list[Entry]:
    """BitPay's array, cleaned: entries with a truthy ``code`` and a non-zero numeric ``rate``.

    Returns ``[{code, name, rate}]`` in BitPay's order (the ``/v1/rates/*`` tables keep it).
    """
    if not isinstance(data, list):
        raise ProviderError(f"expected a JSON array, got {type(data).__name__}")
    out: list[Entry] = []
    for d in data:
        if not isinstance(d, dict) or not d.get("code") or not d.get("rate"):
            continue
        try:
            rate = _number(d["rate"], f"rate of {d['code']}")
        except ProviderError:
            continue  # one odd entry must not cost the other 150 currencies
        out.append({"code": str(d["code"]), "name": d.get("name", ""), "rate": rate})
    if not out:
        raise ProviderError("no usable rates in the array")
    return out


def bitpay_rates(entries: Sequence[Entry]) -> list[Rate]:
    """``[{code, value}]`` to store, from :func:`parse_bitpay_entries`."""
    return [{"code": e["code"], "value": e["rate"]} for e in entries]


# -- Bitstamp ----------------------------------------------------------------------


def parse_bitstamp(data: Any) -> list[Rate]:
    """``[{"code": "USD", "value": float(last)}]``."""
    if not isinstance(data, dict) or "last" not in data:
        raise ProviderError("expected an object with 'last'")
    return [{"code": "USD", "value": _number(data["last"], "last")}]


# -- CoinGecko ---------------------------------------------------------------------


def coingecko_url(base: str, ids: Sequence[str], vs_currencies: Sequence[str]) -> str:
    """``base?ids=a,b&vs_currencies=usd,eur`` (commas kept literal, as CoinGecko documents)."""
    parts = urlsplit(base)
    query = urlencode({"ids": ",".join(ids), "vs_currencies": ",".join(vs_currencies)}, safe=",")
    if parts.query:
        query = parts.query + "&" + query
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def parse_coingecko(data: Any, coin_ids: Mapping[str, str]) -> dict[str, list[Rate]]:
    """coin -> ``[{code (upper case), value}]`` for each coin whose id is in the answer.

    coin_ids: our coin -> CoinGecko id (``{"btc": "bitcoin"}``). A coin missing from the
    answer is left out (logged by the caller); none at all is an error.
    """
    if not isinstance(data, dict):
        raise ProviderError(f"expected a JSON object, got {type(data).__name__}")
    out: dict[str, list[Rate]] = {}
    for coin, cg_id in coin_ids.items():
        prices = data.get(cg_id)
        if not isinstance(prices, dict):
            continue
        rates = []
        for cur, value in prices.items():
            # CoinGecko also returns "<cur>_24h_change" etc. when asked; keep plain currencies
            if "_" in cur or value is None:
                continue
            try:
                rates.append({"code": cur.upper(), "value": _number(value, f"{cg_id}.{cur}")})
            except ProviderError:
                continue
        if rates:
            out[coin] = rates
    if not out:
        raise ProviderError(f"none of the ids {sorted(coin_ids.values())} in the answer")
    return out


# -- TRY price (dncapi web-charts) ---------------------------------------------------


def parse_try_price(data: Any) -> float:
    """TRY price in BTC from the dncapi chart answer (see module doc); raises ProviderError."""
    if not isinstance(data, dict) or not isinstance(data.get("value"), str):
        raise ProviderError("expected an object with a string 'value'")
    text = data["value"]
    start, end = text.rfind("["), text.rfind("]")
    if start < 0 or end < start:
        raise ProviderError("no [...] in 'value'")
    try:
        point = json.loads(text[start : end + 1])
    except ValueError:
        raise ProviderError("last [...] of 'value' is not JSON") from None
    if not isinstance(point, list) or len(point) != 5:
        raise ProviderError(f"expected 5 elements, got {point!r}")
    price = _number(point[2], "price")
    if not 0 < price < 1:
        raise ProviderError(f"price {price} outside (0, 1)")
    return price


# -- /v1/rates/eth and /v1/rates/try tables -----------------------------------------


def eth_price_table(entries: Sequence[Entry]) -> list[Entry]:
    """Price of 1 ETH in every BitPay currency: each BTC rate divided by BitPay's ETH rate
    (ETH per BTC); the ETH entry is forced to exactly 1. Raises ProviderError without ETH."""
    eth = next((e for e in entries if e["code"] == "ETH"), None)
    if eth is None or not eth["rate"]:
        raise ProviderError("BitPay rates have no ETH entry")
    factor = 1 / eth["rate"]
    table = [{"code": e["code"], "name": e["name"], "rate": e["rate"] * factor} for e in entries]
    for e in table:
        if e["code"] == "ETH":
            e["rate"] = 1
    return table


def try_price_table(entries: Sequence[Entry], try_btc: float) -> list[Entry]:
    """Price of 1 TRY: ``TRY_ENTRY`` first, then every BitPay rate (per BTC) times the TRY
    price in BTC."""
    return [dict(TRY_ENTRY)] + [{"code": e["code"], "name": e["name"], "rate": e["rate"] * try_btc} for e in entries]


# -- the provider table ---------------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    """How to ask one provider and read its answer.

    url(base, coins, opts) -> the request URL, or None when none of ``coins`` is served;
    parse(json, coins, opts) -> ``{coin: [{code, value}]}``.
    """

    name: str
    url: Callable[[str, Sequence[str], Any], str | None]
    parse: Callable[[Any, Sequence[str], Any], dict[str, list[Rate]]]


def _btc_only(base: str, coins: Sequence[str], opts: Any) -> str | None:
    # BitPay's and Bitstamp's reference URLs quote BTC only
    return base if "btc" in coins else None


def _coingecko_ids(coins: Sequence[str], opts: Any) -> dict[str, str]:
    return {c: opts.coinGeckoIds[c] for c in coins if c in opts.coinGeckoIds}


PROVIDERS: dict[str, Provider] = {
    "BitPay": Provider(
        "BitPay", _btc_only, lambda data, coins, opts: {"btc": bitpay_rates(parse_bitpay_entries(data))}
    ),
    "Bitstamp": Provider("Bitstamp", _btc_only, lambda data, coins, opts: {"btc": parse_bitstamp(data)}),
    "CoinGecko": Provider(
        "CoinGecko",
        lambda base, coins, opts: (
            coingecko_url(base, list(_coingecko_ids(coins, opts).values()), opts.vsCurrencies)
            if _coingecko_ids(coins, opts)
            else None
        ),
        lambda data, coins, opts: parse_coingecko(data, _coingecko_ids(coins, opts)),
    ),
}
