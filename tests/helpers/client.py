"""A Python HTTP client that signs requests like bitcore-wallet-client 6.x.

``TestClient(base_url).request(method, path, body, copayer)``: path is
relative to the base path, query included ("/v2/wallets/?r=1"); body a dict
(sent as compact JSON) or None; copayer a :class:`CopayerKeys` (adds
x-identity / x-signature over ``method|path|body``) or None.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional

import treq
from twisted.internet import reactor
from twisted.web.client import Agent, HTTPConnectionPool

from tests.helpers.keys import CopayerKeys


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


def compact_json(body: Any) -> str:
    """``JSON.stringify(body)``-like text (compact, non-ASCII kept)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


class TestClient:
    __test__ = False

    def __init__(self, base_url: str, client_version: Optional[str] = "bwc-6.7.5", coin: str = "btc"):
        self.base_url = base_url.rstrip("/")
        self.client_version = client_version
        self.coin = coin
        self.pool = HTTPConnectionPool(reactor, persistent=False)
        self.http = treq.client.HTTPClient(Agent(reactor, pool=self.pool))

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        copayer: Optional[CopayerKeys] = None,
        *,
        headers: Optional[dict[str, str]] = None,
        raw: Optional[bytes] = None,
        content_type: Optional[str] = "application/json",
        sign_path: Optional[str] = None,
        signature: Optional[str] = None,
        identity: Optional[str] = None,
        session: Optional[str] = None,
    ) -> Response:
        """Send one request; ``raw`` overrides the body bytes (no signing of
        it unless the copayer is given: then the raw text is signed)."""
        h: dict[str, str] = {}
        if self.client_version:
            h["x-client-version"] = self.client_version
        if raw is not None:
            data: Optional[bytes] = raw
            text = raw.decode("utf-8", "replace")
        elif body is not None:
            text = compact_json(body)
            data = text.encode("utf-8")
        else:
            text, data = "{}", None
        if data is not None and content_type:
            h["Content-Type"] = content_type
        if copayer is not None:
            h["x-identity"] = identity or copayer.copayer_id(self.coin)
            msg = f"{method.lower()}|{sign_path or path}|{text}"
            h["x-signature"] = signature if signature is not None else copayer.sign(msg)
        elif identity:
            h["x-identity"] = identity
        if session:
            h["x-session"] = session
        h.update(headers or {})
        resp = await self.http.request(
            method.upper(), (self.base_url + path).encode("latin-1"), headers={k: [v] for k, v in h.items()}, data=data
        )
        content = await resp.content()
        hdrs = {k.decode().lower(): v[-1].decode() for k, v in resp.headers.getAllRawHeaders()}
        return Response(resp.code, hdrs, content.decode("utf-8", "replace"))

    async def get(self, path: str, copayer: Optional[CopayerKeys] = None, **kw) -> Response:
        return await self.request("GET", path, None, copayer, **kw)

    async def post(self, path: str, body: Any = None, copayer: Optional[CopayerKeys] = None, **kw) -> Response:
        return await self.request("POST", path, {} if body is None else body, copayer, **kw)

    async def put(self, path: str, body: Any = None, copayer: Optional[CopayerKeys] = None, **kw) -> Response:
        return await self.request("PUT", path, {} if body is None else body, copayer, **kw)

    async def delete(self, path: str, copayer: Optional[CopayerKeys] = None, **kw) -> Response:
        return await self.request("DELETE", path, None, copayer, **kw)

    async def close(self) -> None:
        await self.pool.closeCachedConnections()
