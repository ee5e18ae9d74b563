"""Body limits before parsing (issue 10): bodies over 100 KiB are refused
with 413 without being buffered (Content-Length checked first; chunked bodies
stop being stored past the limit); JSON nested deeper than MAX_JSON_DEPTH is
refused with 400 before it reaches the service (MongoDB would refuse it later,
recursive code would overflow)."""

from __future__ import annotations

import socket

import pytest_twisted
from twisted.internet import reactor, threads
from twisted.web.test.requesthelper import DummyChannel

from bws.http.app import BODY_LIMIT, BoundedRequest, BwsApi
from bws.http.jsonbody import MAX_JSON_DEPTH
from tests.helpers.fixtures import clock, explorer, service  # noqa: F401
from tests.helpers.keys import CopayerKeys, WalletKey
from tests.helpers.client import TestClient


def test_bounded_request_keeps_nothing_of_an_oversized_body():
    announced = BoundedRequest(DummyChannel())
    announced.gotLength(50 * 1024 * 1024)
    announced.handleContentChunk(b"x" * 300_000)
    assert announced.body_too_large
    announced.content.seek(0)
    assert announced.content.read() == b""

    chunked = BoundedRequest(DummyChannel())
    chunked.gotLength(None)
    for _ in range(40):
        chunked.handleContentChunk(b"y" * 8192)
    assert chunked.body_too_large
    chunked.content.seek(0)
    assert len(chunked.content.read()) <= BODY_LIMIT


def _raw_http(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(payload)
        out = b""
        while True:
            try:
                data = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not data:
                break
            out += data
            if b"\r\n\r\n" in out and b"Request entity too large" in out:
                break
        return out


@pytest_twisted.async_yield_fixture
async def bounded_api(service):
    site = BwsApi(service).site()
    site.noisy = False
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    client = TestClient(f"http://127.0.0.1:{port.getHost().port}/bws/api")
    yield port.getHost().port, client
    await client.close()
    await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_oversized_bodies_413(bounded_api):
    port, client = bounded_api
    # chunked, no Content-Length: refused once it grows past the limit
    chunk = b"a" * 16384
    chunks = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(10)) + b"0\r\n\r\n"
    head = (b"POST /bws/api/v2/wallets/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    out = await threads.deferToThread(_raw_http, port, head + chunks)
    assert out.startswith(b"HTTP/1.1 413"), out[:200]
    # announced too large, whatever the content type
    r = await client.request("POST", "/v2/wallets/", raw=b"z" * (BODY_LIMIT + 1), content_type="text/plain")
    assert r.status == 413 and r.json["code"] == "BADREQUEST"
    # exactly at the limit: parsed (and rejected by the service for its content)
    body = b'{"name":"' + b"n" * (BODY_LIMIT - 11) + b'"}'
    assert len(body) == BODY_LIMIT
    r = await client.request("POST", "/v2/wallets/", raw=body)
    assert r.status == 400 and r.json["message"] == "Required argument m missing."


def _nested(depth: int) -> dict:
    root: dict = {}
    cur = root
    for _ in range(depth - 1):
        cur["a"] = {}
        cur = cur["a"]
    return root


@pytest_twisted.ensureDeferred
async def test_deep_json_refused_before_the_service(bounded_api):
    _port, client = bounded_api
    key = WalletKey.random()
    r = await client.post("/v2/wallets/", {"name": "w", "m": 1, "n": 1, "pubKey": key.pub})
    wallet_id = r.json["walletId"]
    c = CopayerKeys.random("livenet", "BIP44")
    join = {"walletId": wallet_id, "name": "c", "xPubKey": c.xpub, "requestPubKey": c.request_pub,
            "copayerSignature": key.copayer_signature("c", c.xpub, c.request_pub)}
    for depth in (MAX_JSON_DEPTH + 1, 300, 600):
        r = await client.post(f"/v2/wallets/{wallet_id}/copayers/", {**join, "customData": _nested(depth - 1)})
        assert r.status == 400 and r.json["code"] == "BADREQUEST", (depth, r.status, r.text[:200])
    raw = b'{"customData":' + b'{"a":' * 5000 + b"1" + b"}" * 5001
    r = await client.request("POST", f"/v2/wallets/{wallet_id}/copayers/", raw=raw)
    assert r.status == 400 and r.json["code"] == "BADREQUEST"
    r = await client.post(f"/v2/wallets/{wallet_id}/copayers/", {**join, "customData": _nested(MAX_JSON_DEPTH - 1)})
    assert r.status == 200, r.text[:300]
    r = await client.put("/v1/txnotes/abc/", {"body": _nested(600)}, c)
    assert r.status == 400 and "Traceback" not in r.text


@pytest_twisted.ensureDeferred
async def test_odd_client_version_header_is_not_a_500(bounded_api):
    _port, client = bounded_api
    for value in ("bwc-\u00b9.0", "bwc-0\u00b2", "bwc-", "-", "bwc-1.1.\u00bd"):
        r = await client.get("/v2/feelevels/?coin=btc", headers={"x-client-version": value})
        assert r.status < 500 or r.json.get("error"), (value, r.status, r.text[:200])
        assert "Traceback" not in r.text
        r = await client.get("/v2/wallets/", headers={"x-client-version": value, "x-identity": "x"})
        assert r.status in (400, 401), (value, r.status, r.text[:200])
