"""Small async Bitcoin Core JSON-RPC client over treq (back-fill and reorg walks).

``await BitcoindRpc(url).call("getblockhash", 5)``; ``url`` may carry
credentials (``http://user:pass@127.0.0.1:8332``). Floats come back as Decimal.
"""

from __future__ import annotations

import base64
import itertools
import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import treq
from twisted.web.client import HTTPConnectionPool


class RpcError(RuntimeError):
    def __init__(self, code: int, message: str, method: str):
        super().__init__(f"{method}: RPC error {code}: {message}")
        self.code = code
        self.message = message
        self.method = method


class BitcoindRpc:
    def __init__(self, url: str, timeout: float = 30.0, reactor=None):
        if reactor is None:
            from twisted.internet import reactor
        # Own keep-alive pool, closed by close(): an idle kept-alive connection
        # delays the node's shutdown (its HTTP server waits for it).
        self._pool = HTTPConnectionPool(reactor, persistent=True)
        self._pool.maxPersistentPerHost = 2
        self._reactor = reactor
        parts = urlsplit(url)
        self._headers = {"Content-Type": ["application/json"]}
        if parts.username is not None:
            token = base64.b64encode(f"{parts.username}:{parts.password or ''}".encode()).decode()
            self._headers["Authorization"] = [f"Basic {token}"]
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        self.url = urlunsplit((parts.scheme, netloc, parts.path or "/", "", ""))
        self.timeout = timeout
        self._ids = itertools.count(1)

    async def call(self, method: str, *params: Any) -> Any:
        body = json.dumps({"jsonrpc": "1.0", "id": next(self._ids), "method": method, "params": list(params)})
        resp = await treq.post(
            self.url, data=body.encode(), headers=self._headers, timeout=self.timeout,
            pool=self._pool, reactor=self._reactor,
        )  # fmt: skip
        raw = await resp.content()
        if not raw:
            raise RpcError(resp.code, f"HTTP {resp.code} with empty body", method)
        answer = json.loads(raw, parse_float=Decimal)
        if answer.get("error"):
            err = answer["error"]
            raise RpcError(err.get("code"), err.get("message"), method)
        return answer["result"]

    async def close(self) -> None:
        """Close kept-alive connections."""
        await self._pool.closeCachedConnections()
