"""The fiat-rate cron: fetch every provider, keep history, refresh the ETH/TRY price tables.

One *round* (:meth:`FiatRateService.fetch_round`), stamped with one ``ts`` (int, epoch ms, from
the injected clock):

1. in parallel, every enabled provider of ``fiatRateServiceOpts.providers`` (see
   fiatrateservice/providers.py for the wire shapes) and, when ``try`` is a configured coin,
   the TRY price source ``tryPriceUrl``;
2. each provider's rates are *inserted* (``bws.storage.fiat.FiatRepo.store_rates``: one document per
   provider, coin, code and round; nothing is overwritten, nothing wiped at start-up);
3. from BitPay's BTC array of this round: the ``/v1/rates/eth`` table (coin ``eth`` configured)
   and the ``/v1/rates/try`` table (coin ``try`` configured and a TRY price known: the
   ``tryPriceUrl`` answer, else CoinGecko's ``try``/``BTC`` rate of this round) are written to
   the ``cache`` collection, ``{walletId: null, type: "ethPriceCache" | "tryPriceCache",
   key: null, data: [{code, name, rate}], updateTime: ts}`` — the same documents the fork used,
   so the bws routes only read (bws/fiat.py ``get_coin_rates``).

A provider that fails (connection refused, timeout, non-200, unusable body, storage error) is
logged with the reason and simply tried again next round; the others still land, and the
tables keep their previous value when BitPay or the TRY price is missing. A round never raises.

Schedule: :meth:`start` runs a round at once and then every ``fetchInterval`` minutes on the
injected clock (``LoopingCall``); a round still running when the next is due delays it rather
than overlapping.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Optional

import treq
from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.task import LoopingCall

from bws.config import ConfigError, FiatRateServiceOpts
from bws.fiat import PRICE_CACHE_TYPES  # the cache types bws reads back
from fiatrateservice.providers import (
    PROVIDERS,
    ProviderError,
    decode_json,
    eth_price_table,
    parse_bitpay_entries,
    parse_try_price,
    try_price_table,
)

log = logging.getLogger("fiatrateservice")

#: ``http_get(url) -> Deferred[bytes]`` / awaitable of the body; raises on failure.
HttpGet = Callable[[str], Awaitable[bytes]]


def treq_http_get(timeout: float, reactor: Any = None) -> HttpGet:
    """The production HTTP getter: GET with ``Accept: application/json``, whole exchange
    (connect, headers, body) bounded by ``timeout`` seconds; non-200 raises ProviderError.

    Connections are not kept alive: one request per provider per interval gains nothing from
    a pool, and a kept-alive socket would outlive a provider restart.
    """
    if reactor is None:
        from twisted.internet import reactor as _reactor

        reactor = _reactor

    async def fetch(url: str) -> bytes:
        resp = await treq.get(
            url,
            headers={"Accept": ["application/json"], "User-Agent": ["bws-twisted-fiatrateservice"]},
            persistent=False,
            reactor=reactor,
        )
        body = await treq.content(resp)
        if resp.code != 200:
            raise ProviderError(f"HTTP {resp.code}")
        return body

    def get(url: str) -> Deferred:
        d = Deferred.fromCoroutine(fetch(url))
        # the I/O timeout runs on the real reactor, not on the (possibly fake) schedule clock
        d.addTimeout(timeout, reactor)
        return d

    return get


def _safe_url(url: str) -> str:
    """The URL without its query, for logs: a query may carry an API key (CoinGecko's
    ``x_cg_demo_api_key``)."""
    return url.split("?", 1)[0]


def _reason(failure_or_exc: BaseException) -> str:
    if isinstance(failure_or_exc, defer.TimeoutError):
        return "timed out"
    text = str(failure_or_exc) or type(failure_or_exc).__name__
    return f"{type(failure_or_exc).__name__}: {text}" if not isinstance(failure_or_exc, ProviderError) else text


class FiatRateService:
    """Fetches fiat rates into ``fiat_rates`` (history) and the ETH/TRY tables into ``cache``.

    storage: a connected :class:`bws.storage.Storage`; opts: ``config.fiatRateServiceOpts``;
    clock: ``IReactorTime`` for the schedule and the round timestamps (tests pass
    ``twisted.internet.task.Clock``); http_get: ``url -> awaitable bytes`` (default: treq with
    ``opts.timeout``).
    """

    def __init__(
        self,
        storage: Any,
        opts: FiatRateServiceOpts,
        *,
        clock: Any = None,
        http_get: Optional[HttpGet] = None,
    ):
        unknown = sorted(set(opts.providers) - set(PROVIDERS))
        if unknown:
            raise ConfigError(
                f"fiatRateServiceOpts.providers.{unknown[0]}: unknown provider (known: {', '.join(PROVIDERS)})"
            )
        if clock is None:
            from twisted.internet import reactor as clock
        self.storage = storage
        self.opts = opts
        self.clock = clock
        self.http_get = http_get or treq_http_get(opts.timeout)
        #: rounds finished since construction, and the last round's summary
        self.rounds = 0
        self.last_result: Optional[dict[str, Any]] = None
        self._loop: Optional[LoopingCall] = None
        self._current: Optional[Deferred] = None
        self._waiters: list[tuple[int, Deferred]] = []

    def now_ms(self) -> int:
        """Current time of the injected clock, int epoch ms."""
        return int(self.clock.seconds() * 1000)

    # -- one round ---------------------------------------------------------------

    async def _get_json(self, url: str) -> Any:
        return decode_json(await self.http_get(url))

    async def _provider(self, name: str, ts: int) -> dict[str, Any]:
        """Fetch, parse and store one provider; never raises. Returns
        ``{"ok": bool, "stored": {coin: count}, "error"?: str, "data"?: json}``."""
        spec = PROVIDERS[name]
        popts = self.opts.providers[name]
        url = spec.url(popts.url, self.opts.coins, self.opts)
        if url is None:
            log.info("%s skipped: serves none of the coins %s", name, self.opts.coins)
            return {"ok": True, "stored": {}, "skipped": True}
        try:
            data = await self._get_json(url)
            by_coin = spec.parse(data, self.opts.coins, self.opts)
            stored = {}
            for coin, rates in by_coin.items():
                stored[coin] = await self.storage.fiat.store_rates(name, coin, rates, ts)
        except Exception as e:  # noqa: BLE001 - any failure only costs this provider this round
            log.warning("%s failed: %s (%s)", name, _reason(e), _safe_url(url))
            return {"ok": False, "stored": {}, "error": _reason(e)}
        log.info(
            "%s ok: %s",
            name,
            ", ".join(f"{coin} {n} rates" for coin, n in stored.items()) or "no rates",
        )
        return {"ok": True, "stored": stored, "data": data}

    async def _try_price(self) -> dict[str, Any]:
        """TRY price in BTC from ``tryPriceUrl``; never raises."""
        url = self.opts.tryPriceUrl
        try:
            price = parse_try_price(await self._get_json(url))
        except Exception as e:  # noqa: BLE001
            log.warning("TRY price failed: %s (%s)", _reason(e), _safe_url(url))
            return {"ok": False, "error": _reason(e)}
        return {"ok": True, "price": price}

    async def _store_table(self, coin: str, table: list[dict[str, Any]], ts: int) -> bool:
        try:
            await self.storage.cache.set(None, PRICE_CACHE_TYPES[coin], None, {"data": table, "updateTime": ts})
        except Exception as e:  # noqa: BLE001
            log.warning("/v1/rates/%s table not stored: %s", coin, _reason(e))
            return False
        log.info("/v1/rates/%s table ok: %d entries", coin, len(table))
        return True

    async def fetch_round(self) -> dict[str, Any]:
        """Run one round (see module doc); never raises.

        Returns ``{"ts": int epoch ms, "providers": {name: {"ok", "stored": {coin: n}, "error"?}},
        "tables": {"eth"|"try": True (stored) | str (why not)}}``.
        """
        ts = self.now_ms()
        names = [n for n, p in self.opts.providers.items() if p.enabled]
        jobs = [Deferred.fromCoroutine(self._provider(n, ts)) for n in names]
        want_try = "try" in self.opts.coins and bool(self.opts.tryPriceUrl)
        if want_try:
            jobs.append(Deferred.fromCoroutine(self._try_price()))
        results = await defer.gatherResults(jobs)
        by_name = dict(zip(names, results))
        try_res = results[-1] if want_try else {"ok": False, "error": "no tryPriceUrl"}

        tables: dict[str, Any] = {}
        bitpay = by_name.get("BitPay")
        entries = None
        if bitpay and bitpay["ok"] and "data" in bitpay:
            entries = parse_bitpay_entries(bitpay["data"])  # parsed fine once already
        for coin in ("eth", "try"):
            if coin not in self.opts.coins:
                continue
            if entries is None:
                tables[coin] = "no BitPay rates this round"
                log.warning("/v1/rates/%s table kept: %s", coin, tables[coin])
                continue
            try:
                if coin == "eth":
                    table = eth_price_table(entries)
                else:
                    price = try_res.get("price") if try_res["ok"] else self._coingecko_try_btc(by_name)
                    if price is None:
                        raise ProviderError(f"no TRY price this round ({try_res.get('error', 'none')})")
                    table = try_price_table(entries, price)
            except ProviderError as e:
                tables[coin] = str(e)
                log.warning("/v1/rates/%s table kept: %s", coin, e)
                continue
            tables[coin] = await self._store_table(coin, table, ts) or "storage error"

        summary = {
            "ts": ts,
            "providers": {n: {k: v for k, v in r.items() if k != "data"} for n, r in by_name.items()},
            "tables": tables,
        }
        self._finished(summary)
        return summary

    def _coingecko_try_btc(self, by_name: dict[str, dict[str, Any]]) -> Optional[float]:
        """Fallback TRY price: CoinGecko's ``try`` → ``btc`` quote of this round, if configured."""
        cg = by_name.get("CoinGecko")
        if not cg or not cg["ok"] or "data" not in cg:
            return None
        cg_id = self.opts.coinGeckoIds.get("try")
        price = (cg["data"].get(cg_id) or {}).get("btc") if cg_id else None
        return float(price) if isinstance(price, (int, float)) and 0 < price < 1 else None

    def _finished(self, summary: dict[str, Any]) -> None:
        self.rounds += 1
        self.last_result = summary
        ready = [d for n, d in self._waiters if self.rounds >= n]
        self._waiters = [(n, d) for n, d in self._waiters if self.rounds < n]
        if ready:
            # on the next real reactor turn: by then the round's Deferred has fired and the
            # LoopingCall has re-armed, so a waiter sees a quiet service
            from twisted.internet import reactor

            for d in ready:
                reactor.callLater(0, d.callback, summary)

    def when_rounds(self, n: int) -> Deferred:
        """A Deferred fired (with the last summary) once ``n`` rounds have finished
        (tests and operators' tools; eventual delivery, see ``_finished``)."""
        if self.rounds >= n:
            return defer.succeed(self.last_result)
        d: Deferred = Deferred()
        self._waiters.append((n, d))
        return d

    # -- schedule ------------------------------------------------------------------

    def _tick(self) -> Deferred:
        self._current = Deferred.fromCoroutine(self.fetch_round())
        return self._current

    def start(self) -> None:
        """Fetch now, then every ``fetchInterval`` minutes on the injected clock."""
        if self._loop is not None and self._loop.running:
            return
        self._loop = LoopingCall(self._tick)
        self._loop.clock = self.clock
        d = self._loop.start(self.opts.fetchInterval * 60, now=True)
        # fetch_round never raises; this only guards against a bug silently ending the schedule
        d.addErrback(lambda f: log.error("schedule stopped: %s", f.getTraceback()))
        log.info(
            "fetching %s for %s every %g min",
            ", ".join(n for n, p in self.opts.providers.items() if p.enabled),
            ", ".join(self.opts.coins),
            self.opts.fetchInterval,
        )

    async def stop(self) -> None:
        """Stop the schedule and wait for a round in progress to finish."""
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self._current is not None and not self._current.called:
            await self._current
