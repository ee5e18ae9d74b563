"""The one Bitcoin Core JSON-RPC client, and its one ``RpcError``.

Used by the bitcoind explorer (bws/adapters/explorers/bitcoind.py), the BTC
block monitor (bcmonitor/btc.py: back-fill and reorg walks) and the dev/test
regtest node (devtools/litecoind.py, which is synchronous and so shares only
:func:`request_body` / :func:`answer_result` / :class:`RpcError`, the JSON-RPC
framing, not the Twisted transport).

``await BitcoindRpc(url, reactor).call("getblockhash", 5)``; ``url`` may carry
credentials (``http://user:pass@127.0.0.1:8332``; Basic auth is taken from
it, never logged) and a path (``/wallet/<name>``; :attr:`BitcoindRpc.url_path`,
the explorer uses it to choose its watch-only wallet). Every answer is parsed
with floats as ``Decimal`` (exact coin amounts).

Transport: one keep-alive HTTP connection pool per client (closed by
:meth:`BitcoindRpc.close`: an idle kept-alive connection delays the node's
shutdown), at most ``concurrency`` requests in flight (DeferredSemaphore),
JSON-RPC batches of at most 500 calls per HTTP request, and our own timer per
request (never a hung request, docs/security.md "Faults").
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Optional, Sequence
from urllib.parse import unquote, urlsplit

import treq
from treq.client import HTTPClient
from twisted.internet import defer, error as net_error
from twisted.internet.defer import Deferred, DeferredSemaphore
from twisted.web.client import Agent, HTTPConnectionPool, ResponseFailed

from bws.adapters.errors import ExplorerError

__all__ = ["BitcoindRpc", "RpcError", "request_body", "answer_result"]

#: JSON-RPC calls per HTTP request in :meth:`BitcoindRpc.batch`.
BATCH = 500


class RpcError(ExplorerError):
    """A JSON-RPC error answer from the node.

    ``message``: the node's own message (e.g. ``"TX decode failed"``), which is
    what an API client sees (an ExplorerError: HTTP 500); ``code``: the node's
    numeric code (e.g. -5 not found, -22 decode failed, -26 rejected, -25
    missing inputs; Bitcoin Core src/rpc/protocol.h); ``method``: the RPC.
    """

    def __init__(self, code: Optional[int], message: str, method: str):
        super().__init__(message)
        self.code = code
        self.method = method

    def __repr__(self) -> str:
        return f"RpcError({self.code!r}, {self.message!r}, method={self.method!r})"


def request_body(method: str, params: Sequence[Any], request_id: Any) -> dict:
    """One JSON-RPC 1.0 request object, as Bitcoin Core expects it."""
    return {"jsonrpc": "1.0", "id": request_id, "method": method, "params": list(params)}


def answer_result(answer: Any, method: str, where: str = "") -> Any:
    """The ``result`` of one parsed JSON-RPC answer; raises :class:`RpcError`
    for an ``error`` answer (Core sends those with HTTP 500/404 and a JSON body),
    ExplorerError for something that is no JSON-RPC answer. ``where``: host:port for the message."""
    if not isinstance(answer, dict):
        raise ExplorerError(f"Blockchain node {where or '?'} gave a malformed answer to {method}")
    err = answer.get("error")
    if err:
        raise RpcError(err.get("code"), str(err.get("message")), method)
    return answer.get("result")


class BitcoindRpc:
    """Async JSON-RPC client of one node.

    url: ``http(s)://[user:pass@]host:port[/path]``; reactor: the reactor
    (IReactorTime and IReactorTCP); timeout: seconds per request (default 30);
    concurrency: requests in flight at once (default 8).
    Raises ValueError for a url without scheme or host.
    """

    def __init__(self, url: str, reactor: Any, *, timeout: float = 30.0, concurrency: int = 8):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("bitcoind url must look like http://user:pass@host:port")
        host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        self._base = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
        #: host:port without credentials, for error messages and logs.
        self.where = parts.netloc.rsplit("@", 1)[-1]
        #: the url's path ("" when none), e.g. "/wallet/bws-watch".
        self.url_path = parts.path
        self._auth = (unquote(parts.username or ""), unquote(parts.password or "")) if parts.username else None
        self.timeout = float(timeout)
        self._reactor = reactor
        self._pool = HTTPConnectionPool(reactor, persistent=True)
        self._pool.maxPersistentPerHost = max(1, int(concurrency))
        self._http = HTTPClient(Agent(reactor, pool=self._pool))
        self._sem = DeferredSemaphore(max(1, int(concurrency)))
        self._rpc_id = 0

    def close(self) -> Deferred:
        """Close pooled HTTP connections (returns a Deferred)."""
        return self._pool.closeCachedConnections()

    def next_id(self) -> int:
        self._rpc_id += 1
        return self._rpc_id

    async def post(self, path: str, payload: Any, label: str, timeout: Optional[float] = None) -> Any:
        """POST one JSON-RPC request (or batch) to ``path`` and return the parsed JSON answer.

        Raises ExplorerError on timeout, connection failure, auth failure or a
        non-JSON answer (messages name ``where`` and ``label``, never the credentials).
        """
        timeout = timeout or self.timeout
        body = json.dumps(payload).encode()
        headers = {b"Content-Type": [b"application/json"]}

        async def exchange():
            resp = await self._http.post(self._base + path, data=body, headers=headers, auth=self._auth)
            return resp.code, await treq.content(resp)

        await self._sem.acquire()
        timed_out: list[bool] = []
        d = Deferred.fromCoroutine(exchange())

        def expire() -> None:
            timed_out.append(True)
            d.cancel()

        # Own timer rather than Deferred.addTimeout: a cancelled treq request fails with
        # ResponseNeverReceived, not CancelledError, so the flag tells the cases apart.
        timer = self._reactor.callLater(timeout, expire)
        try:
            code, raw = await d
        except Exception as exc:
            if timed_out:
                raise ExplorerError(f"Blockchain node {self.where} did not answer {label} within {timeout:g} s") from None
            if isinstance(exc, (net_error.ConnectError, net_error.ConnectionLost, ResponseFailed,
                                net_error.DNSLookupError, defer.CancelledError)):
                raise ExplorerError(
                    f"Blockchain node {self.where} unreachable ({label}): {exc.__class__.__name__}"
                ) from None
            raise
        finally:
            if timer.active():
                timer.cancel()
            self._sem.release()
        if code in (401, 403):
            raise ExplorerError(f"Blockchain node {self.where} refused the RPC credentials (HTTP {code})")
        try:
            # Core answers RPC errors with HTTP 500/404 and a JSON body; parse whatever came.
            return json.loads(raw, parse_float=Decimal)
        except ValueError:
            raise ExplorerError(f"Blockchain node {self.where} gave a non-JSON answer to {label} (HTTP {code})") from None

    async def call(self, method: str, *params: Any, path: str = "/", timeout: Optional[float] = None) -> Any:
        """One RPC; returns its ``result``. Raises RpcError (the node's error
        answer) or ExplorerError (transport)."""
        answer = await self.post(path, request_body(method, params, self.next_id()), method, timeout)
        return answer_result(answer, method, self.where)

    async def batch(self, calls: Sequence[tuple[str, list]], path: str = "/") -> list[tuple[Any, Any]]:
        """Several RPCs in JSON-RPC batches of :data:`BATCH`; returns
        ``[(result, error dict or None)]`` in call order. Transport failures
        raise ExplorerError; an error answer to the whole batch raises RpcError."""
        out: list[tuple[Any, Any]] = []
        for start in range(0, len(calls), BATCH):
            chunk = calls[start:start + BATCH]
            first = self._rpc_id + 1
            payload = [request_body(m, p, self.next_id()) for m, p in chunk]
            answer = await self.post(path, payload, f"{chunk[0][0]} (batch of {len(chunk)})")
            if not isinstance(answer, list):
                err = answer.get("error") if isinstance(answer, dict) else None
                if err:
                    raise RpcError(err.get("code"), str(err.get("message")), chunk[0][0])
                raise ExplorerError(f"Blockchain node {self.where} gave a malformed batch answer")
            by_id = {a.get("id"): a for a in answer if isinstance(a, dict)}
            for i in range(len(chunk)):
                a = by_id.get(first + i) or {"error": {"code": None, "message": "missing from batch answer"}}
                out.append((a.get("result"), a.get("error")))
        return out
