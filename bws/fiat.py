"""Fiat-rate look-ups for the bws HTTP API (docs/spec/services.md §6.2, §6.3; docs/spec/api.md §4.26, §4.29).

Read-only: the ``fiatrateservice`` process writes ``fiat_rates`` (history) and the
``ethPriceCache`` / ``tryPriceCache`` documents of ``cache``; bws only reads them here.

* :func:`get_rate` — the reference ``getRate``: newest stored rate at or before ``ts``, within
  :data:`MAX_LOOK_BACK_MS` of it.
* :func:`fiat_rate_for_request` — ``GET /v1/fiatrates/:code/?coin=&provider=&ts=`` end to end
  (argument parsing, the "code missing" error, the answer body).
* :func:`get_coin_rates` — the stored ``/v1/rates/eth`` / ``/v1/rates/try`` array, or None.
* :func:`historical_rates` — ``GET /v2/fiatrates/:code`` (upstream ``getHistoricalRates``).
* :func:`fiat_rates` — ``GET /v3/fiatrates/`` and ``/v3/fiatrates/:coin`` (upstream
  ``getFiatRates`` / ``getFiatRatesByCoin``).

The v2/v3 look-ups only know the coins and currency codes fiatrateservice has stored for the
provider (:meth:`bws.storage.fiat.FiatRepo.stored_keys`); anything else is a 400, where upstream
answers 500 for an unknown v3 code (docs/spec/protocol-bwc11.md §9).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Sequence, Union

from bws.errors import ClientError
from bws.jsnum import js_integral
from bws.model.constants import FIAT_RATE_FETCH_INTERVAL

#: ``FIAT_RATE_MAX_LOOK_BACK_TIME`` (120 min) in ms: an older rate counts as missing.
MAX_LOOK_BACK_MS = 120 * 60 * 1000
#: ``FIAT_RATE_PROVIDER``
DEFAULT_PROVIDER = "BitPay"
#: ``/v1/rates/<coin>`` -> cache ``type`` written by fiatrateservice.
PRICE_CACHE_TYPES = {"eth": "ethPriceCache", "try": "tryPriceCache"}

Ts = Union[int, float, None]


def _norm_ts(ts: Any, now_ms: int) -> Union[int, float]:
    """A usable epoch-ms number; None, 0, NaN and non-numbers become now (reference: falsy ts → now)."""
    if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not ts or math.isnan(ts):
        return now_ms
    return js_integral(ts) if isinstance(ts, float) else ts


async def _one(storage: Any, provider: str, code: str, coin: str, ts: Union[int, float]) -> dict[str, Any]:
    doc = await storage.fiat.fetch_rate(provider, code, ts, coin)
    out: dict[str, Any] = {"ts": ts}
    # strictly older than the look-back window → missing; exactly at the boundary → kept
    if doc is not None and doc["ts"] >= ts - MAX_LOOK_BACK_MS:
        out["rate"] = doc["value"]
        out["fetchedOn"] = doc["ts"]
    return out


async def get_rate(
    storage: Any,
    code: str,
    coin: str = "btc",
    provider: Optional[str] = None,
    ts: Union[Ts, Sequence[Ts]] = None,
    *,
    default_provider: str = DEFAULT_PROVIDER,
    now_ms: int,
) -> Union[dict[str, Any], list[dict[str, Any]]]:
    """The rate of 1 ``coin`` in ``code`` at ``ts``.

    code: currency code as stored, case-sensitive (``USD``); coin: ``btc`` | ``eth`` | ...;
    provider: ``BitPay`` | ``Bitstamp`` | ``CoinGecko``, None/"" → ``default_provider``;
    ts: int epoch ms, or a list of them; None/0/NaN → now (``now_ms``: epoch ms from the caller's clock).

    Returns ``{"ts": int, "rate": float, "fetchedOn": int epoch ms}`` — ``rate`` and
    ``fetchedOn`` absent when nothing was stored at or before ts, or the newest such record is
    more than 120 min older than ts. A list in gives a list out, same order.
    """
    provider = provider or default_provider
    now = now_ms
    if isinstance(ts, (list, tuple)):
        return [await _one(storage, provider, code, coin, _norm_ts(t, now)) for t in ts]
    return await _one(storage, provider, code, coin, _norm_ts(ts, now))


def _arg(args: Mapping[Any, Any], name: str) -> Optional[str]:
    """First value of query argument ``name`` from a ``{str: str}`` dict or klein's
    ``request.args`` (``{bytes: [bytes]}``)."""
    value = args.get(name, args.get(name.encode()))
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value


def parse_ts_arg(raw: Optional[str]) -> Optional[Union[int, float]]:
    """``?ts=`` as the reference reads it (``+req.query.ts``): a number, else None (→ now)."""
    if raw is None:
        return None
    try:
        value = float(raw.strip()) if raw.strip() else 0.0
    except ValueError:
        return None
    if not math.isfinite(value) or not value:
        return None
    return js_integral(value)  # ?ts=1e308 stays a double (an int would overflow the query)


async def fiat_rate_for_request(
    storage: Any,
    code: Optional[str],
    args: Mapping[Any, Any],
    *,
    default_provider: str = DEFAULT_PROVIDER,
    now_ms: int,
) -> dict[str, Any]:
    """``GET /v1/fiatrates/:code/?coin=&provider=&ts=`` → the JSON body ``{ts, rate?, fetchedOn?}``.

    code: the path parameter; args: the query (see :func:`_arg`); ``coin`` defaults to ``btc``
    (lower-cased), ``provider`` to ``default_provider``, ``ts`` (epoch ms) to ``now_ms``
    (epoch ms from the caller's clock).
    Raises ClientError("Required argument code missing.") when code is empty.
    """
    if not code:
        raise ClientError("Required argument code missing.")
    coin = (_arg(args, "coin") or "btc").lower()
    return await get_rate(
        storage,
        code,
        coin=coin,
        provider=_arg(args, "provider") or None,
        ts=parse_ts_arg(_arg(args, "ts")),
        default_provider=default_provider,
        now_ms=now_ms,
    )


async def get_coin_rates(storage: Any, coin: str) -> Optional[list[dict[str, Any]]]:
    """The stored ``/v1/rates/<coin>`` array ``[{code, name, rate}]`` (rate = price of 1 ``coin``
    in ``code``; for ``try`` the first element is ``{"code": "TRY", "name": "Trias Token",
    "rate": 1}``), or None before fiatrateservice has stored one (the route then answers 200
    with an empty body, as the fork does). coin: ``eth`` | ``try``; others raise KeyError.
    """
    doc = await storage.cache.get(None, PRICE_CACHE_TYPES[coin], None)
    return None if doc is None else doc.get("data")


# -- v2 / v3 (bitcore-wallet-client 10.x / 11.x) ------------------------------------------------

#: Display names of the v3 ``name`` field (upstream ``Defaults.FIAT_CURRENCIES`` and the commonest
#: others); a stored code missing here is named by its code.
CURRENCY_NAMES = {
    "USD": "US Dollar", "EUR": "Eurozone Euro", "GBP": "Pound Sterling", "JPY": "Japanese Yen",
    "CAD": "Canadian Dollar", "AUD": "Australian Dollar", "NZD": "New Zealand Dollar",
    "CHF": "Swiss Franc", "CNY": "Chinese Yuan", "INR": "Indian Rupee", "BRL": "Brazilian Real",
    "ARS": "Argentine Peso", "COP": "Colombian Peso", "MXN": "Mexican Peso", "NGN": "Nigerian Naira",
    "HNL": "Honduran Lempira", "KRW": "South Korean Won", "RUB": "Russian Ruble",
    "TRY": "Turkish Lira", "ZAR": "South African Rand", "SEK": "Swedish Krona",
    "NOK": "Norwegian Krone", "DKK": "Danish Krone", "PLN": "Polish Zloty", "HKD": "Hong Kong Dollar",
    "SGD": "Singapore Dollar", "ILS": "Israeli Shekel", "AED": "UAE Dirham", "PHP": "Philippine Peso",
    "THB": "Thai Baht", "IDR": "Indonesian Rupiah", "CZK": "Czech Koruna", "HUF": "Hungarian Forint",
}


def parse_strict_ts(raw: Optional[str]) -> Optional[Union[int, float]]:
    """``?ts=`` of the v2/v3 routes: None when absent or empty (→ the route's default), else the
    number (epoch ms; ``0`` kept, the caller decides). Raises ClientError("Invalid timestamp")
    for text that is not a finite number (upstream ``isNaN(opts.ts)``)."""
    if raw is None or not raw.strip():
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        raise ClientError("Invalid timestamp") from None
    if not math.isfinite(value):
        raise ClientError("Invalid timestamp")
    return js_integral(value)


async def _keys(storage: Any, provider: str, code: Optional[str], coin: Optional[str]) -> tuple[list[str], list[str]]:
    """Stored ``(coins, codes)`` narrowed to ``coin`` / ``code``; ClientError for one not stored."""
    coins, codes = await storage.fiat.stored_keys(provider)
    if code is not None:
        if code not in codes and code.upper() in codes:
            code = code.upper()
        if code not in codes:
            raise ClientError(f"Fiat currency code {code} is not supported: no rates stored for it (provider {provider})")
        codes = [code]
    if coin is not None:
        if coin not in coins:
            raise ClientError(f"Coin {coin} is not supported: no fiat rates stored for it (provider {provider})")
        coins = [coin]
    return coins, codes


async def historical_rates(
    storage: Any,
    code: Optional[str],
    *,
    coin: Optional[str] = None,
    provider: str = DEFAULT_PROVIDER,
    ts: Optional[Union[int, float]] = None,
    now_ms: int,
) -> dict[str, list[dict[str, Any]]]:
    """Every stored rate of ``code`` since ``ts`` (upstream ``getHistoricalRates``).

    code: stored currency code (``USD``; lower case accepted); coin: one coin only (our
    extension; default every stored coin); ts: epoch ms, None → ``now_ms`` −
    ``FIAT_RATE_FETCH_INTERVAL`` min. Returns ``{coin: [{ts, rate, fetchedOn}]}`` newest first
    (``fetchedOn`` == ``ts``: the fetch time), only coins with at least one rate since ``ts``.
    Raises ClientError for a missing code, or a code / coin fiatrateservice never stored.
    """
    if not code:
        raise ClientError("Required argument code missing.")
    coins, codes = await _keys(storage, provider, code, coin)
    since = now_ms - FIAT_RATE_FETCH_INTERVAL * 60 * 1000 if ts is None else ts
    docs = await storage.fiat.rates_between(provider, since, coin=coin, code=codes[0])
    out: dict[str, list[dict[str, Any]]] = {}
    for c in coins:
        points = [{"ts": d["ts"], "rate": d["value"], "fetchedOn": d["ts"]} for d in docs if d["coin"] == c]
        if points:
            out[c] = points
    return out


async def fiat_rates(
    storage: Any,
    *,
    code: Optional[str] = None,
    coin: Optional[str] = None,
    provider: str = DEFAULT_PROVIDER,
    ts: Optional[Union[int, float]] = None,
    now_ms: int,
) -> dict[str, list[dict[str, Any]]]:
    """The rate of every stored coin in every stored code at ``ts`` (upstream ``getFiatRates``;
    with ``coin``, the one entry of ``getFiatRatesByCoin``).

    code / coin: narrow to one (ClientError when never stored); ts: epoch ms, None/0 → ``now_ms``.
    Returns ``{coin: [{ts, rate?, fetchedOn?, code, name}]}``, codes sorted; ``rate`` and
    ``fetchedOn`` absent as in :func:`get_rate` (nothing at or before ts within 120 min).
    """
    coins, codes = await _keys(storage, provider, code, coin)
    at = ts or now_ms
    docs = await storage.fiat.rates_between(
        provider, at - MAX_LOOK_BACK_MS, at, coin=coin, code=codes[0] if code is not None else None
    )
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    for d in docs:  # newest first: keep the first per (coin, code)
        newest.setdefault((d["coin"], d["code"]), d)
    out: dict[str, list[dict[str, Any]]] = {}
    for c in coins:
        entries = []
        for k in codes:
            entry: dict[str, Any] = {"ts": at}
            doc = newest.get((c, k))
            if doc is not None:
                entry["rate"] = doc["value"]
                entry["fetchedOn"] = doc["ts"]
            entry["code"] = k
            entry["name"] = CURRENCY_NAMES.get(k, k)
            entries.append(entry)
        out[c] = entries
    return out
