"""A local fake of the fiat-rate providers: real HTTP servers (twisted.web) on 127.0.0.1.

Each provider listens on its own free loopback port, so "provider down" is what it is in
production: connection refused. Routes and bodies copy the real services' shapes:

* BitPay    ``GET /api/rates/``            → ``[{"code", "name", "rate"}]`` (per 1 BTC)
* Bitstamp  ``GET /api/ticker/``           → ``{"last": "67010.00", ...}`` (decimal strings)
* CoinGecko ``GET /api/v3/simple/price?ids=a,b&vs_currencies=usd,eur`` → ``{id: {cur: n}}``,
  only the requested ids/currencies it knows, ``{}`` when none
* dncapi    ``GET /api/coin/web-charts?code=trias&type=all&webp=1`` → ``{"code": 200, "msg":
  "success", "value": "<text whose last [...] is a 5-number array, element 2 = TRY in BTC>"}``
  (the real body is only known through the reference's parser; this satisfies it)

Control, per provider name (``BitPay``, ``Bitstamp``, ``CoinGecko``, ``TRY``):
``set_mode(name, mode)`` with mode ``ok`` | ``http500`` | ``garbage`` (not JSON) | ``empty``
(200, no body) | ``hang`` (never answers); ``await down(name)`` (stop listening and drop open
connections → connection refused) / ``await up(name)`` (listen again on the same port);
``requests[name]`` lists ``(path, {arg: value})`` of every request seen. The answered data
lives in ``bitpay``, ``bitstamp``, ``coingecko``, ``try_point`` and may be changed between
rounds.

Fixture: ``fake_fiat`` (async, per test) → a started :class:`FakeFiatProviders`.
``fiat_opts(**overrides)`` gives the ``fiatRateServiceOpts`` dict pointing at it.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest_twisted
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site

BITPAY_RATES: list[dict[str, Any]] = [
    {"code": "BTC", "name": "Bitcoin", "rate": 1},
    {"code": "BCH", "name": "Bitcoin Cash", "rate": 146.07},
    {"code": "ETH", "name": "Ether", "rate": 20},
    {"code": "USD", "name": "US Dollar", "rate": 60000},
    {"code": "EUR", "name": "Eurozone Euro", "rate": 55000.5},
    {"code": "GBP", "name": "Pound Sterling", "rate": 47000.25},
    {"code": "JPY", "name": "Japanese Yen", "rate": 9400000},
    {"code": "XXX", "name": "entry without a rate is skipped", "rate": 0},
]

BITSTAMP_TICKER: dict[str, str] = {
    "timestamp": "1716900000", "open": "59500.00", "high": "61000.00", "low": "59000.00",
    "last": "60010.00", "volume": "2002.61873051", "vwap": "60123.45", "bid": "60005.00",
    "ask": "60010.00", "side": "1", "open_24": "59800.00", "percent_change_24": "0.35",
}

COINGECKO_PRICES: dict[str, dict[str, float]] = {
    "bitcoin": {"usd": 60100.0, "eur": 55100.0, "btc": 1.0},
    "ethereum": {"usd": 3005.5, "eur": 2755.25, "btc": 0.05},
    "trias-token": {"usd": 0.06, "eur": 0.055, "btc": 0.000001},
}

#: [time ms, open, price in BTC, volume, market cap] — element 2 is what the reference reads
TRY_POINT: list[float] = [1716900000000, 0.0000011, 0.000002, 1200.5, 55000.0]

MODES = ("ok", "http500", "garbage", "empty", "hang")


class _Endpoint(Resource):
    isLeaf = True

    def __init__(self, fake: "FakeFiatProviders", name: str, path: str):
        super().__init__()
        self.fake, self.name, self.path = fake, name, path

    def render_GET(self, request):
        args = {k.decode(): v[0].decode() for k, v in request.args.items()}
        path = request.path.decode()
        self.fake.requests[self.name].append((path, args))
        mode = self.fake.modes[self.name]
        request.setHeader(b"content-type", b"application/json; charset=utf-8")
        if mode == "hang":
            self.fake._hung.append(request)
            return NOT_DONE_YET
        if mode == "http500":
            request.setResponseCode(500)
            request.setHeader(b"content-type", b"text/html")
            return b"<html><body>500 Internal Server Error</body></html>"
        if mode == "garbage":
            request.setHeader(b"content-type", b"text/html")
            return b"<html>maintenance</html>"
        if mode == "empty":
            return b""
        if path != self.path:
            request.setResponseCode(404)
            return b'{"error":"not found"}'
        return json.dumps(self.fake.body(self.name, args)).encode()


class _TrackingSite(Site):
    """A Site that remembers its open connections so ``down()`` can drop them."""

    def __init__(self, resource):
        super().__init__(resource)
        self.protocols: set = set()

    def buildProtocol(self, addr):
        proto = super().buildProtocol(addr)
        site = self
        lost = proto.connectionLost

        def connectionLost(reason, _lost=lost):
            site.protocols.discard(proto)
            return _lost(reason)

        proto.connectionLost = connectionLost
        self.protocols.add(proto)
        return proto


class FakeFiatProviders:
    PATHS = {
        "BitPay": "/api/rates/",
        "Bitstamp": "/api/ticker/",
        "CoinGecko": "/api/v3/simple/price",
        "TRY": "/api/coin/web-charts",
    }

    def __init__(self, reactor=None):
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.bitpay = copy.deepcopy(BITPAY_RATES)
        self.bitstamp = dict(BITSTAMP_TICKER)
        self.coingecko = copy.deepcopy(COINGECKO_PRICES)
        self.try_point = list(TRY_POINT)
        self.modes = {n: "ok" for n in self.PATHS}
        self.requests: dict[str, list] = {n: [] for n in self.PATHS}
        self.ports: dict[str, int] = {}
        self._sites = {n: _TrackingSite(_Endpoint(self, n, p)) for n, p in self.PATHS.items()}
        self._listening: dict[str, Any] = {}
        self._hung: list = []

    # -- bodies -------------------------------------------------------------------

    def body(self, name: str, args: dict[str, str]) -> Any:
        if name == "BitPay":
            return self.bitpay
        if name == "Bitstamp":
            return self.bitstamp
        if name == "CoinGecko":
            ids = [i for i in args.get("ids", "").split(",") if i]
            curs = [c.lower() for c in args.get("vs_currencies", "").split(",") if c]
            out = {}
            for i in ids:
                if i in self.coingecko:
                    out[i] = {c: v for c, v in self.coingecko[i].items() if c in curs}
            return out
        if name == "TRY":
            # chart text as a JS-ish blob; only "last [...] has 5 elements" matters to the parser
            value = 'chart({"name":"trias","last":' + json.dumps(self.try_point) + "})"
            return {"code": 200, "msg": "success", "value": value}
        raise KeyError(name)

    # -- control ------------------------------------------------------------------

    def set_mode(self, name: str, mode: str) -> None:
        assert mode in MODES, mode
        self.modes[name] = mode

    def url(self, name: str) -> str:
        base = f"http://127.0.0.1:{self.ports[name]}{self.PATHS[name]}"
        return base + ("?code=trias&type=all&webp=1" if name == "TRY" else "")

    def fiat_opts(self, **overrides: Any) -> dict[str, Any]:
        """``fiatRateServiceOpts`` (JSON key names) pointing every provider at this fake."""
        opts = {
            "providers": {n: {"url": self.url(n)} for n in ("BitPay", "Bitstamp", "CoinGecko")},
            "tryPriceUrl": self.url("TRY"),
            "coinGeckoIds": {"btc": "bitcoin", "eth": "ethereum"},
            "vsCurrencies": ["usd", "eur", "btc"],
            "timeout": 5,
        }
        opts.update(overrides)
        return opts

    def _listen(self, name: str, port: int = 0) -> None:
        lp = self.reactor.listenTCP(port, self._sites[name], interface="127.0.0.1")
        self._listening[name] = lp
        self.ports[name] = lp.getHost().port

    def start(self) -> "FakeFiatProviders":
        for name in self.PATHS:
            self._listen(name)
        return self

    async def down(self, name: str) -> None:
        lp = self._listening.pop(name, None)
        if lp is not None:
            await lp.stopListening()
        for proto in list(self._sites[name].protocols):
            proto.transport.abortConnection()

    async def up(self, name: str) -> None:
        if name not in self._listening:
            self._listen(name, self.ports[name])

    async def stop(self) -> None:
        for request in self._hung:
            if not request.finished and not request._disconnected:
                request.finish()
        self._hung.clear()
        for name in list(self._listening):
            await self.down(name)


@pytest_twisted.async_yield_fixture()
async def fake_fiat():
    """Started :class:`FakeFiatProviders` on free 127.0.0.1 ports; stopped after the test."""
    fake = FakeFiatProviders().start()
    yield fake
    await fake.stop()
