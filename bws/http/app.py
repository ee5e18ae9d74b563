"""The HTTP API (docs/spec/api.md §2, §4): the klein shell, request limits,
CORS, timing, and the one error envelope.

Thin by design: a route parses the request into the service's ``opts`` dict,
calls one service method, and the result becomes the JSON body (None ->
empty body).  Routes live in :mod:`bws.http.routes` (one module per
aggregate, each with a ``register(router)`` that :func:`build_router` calls),
matching in :mod:`bws.http.routing`, authentication in :mod:`bws.http.auth`,
business rules in :mod:`bws.services`.

A request: :class:`BoundedRequest` buffers at most :data:`BODY_LIMIT` body
bytes -> :meth:`BwsApi._render` (the handler runs shielded from client
hang-ups) -> :meth:`BwsApi._respond` (timing, headers, :func:`error_envelope`)
-> :meth:`BwsApi._dispatch` (limits, JSON body, base path, route lookup, rate
limit, authentication -> :class:`~bws.services.context.Caller`, handler).

Transport rules (docs/spec/api.md §2):

* everything under ``basePath`` (default ``/bws/api``); other paths -> 404;
* paths matched case-insensitively, one trailing slash optional, ``:param``
  segments URL-decoded; unknown query parameters ignored (qs-style parsing);
* ``OPTIONS`` on any path -> 200 ``OK`` before routing;
* CORS headers and ``x-service-version: bws-2.5.1`` on every response;
* JSON bodies parsed only for ``Content-Type: application/json``, strict
  (object or array), at most 100 KiB (413), nested at most 64 levels,
  without unpaired surrogates or NUL in keys; malformed -> 400
  ``{"code": "BADREQUEST", "message": "Invalid JSON..."}``
  (bws/http/jsonbody.py);
* a request or header line over 16 KiB -> 414 / 431, a path parameter
  that is not UTF-8 -> 400, both with the JSON envelope;
* errors mapped once by :func:`error_envelope`.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Optional

from klein import Klein
from klein.resource import KleinResource
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.web.http import HTTPChannel, _GenericHTTPChannelProtocol
from twisted.web.server import Request, Site
from werkzeug.exceptions import HTTPException

from bws.crypto import js_json_stringify
from bws.errors import ClientError, ServerError, StorageBusy, StorageUnavailable
from bws.http import auth
from bws.http.auth import NONE, AuthRequest
from bws.http.jsonbody import content_type_is_json, parse_json_body
from bws.http.ratelimit import RateLimited
from bws.http.request import ApiRequest, HttpError, parse_query
from bws.http.routes import build_router
from bws.http.routing import Router
from bws.services.base import SERVICE_VERSION
from bws.services.context import ANONYMOUS

log = logging.getLogger(__name__)

BODY_LIMIT = 100 * 1024  # bytes (docs/spec/api.md §2.2)

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS, PUT, DELETE",
    "Access-Control-Allow-Headers": (
        "x-signature,x-identity,x-session,x-client-version,x-wallet-id,X-Requested-With,Content-Type,Authorization"
    ),
}
JSON_TYPE = "application/json; charset=utf-8"


# ---------------------------------------------------------------- errors


SERVICE_UNAVAILABLE = {
    "code": "SERVICE_UNAVAILABLE",
    "message": "The wallet service cannot reach its database right now, please try again later",
}

#: a write that kept conflicting with another one (storageOpts.mongoDb.transactionTimeoutMS)
DATABASE_BUSY = {
    "code": "SERVICE_UNAVAILABLE",
    "message": "The wallet service could not complete this write in time (another write is in the way), "
    "please try again later",
}


def storage_failure(exc: BaseException) -> Optional[tuple[int, dict]]:
    """(503, body) when ``exc`` says the database is unavailable or busy, else
    None.  Storage raises its own error types (bws/errors.py), so the HTTP
    layer knows no driver.

    :class:`bws.errors.StorageUnavailable` (database unreachable or too slow,
    e.g. when ``storageOpts.mongoDb.timeoutMS`` runs out) ->
    :data:`SERVICE_UNAVAILABLE`; :class:`bws.errors.StorageBusy` (a
    transactional write still conflicting after its retries) ->
    :data:`DATABASE_BUSY`."""
    if isinstance(exc, StorageUnavailable):
        log.warning("database unavailable: %s", str(exc)[:200])
        return 503, dict(SERVICE_UNAVAILABLE)
    if isinstance(exc, StorageBusy):
        log.warning("database busy: %s", str(exc)[:200])
        return 503, dict(DATABASE_BUSY)
    return None


def error_envelope(exc: BaseException) -> tuple[int, Any]:
    """The one mapping from an exception to (HTTP status, JSON body)
    (docs/spec/api.md §2.4).

    ClientError -> 400 (401 for NOT_AUTHORIZED) ``{code, message}``;
    ServerError -> its status (500 unless a valid 4xx/5xx) ``{error}``;
    HttpError -> as given; database unreachable, too slow or busy -> 503
    ``{"code": "SERVICE_UNAVAILABLE", "message"}`` (:func:`storage_failure`);
    rate limited -> 429 with the plain-text message (a :class:`_Raw`
    payload, as upstream); anything else -> logged with its traceback, 500
    ``{"error": "Internal error"}`` (no details leak)."""
    if isinstance(exc, HttpError):
        return exc.status, exc.body
    if isinstance(exc, RateLimited):
        return 429, _Raw(exc.message.encode("utf-8"))
    unavailable = storage_failure(exc)
    if unavailable is not None:
        return unavailable
    if isinstance(exc, ClientError):
        return exc.http_status(), exc.to_body()
    if isinstance(exc, ServerError):
        status = exc.http_status()
        if not isinstance(status, int) or not 400 <= status <= 599:
            status = 500
        return status, exc.to_body()
    if isinstance(exc, CancelledError):  # the process is stopping; not a bug
        log.debug("request cancelled")
        return 503, dict(SERVICE_UNAVAILABLE)
    log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
    return 500, {"error": "Internal error"}


class BwsApi:
    """The klein application.

    service: the process's :class:`bws.services.Services`; base_path: config ``basePath``;
    router: the route table (default: :func:`bws.http.routes.build_router`
    for this base path); rate_limiter: a :class:`bws.http.ratelimit.RateLimiter`
    or None (no limits).  ``resource()`` gives the Twisted resource to serve
    (``Site(api.resource())``), ``site()`` the hardened Site."""

    def __init__(
        self,
        service: Any,
        base_path: str = "/bws/api",
        router: Optional[Router] = None,
        *,
        rate_limiter: Any = None,
        clock: Optional[IReactorTime] = None,
    ) -> None:
        self.service = service
        self.rate_limiter = rate_limiter
        #: times each request for the access log: ``clock`` or the services' clock
        self.clock: IReactorTime = clock if clock is not None else service.clock
        self.base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        self.router = router if router is not None else build_router(base_path=self.base_path)
        self.app = Klein()
        self.app.url_map.merge_slashes = False
        self.app.url_map.strict_slashes = False
        self.app.route("/", branch=True)(self._render)
        self.app.handle_errors(HTTPException)(self._render_error)

    def resource(self):
        return _KleinResource(self.app)

    def site(self, **kw: Any):
        """A Twisted Site serving this API whose requests stop buffering a body
        announced (or grown) beyond :data:`BODY_LIMIT` (answered 413)."""
        return _Site(self.resource(), requestFactory=BoundedRequest, **kw)

    # -------------------------------------------------------------- plumbing
    def _render_error(self, request: Request, failure) -> Any:
        return self._render(request)

    def _render(self, request: Request, **_kw: Any) -> Deferred:
        # When a client hangs up, klein cancels the Deferred we return.  That
        # cancellation must not reach the handler: a pymongo read cancelled
        # mid-reply closes its pooled connection (and the next request pays a
        # reconnect), and a write cancelled half-way is worse.  So the handler
        # runs to the end on its own Deferred, and only the wait for it is
        # cancellable (its answer is then dropped).
        work = Deferred.fromCoroutine(self._respond(request))
        waiter: Deferred = Deferred()

        def relay(body: Any) -> None:
            if not waiter.called:
                waiter.callback(body)

        def failed(failure: Any) -> None:  # _respond maps every error; this is a bug guard
            if not waiter.called:
                waiter.errback(failure)
            else:
                log.error("request failed after the client left:\n%s", failure.getTraceback())

        work.addCallbacks(relay, failed)
        return waiter

    async def _respond(self, request: Request) -> bytes:
        started = self.clock.seconds()
        method = request.method.decode("latin-1").upper()
        target = request.uri.decode("latin-1")
        status, body, payload = 500, b"", None
        try:
            status, payload = await self._dispatch(request, method, target)
            body = b"" if payload is None else _to_json(payload)
        except BaseException as exc:  # noqa: BLE001 - the envelope handles everything
            status, payload = error_envelope(exc)
            body = _to_json(payload)
            if isinstance(exc, RateLimited):
                request.setHeader("Retry-After", str(exc.retry_after))
        request.setResponseCode(status)
        request.setHeader("x-service-version", SERVICE_VERSION)
        for k, v in CORS_HEADERS.items():
            request.setHeader(k, v)
        if (method == "OPTIONS" and status == 200) or isinstance(payload, _Raw):
            request.setHeader("Content-Type", "text/plain; charset=utf-8")
        else:
            request.setHeader("Content-Type", JSON_TYPE)
        log.info("%s %s %d %.0fms", method, target.split("?", 1)[0], status, (self.clock.seconds() - started) * 1000)
        return body

    def _relative_target(self, target: str) -> Optional[str]:
        """Raw request target minus the base path (case-insensitive), as
        Express sets ``req.url`` for a mounted router; None if outside."""
        if target.lower().startswith(("http://", "https://")):
            rest = target.split("//", 1)[1]
            target = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
        base = self.base_path
        if not target.lower().startswith(base.lower()):
            return None
        rest = target[len(base):]
        if rest and rest[0] not in "/?":
            return None
        return rest if rest.startswith("/") else "/" + rest

    async def _dispatch(self, request: Request, method: str, target: str) -> tuple[int, Any]:
        if method == "OPTIONS":
            return 200, _Raw(b"OK")
        headers = {k.decode("latin-1").lower(): v[-1].decode("latin-1") for k, v in request.requestHeaders.getAllRawHeaders()}
        raw_body: Optional[bytes] = None
        parsed: Any = None
        if getattr(request, "body_too_large", False) or _declared_length(headers) > BODY_LIMIT:
            raise HttpError(413, {"code": "BADREQUEST", "message": "Request entity too large"})
        if content_type_is_json(headers.get("content-type")):
            request.content.seek(0)
            data = request.content.read(BODY_LIMIT + 1)
            if len(data) > BODY_LIMIT:
                raise HttpError(413, {"code": "BADREQUEST", "message": "Request entity too large"})
            if data:
                raw_body = data
                parsed = parse_json_body(data)
        url = self._relative_target(target)
        path = None if url is None else url.split("?", 1)[0]
        found = self.router.match(method, path) if path is not None else None
        if found is None:
            raise HttpError(404, {"code": "NOT_FOUND", "message": f"Cannot {method} {target.split('?', 1)[0]}"})
        route, params = found
        if self.rate_limiter is not None:
            peer = getattr(request.getClientAddress(), "host", None)
            await self.rate_limiter.check(route.method, route.path, peer, headers)
        query = parse_query(url.split("?", 1)[1]) if "?" in url else {}
        if route.auth == NONE:
            if route.version_gate:
                auth.check_client_version(headers.get("x-client-version"))
            caller = ANONYMOUS
        else:
            areq = AuthRequest(method, url, raw_body, parsed, headers)
            caller = await auth.authenticate(self.service, areq, route.auth)
        body = parsed if isinstance(parsed, dict) else {}
        result = await route.handler(ApiRequest(self.service, caller, method, url, params, query, body, headers))
        return 200, result


def _declared_length(headers: dict[str, str]) -> int:
    try:
        return int(headers.get("content-length", "0").strip() or 0)
    except ValueError:
        return 0


class BoundedRequest(Request):
    """A Request that keeps at most :data:`BODY_LIMIT` + 1 body bytes: a body
    announced larger by Content-Length, or that grows larger (chunked), is
    not stored; ``body_too_large`` tells the API to answer 413 without parsing."""

    body_too_large = False
    _body_seen = 0

    def gotLength(self, length: Optional[int]) -> None:
        if length is not None and length > BODY_LIMIT:
            self.body_too_large = True
            length = 0  # nothing will be kept: a small in-memory buffer
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        self._body_seen += len(data)
        if self._body_seen > BODY_LIMIT:
            self.body_too_large = True
        if self.body_too_large:
            return
        super().handleContentChunk(data)


class _KleinResource(KleinResource):
    """Klein's resource, minus its own answers to a path or Host it cannot use.

    Before routing, klein decodes the %-decoded path as UTF-8 (failing: a
    plain-text 400 and a logged traceback) and binds werkzeug's router to the
    Host header (a name IDNA cannot encode, e.g. ``a..b``: a 500 page and a
    traceback).  Our one klein route takes every path, and :class:`Router`
    routes the raw request target (refusing a non-UTF-8 parameter with the
    JSON envelope); nothing reads Host (Express takes any).  So klein gets a
    decodable path, and a placeholder Host when the client's cannot be bound."""

    def render(self, request: Request):
        request.postpath = [_utf8_or_replaced(seg) for seg in request.postpath]
        try:
            request.getRequestHostname().decode("utf-8").encode("idna")
        except UnicodeError:
            request.requestHeaders.setRawHeaders(b"host", [b"invalid-host"])
        return super().render(request)


def _utf8_or_replaced(data: bytes) -> bytes:
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace").encode("utf-8")


class _Channel(HTTPChannel):
    """HTTPChannel that answers a request line or header line over its limit
    (``MAX_LENGTH``, 16 KiB) instead of closing the connection without a word:
    414 for the request line (a long URL), 431 for a header, with the JSON
    envelope, then closes (the rest of the request is not read).  Node, under
    the reference, answers 431 for both."""

    def lineLengthExceeded(self, line: bytes) -> None:
        first_line = not getattr(self, "_receivedHeaderSize", 0)
        status = b"414 URI Too Long" if first_line else b"431 Request Header Fields Too Large"
        what = "Request line" if first_line else "Request header"
        body = _to_json({"code": "BADREQUEST", "message": f"{what} longer than {self.MAX_LENGTH} bytes"})
        self.transport.write(
            b"HTTP/1.1 " + status + b"\r\nContent-Type: " + JSON_TYPE.encode() + b"\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
        )
        self.loseConnection()


class _Site(Site):
    """twisted.web's Site without its per-request access-log event: every
    request is already logged once by :meth:`BwsApi._respond` (method, path,
    status, ms), and Twisted's combined-log line cost ~5% of a cheap
    request's CPU (bench/profiles/NOTES.md) while landing, unobserved, in
    Twisted's in-memory log buffer.  Its connections are :class:`_Channel`."""

    def protocol(self):  # twisted.web.http._genericHTTPChannelProtocolFactory, with our channel
        return _GenericHTTPChannelProtocol(_Channel())

    def log(self, request: Request) -> None:
        pass


class _Raw:
    """A handler result sent as-is (not JSON)."""

    def __init__(self, data: bytes) -> None:
        self.data = data


def _to_json(payload: Any) -> bytes:
    """A response body as ``JSON.stringify`` would write it.  The C encoder of
    :mod:`json` does (6x faster than :func:`js_json_stringify` on a proposal
    list; bench/profiles/NOTES.md); it only differs in key order for
    integer-like keys and in number spelling (``5.0``, ``1e+16``), which parse to
    the same values.  NaN/Infinity (JS writes ``null``) and odd types take the
    exact, slower path."""
    if isinstance(payload, _Raw):
        return payload.data
    try:
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        try:
            text = js_json_stringify(payload)
        except TypeError:
            text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.encode("utf-8")


__all__ = ["BODY_LIMIT", "BoundedRequest", "BwsApi", "error_envelope", "storage_failure"]
