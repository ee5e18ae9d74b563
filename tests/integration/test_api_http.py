"""HTTP transport rules (spec §2, §2.4; §12 case 60): OPTIONS, CORS,
x-service-version, routing, body limits, JSON errors, the error envelope."""

from __future__ import annotations

import json

import pytest
import pytest_twisted

from bws.http.app import error_envelope
from bws.http.request import parse_query
from bws.http.routes import build_router
from bws.errors import ClientError, Errors, ServerError
from tests.helpers.fixtures import api, clock, explorer, service  # noqa: F401
from tests.helpers.services import AGGREGATES
from tests.helpers.keys import CopayerKeys, WalletKey
from tests.helpers.wallets import create_and_join

CORS = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, POST, OPTIONS, PUT, DELETE",
    "access-control-allow-headers": (
        "x-signature,x-identity,x-session,x-client-version,x-wallet-id,X-Requested-With,Content-Type,Authorization"
    ),
}


def common_headers_ok(r) -> bool:
    return r.headers.get("x-service-version") == "bws-2.5.1" and all(r.headers.get(k) == v for k, v in CORS.items())


@pytest_twisted.ensureDeferred
async def test_options_anywhere(api):
    for path in ("/v1/wallets/", "/no/such/thing", "/../x"):
        r = await api.client.request("OPTIONS", path)
        assert r.status == 200 and r.text == "OK" and common_headers_ok(r)


@pytest_twisted.ensureDeferred
async def test_headers_on_every_response(api):
    ok = await api.client.get("/v1/version/")
    missing = await api.client.get("/v1/nothing-here")
    err = await api.client.get("/v2/wallets/", CopayerKeys.random())
    bad = await api.client.post("/v2/wallets/", {})
    for r, status in ((ok, 200), (missing, 404), (err, 401), (bad, 400)):
        assert r.status == status and common_headers_ok(r), (r.status, r.headers)
        assert r.headers["content-type"].startswith("application/json")


@pytest_twisted.ensureDeferred
async def test_routing_case_and_trailing_slash(api):
    for path in ("/v1/version", "/v1/version/", "/V1/VERSION", "/v1/Version/?r=1&foo[bar]=2"):
        r = await api.client.get(path)
        assert r.status == 200 and r.json == {"serviceVersion": "bws-2.5.1"}, path
    r = await api.client.request("GET", "", raw=None)  # base path itself
    assert r.status == 404
    for path in ("/v1/version//", "/v1//version", "/v1/versionx", "/v9/wallets/"):
        assert (await api.client.get(path)).status == 404, path
    # outside the base path / base path in another case
    resp = await api.client.http.get(api.base_url.replace("/bws/api", "/other/v1/version"))
    assert resp.code == 404
    await resp.content()
    resp = await api.client.http.get(api.base_url.replace("/bws/api", "/BWS/Api/v1/version"))
    assert resp.code == 200
    await resp.content()
    # wrong method on an existing path
    assert (await api.client.request("PATCH", "/v1/version/")).status == 404


@pytest_twisted.ensureDeferred
async def test_body_limits_and_json_errors(api):
    big = {"name": "x" * (100 * 1024), "m": 1, "n": 1, "pubKey": WalletKey.random().pub}
    r = await api.client.post("/v2/wallets/", big)
    assert r.status == 413 and common_headers_ok(r) and r.json["code"] == "BADREQUEST"
    for raw in (b"{bad json", b"5", b'"text"', b"  ", b"{\"a\": NaN}", b"\xff\xfe"):
        r = await api.client.request("POST", "/v2/wallets/", raw=raw)
        assert r.status == 400 and r.json == {"code": "BADREQUEST", "message": "Invalid JSON"}, raw
        assert "Traceback" not in r.text
    # non-JSON content type: the body is ignored ({} for the service)
    r = await api.client.request("POST", "/v2/wallets/", raw=b'{"name":"x"}', content_type="text/plain")
    assert r.status == 400 and r.json == {"code": "BADREQUEST", "message": "Required argument name missing."}
    # an array body counts as no object
    r = await api.client.request("POST", "/v2/wallets/", raw=b"[1,2]")
    assert r.json["message"] == "Required argument name missing."


@pytest_twisted.ensureDeferred
async def test_missing_and_mistyped_fields(api):
    pub = WalletKey.random().pub
    cases = [
        ({"m": 1, "n": 1, "pubKey": pub}, "Required argument name missing."),
        ({"name": "w", "m": "x", "n": 1, "pubKey": pub}, "Invalid combination of required copayers / total copayers"),
        ({"name": "w", "m": 1, "n": [1], "pubKey": pub}, "Invalid combination of required copayers / total copayers"),
        ({"name": 5, "m": 1, "n": 1, "pubKey": pub}, "Invalid wallet name"),
        ({"name": "w", "m": 1, "n": 1, "pubKey": {"a": 1}}, "Invalid public key"),
        ({"name": "w", "m": 1, "n": 1, "pubKey": pub, "coin": 7}, "Invalid coin"),
        ({"name": "w", "m": 1, "n": 1, "pubKey": pub, "network": ["x"]}, "Invalid network"),
    ]
    for body, message in cases:
        r = await api.client.post("/v2/wallets/", body)
        assert (r.status, r.json) == (400, {"code": "BADREQUEST", "message": message}), body


@pytest_twisted.ensureDeferred
async def test_empty_body_results(api):
    w = await create_and_join(api.service, 1, 1)
    c = w.copayers[0]
    r = await api.client.put("/v1/preferences", {"email": "a@b.com"}, c)
    assert r.status == 200 and r.text == "" and r.headers["content-type"].startswith("application/json")
    r = await api.client.get("/v1/txnotes/abc", c)
    assert r.status == 200 and r.text == ""
    r = await api.client.put("/v1/txnotes/abc/", {"body": "hi"}, c)
    assert r.json["body"] == "hi" and r.json["editedByName"] == "copayer 1"
    r = await api.client.get("/v1/txnotes/abc", c)
    assert r.json["txid"] == "abc"
    r = await api.client.post("/v1/txproposals/", {})
    assert r.status == 400 and r.json == {"code": "UPGRADE_NEEDED", "message": "Client app needs to be upgraded"}


def _fill(path: str) -> str:
    return "/".join("x%20y" if s.startswith(":") else s for s in path.split("/"))


GARBAGE = [None, b"{}", b"[]", b'{"name": null, "m": null, "addresses": 5, "token": [], "txid": {}}',
           b'{"body": {"a": [1, 2, {"b": null}]}, "limit": -1, "email": true, "language": 5, "unit": []}',
           b'{"ignoreMaxGap": "yes", "copayerSignature": 1, "xPubKey": null, "requestPubKey": 5, "signature": []}']


@pytest_twisted.ensureDeferred
async def test_no_500_for_client_input(api):
    """Every route, as a signed copayer and anonymously, with garbage bodies and
    query strings: never a 500 and never a traceback."""
    w = await create_and_join(api.service, 1, 2)
    c = w.copayers[0]
    for route in build_router().routes:
        for raw in GARBAGE:
            for who in (c, None):
                path = _fill(route.path) + "?limit=abc&timeSpan=x&addresses=zz&minTs=q&twoStep=1&reverse=[]"
                r = await api.client.request(route.method, path, raw=raw, copayer=who)
                assert r.status < 500 or r.json.get("error") == "Could not get blockchain explorer instance", (
                    route.method, route.path, raw, r.status, r.text)
                assert "Traceback" not in r.text


@pytest_twisted.ensureDeferred
async def test_query_parsing_reaches_service(api, monkeypatch):
    """§12 case 60: the route -> opts translation."""
    w = await create_and_join(api.service, 1, 1)
    c = w.copayers[0]
    seen = {}

    def spy(name, result):
        async def f(caller, opts=None, *a, **k):
            seen[name] = opts
            return result
        aggregate = next(getattr(api.service, a) for a in AGGREGATES if hasattr(getattr(api.service, a), name))
        monkeypatch.setattr(aggregate, name, f)

    spy("get_main_addresses", [])
    spy("get_balance", {})
    spy("get_notifications", [])
    spy("get_status", {"wallet": {}})
    await api.client.get("/v1/addresses?limit=4&reverse=1", c)
    assert seen["get_main_addresses"] == {"limit": 4, "reverse": True}
    await api.client.get("/v1/balance?twoStep=1", c)
    assert seen["get_balance"] == {"twoStep": True}
    await api.client.get("/v1/balance", c)
    assert seen["get_balance"] == {}
    await api.client.get("/v1/notifications?timeSpan=30&notificationId=123", c)
    assert seen["get_notifications"] == {"timeSpan": "30", "notificationId": "123"}
    r = await api.client.get("/v2/wallets/?includeExtendedInfo=1&twoStep=0", c)
    assert r.json == {"wallet": {}} and seen["get_status"] == {"includeExtendedInfo": True, "twoStep": False}


def test_time_span_clamp():
    from bws.services.notifications import time_span_seconds

    assert time_span_seconds(None) == 60
    assert time_span_seconds("30") == 30
    assert time_span_seconds("9999999999") == 14 * 24 * 3600
    assert time_span_seconds("abc") == 0


def test_error_envelope():
    assert error_envelope(Errors.WALLET_NOT_FOUND) == (400, {"code": "WALLET_NOT_FOUND", "message": "Wallet not found"})
    assert error_envelope(Errors.NOT_AUTHORIZED)[0] == 401
    assert error_envelope(ClientError("oops")) == (400, {"code": "BADREQUEST", "message": "oops"})
    assert error_envelope(ServerError("Bad xPub")) == (500, {"error": "Bad xPub"})
    assert error_envelope(ServerError("x", status=11000)) == (500, {"error": "x"})
    assert error_envelope(ServerError("x", status=503)) == (503, {"error": "x"})
    assert error_envelope(KeyError("secret detail")) == (500, {"error": "Internal error"})


def test_parse_query():
    assert parse_query("a=1&b=&c=x%20y&a=2&d[]=3") == {"a": ["1", "2"], "b": "", "c": "x y", "d": ["3"]}


@pytest.mark.parametrize("path", ["/v1/version", "/v2/wallets/abc/copayers"])
def test_router_matches(path):
    assert build_router().match("POST" if "copayers" in path else "GET", path) is not None


@pytest_twisted.ensureDeferred
async def test_client_hang_up_does_not_cancel_the_handler(service, caplog):
    """A client that closes its connection mid-request must not cancel the
    handler (a cancelled pymongo read closes a pooled connection; a cancelled
    write could be half done): the handler finishes, its answer is dropped,
    nothing is logged as an error."""
    from twisted.internet import reactor
    from twisted.internet.defer import Deferred
    from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
    from twisted.internet.protocol import Protocol

    from bws.http.app import BwsApi
    from bws.http.routing import Router
    from bws.http.auth import NONE

    release: Deferred = Deferred()
    entered: Deferred = Deferred()
    outcome: list = []
    router = Router()

    @router.add("GET", "/v1/slow/", auth=NONE)
    async def slow(r):
        entered.callback(None)
        try:
            await release
            outcome.append("finished")
        except BaseException as exc:  # noqa: BLE001 - what the test looks for
            outcome.append(type(exc).__name__)
            raise
        return {"ok": True}

    port = reactor.listenTCP(0, BwsApi(service, router=router).site(), interface="127.0.0.1")
    try:
        proto = await connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port), Protocol())
        proto.transport.write(b"GET /bws/api/v1/slow/ HTTP/1.1\r\nHost: x\r\n\r\n")
        await entered
        proto.transport.loseConnection()
        await deferLater(reactor, 0.1)
        assert outcome == []  # still waiting: not cancelled
        with caplog.at_level("ERROR"):
            release.callback(None)
            await deferLater(reactor, 0.05)
        assert outcome == ["finished"]
        assert not [r for r in caplog.records if r.levelname == "ERROR"]
    finally:
        await port.stopListening()


def deferLater(reactor, seconds):
    from twisted.internet import task

    return task.deferLater(reactor, seconds, lambda: None)
