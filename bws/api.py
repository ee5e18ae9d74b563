"""The HTTP API (spec api.md §2, §4): klein app, routing, auth, error envelope.

Thin by design: a route parses the request into the service's ``opts`` dict,
calls one WalletService method, and the result becomes the JSON body (None ->
empty body).  Business rules live in :mod:`bws.service`, authentication in
:mod:`bws.auth`.

Transport rules (§2):

* everything under ``basePath`` (default ``/bws/api``); other paths -> 404;
* paths matched case-insensitively, one trailing slash optional, ``:param``
  segments URL-decoded; unknown query parameters ignored (qs-style parsing);
* ``OPTIONS`` on any path -> 200 ``OK`` before routing;
* CORS headers and ``x-service-version: bws-2.5.1`` on every response;
* JSON bodies parsed only for ``Content-Type: application/json``, strict
  (object or array), at most 100 KiB (413), nested at most 64 levels,
  without unpaired surrogates or NUL in keys; malformed -> 400
  ``{"code": "BADREQUEST", "message": "Invalid JSON..."}``;
* a request or header line over 16 KiB -> 414 / 431, a path parameter
  that is not UTF-8 -> 400, both with the JSON envelope;
* errors mapped once by :func:`error_envelope`.

Adding routes (another module may do the same)::

    @ROUTES.add("GET", "/v1/feelevels/", auth=NONE)
    async def fee_levels_v1(r: ApiRequest):
        return await r.service.get_fee_levels({"network": r.query_str("network")})

``r.service`` is the WalletService bound to the authenticated caller (the
unbound service for ``auth=NONE``); ``r.body`` is the JSON body as a dict
({} when absent or not an object); ``r.params`` the decoded path parameters;
``r.query`` the parsed query string.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Optional
from urllib.parse import parse_qsl, unquote

from klein import Klein
from klein.resource import KleinResource
from twisted.internet.defer import CancelledError, Deferred
from twisted.web.http import HTTPChannel, _GenericHTTPChannelProtocol
from twisted.web.server import Request, Site
from werkzeug.exceptions import HTTPException

from bws import auth
from bws.auth import NONE, SESSION, SIG, STAFF, AuthRequest
from bws.crypto import js_json_stringify
from bws.errors import ClientError, Errors, ServerError, StorageBusy, StorageUnavailable
from bws.ratelimit import RateLimited
from bws.service.base import SERVICE_VERSION

log = logging.getLogger(__name__)

BODY_LIMIT = 100 * 1024  # bytes (spec §2.2)
#: deepest JSON nesting accepted in a body (MongoDB stores at most 100 levels;
#: deeper input would only fail later, in storage or in recursive code)
MAX_JSON_DEPTH = 64

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS, PUT, DELETE",
    "Access-Control-Allow-Headers": (
        "x-signature,x-identity,x-session,x-client-version,x-wallet-id,X-Requested-With,Content-Type,Authorization"
    ),
}
JSON_TYPE = "application/json; charset=utf-8"

Handler = Callable[["ApiRequest"], Awaitable[Any]]


# ---------------------------------------------------------------- errors


class HttpError(Exception):
    """A transport-level failure with a fixed status and JSON body."""

    def __init__(self, status: int, body: dict) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


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


def error_envelope(exc: BaseException) -> tuple[int, Any]:
    """The one mapping from an exception to (HTTP status, JSON body) (§2.4).

    ClientError -> 400 (401 for NOT_AUTHORIZED) ``{code, message}``;
    ServerError -> its status (500 unless a valid 4xx/5xx) ``{error}``;
    HttpError -> as given; database unreachable or too slow
    (:class:`bws.errors.StorageUnavailable`, e.g. when
    ``storageOpts.mongoDb.timeoutMS`` runs out) -> 503
    ``{"code": "SERVICE_UNAVAILABLE", "message"}``; a transactional write
    still conflicting after its retries (:class:`bws.errors.StorageBusy`) -> 503
    SERVICE_UNAVAILABLE; rate limited -> 429 with
    the plain-text message (a :class:`_Raw` payload, as upstream); anything
    else -> logged with its traceback, 500 ``{"error": "Internal error"}``
    (no details leak)."""
    if isinstance(exc, HttpError):
        return exc.status, exc.body
    if isinstance(exc, RateLimited):
        return 429, _Raw(exc.message.encode("utf-8"))
    if isinstance(exc, StorageUnavailable):
        log.warning("database unavailable: %s", str(exc)[:200])
        return 503, dict(SERVICE_UNAVAILABLE)
    if isinstance(exc, StorageBusy):
        log.warning("database busy: %s", str(exc)[:200])
        return 503, dict(DATABASE_BUSY)
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


# ---------------------------------------------------------------- routing


def parse_query(qs: str) -> dict[str, Any]:
    """qs-style query parsing: ``a=1`` -> "1", repeated keys and ``a[]=``
    -> lists; values URL-decoded; blank values kept as ""."""
    out: dict[str, Any] = {}
    for k, v in parse_qsl(qs, keep_blank_values=True):
        if k.endswith("[]"):
            k = k[:-2]
            out.setdefault(k, [])
        if k in out:
            cur = out[k]
            out[k] = (cur if isinstance(cur, list) else [cur]) + [v]
        else:
            out[k] = v
    return out


def _segments(path: str) -> Optional[list[str]]:
    """Raw path -> segments, one trailing slash optional (Express non-strict)."""
    if not path.startswith("/"):
        return None
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return path[1:].split("/") if path != "/" else [""]


@dataclass
class Route:
    """``method`` + ``pattern`` (segments; ``:name`` = parameter) -> handler.
    auth: NONE | SIG | SESSION | STAFF; version_gate: apply the client
    version gate on NONE routes too (§3.7)."""

    method: str
    path: str
    handler: Handler
    auth: str = SIG
    version_gate: bool = True
    pattern: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        segs = _segments(self.path)
        if segs is None:
            raise ValueError(f"route path must start with '/': {self.path!r}")
        self.pattern = [s if s.startswith(":") else s.lower() for s in segs]

    def match(self, segments: list[str]) -> Optional[dict[str, str]]:
        """The decoded ``:name`` parameters when ``segments`` fit, else None.
        HttpError 400 BADREQUEST when a parameter's %-escapes are not UTF-8
        (Express answers 400 "Failed to decode param")."""
        if len(segments) != len(self.pattern):
            return None
        raw: dict[str, str] = {}
        for pat, seg in zip(self.pattern, segments):
            if pat.startswith(":"):
                if not seg:
                    return None
                raw[pat[1:]] = seg
            elif pat != seg.lower():
                return None
        try:
            return {name: unquote(seg, errors="strict") for name, seg in raw.items()}
        except UnicodeDecodeError:
            message = "Invalid URL: a path parameter is not UTF-8"
            raise HttpError(400, {"code": "BADREQUEST", "message": message}) from None


class Router:
    """Ordered route table; first match wins (Express semantics)."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, path: str, *, auth: str = SIG, version_gate: bool = True):
        """Decorator registering ``handler(r: ApiRequest)`` for ``method path``."""

        def deco(handler: Handler) -> Handler:
            self.routes.append(Route(method.upper(), path, handler, auth, version_gate))
            return handler

        return deco

    def match(self, method: str, path: str) -> Optional[tuple[Route, dict[str, str]]]:
        segs = _segments(path)
        if segs is None:
            return None
        method = "GET" if method == "HEAD" else method
        for r in self.routes:
            if r.method != method:
                continue
            params = r.match(segs)
            if params is not None:
                return r, params
        return None


ROUTES = Router()


@dataclass
class ApiRequest:
    """One request as handlers see it (no Twisted types)."""

    service: Any
    method: str
    url: str
    params: dict[str, str]
    query: dict[str, Any]
    body: dict
    headers: dict[str, str]

    def query_str(self, name: str) -> Optional[str]:
        """Query value as a string (the first one when repeated), or None."""
        v = self.query.get(name)
        if isinstance(v, list):
            v = v[0] if v else None
        return v if isinstance(v, str) else None

    def query_flag(self, name: str) -> bool:
        """``?name=1`` (the reference's ``== '1'`` tests)."""
        return self.query_str(name) == "1"


# ---------------------------------------------------------------- the app


def _content_type_is_json(value: Optional[str]) -> bool:
    if not value:
        return False
    return value.split(";", 1)[0].strip().lower() == "application/json"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON constant {name}")


def parse_json_body(data: bytes) -> Any:
    """body-parser ``json({strict: true})``: object or array only; HttpError
    400 ``{"code":"BADREQUEST","message":"Invalid JSON"}`` otherwise."""
    try:
        text = data.decode("utf-8")
        if text.startswith("\ufeff"):
            text = text[1:]
        stripped = text.lstrip(" \t\r\n")
        if not stripped or stripped[0] not in "{[":
            raise ValueError("strict JSON: object or array expected")
    except ValueError:
        raise HttpError(400, {"code": "BADREQUEST", "message": "Invalid JSON"}) from None
    # Depth is checked on the text, before the C parser sees it: the parser
    # recurses once per level and is bounded only by the recursion limit, which
    # an imported library may raise far beyond what the C stack holds (py_ecc
    # sets 100,000: 80,000 '[' then segfaulted the process).
    if json_too_deep(text):
        raise HttpError(400, {"code": "BADREQUEST", "message": f"Invalid JSON: nested deeper than {MAX_JSON_DEPTH} levels"})
    try:
        parsed = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise HttpError(400, {"code": "BADREQUEST", "message": "Invalid JSON"}) from None
    # \u escapes can spell what no stored document can hold: an unpaired
    # surrogate (not UTF-8) or a NUL in a key (BSON keys are C strings).  Both
    # failed later, in the database driver, as a 500.  Only a text with such an
    # escape is walked.
    if _ODD_ESCAPE.search(text):
        problem = _unstorable(parsed)
        if problem:
            raise HttpError(400, {"code": "BADREQUEST", "message": f"Invalid JSON: {problem}"})
    return parsed


#: ``\u0000`` or a surrogate escape (``\ud800``-``\udfff``)
_ODD_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def _unstorable(value: Any) -> Optional[str]:
    """Why a parsed body cannot be stored as is (None when it can): a string
    or key with an unpaired surrogate, or a key containing NUL."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            for k, item in v.items():
                if "\x00" in k:
                    return "NUL character in an object key"
                if not _utf8_encodable(k):
                    return "unpaired surrogate in an object key"
                stack.append(item)
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, str) and not _utf8_encodable(v):
            return "unpaired surrogate in a string"
    return None


def _utf8_encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_too_deep(text: str) -> bool:
    """True when a JSON text nests brackets deeper than MAX_JSON_DEPTH.

    Counted on the text without parsing: string literals are removed first so
    their brackets do not count (an unterminated string leaves its brackets
    counted, which only over-estimates a text the parser refuses anyway).
    Cheap: a text with at most MAX_JSON_DEPTH opening brackets cannot be too
    deep and is not scanned; otherwise two regex passes and one pass over the
    brackets alone."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return False
    depth = 0
    for ch in _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)):
        if ch in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        else:
            depth -= 1
    return False


class BwsApi:
    """The klein application.

    service: the (unbound) WalletService; base_path: config ``basePath``;
    router: the route table (default :data:`ROUTES`).  ``resource()`` gives
    the Twisted resource to serve (``Site(api.resource())``)."""

    def __init__(
        self, service: Any, base_path: str = "/bws/api", router: Router = ROUTES, *, rate_limiter: Any = None
    ) -> None:
        self.service = service
        #: bws.ratelimit.RateLimiter or None (no limits)
        self.rate_limiter = rate_limiter
        self.base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        self.router = router
        if isinstance(getattr(service, "options", None), dict):
            service.options.setdefault("basePath", self.base_path)  # read by GET /openapi.json
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
        started = time.monotonic()
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
        log.info("%s %s %d %.0fms", method, target.split("?", 1)[0], status, (time.monotonic() - started) * 1000)
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
        if _content_type_is_json(headers.get("content-type")):
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
            service = self.service
        else:
            areq = AuthRequest(method, url, raw_body, parsed, headers)
            service = await auth.authenticate(self.service, areq, route.auth)
        body = parsed if isinstance(parsed, dict) else {}
        result = await route.handler(ApiRequest(service, method, url, params, query, body, headers))
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


# ====================================================================== routes
# One handler per route of spec §4.1; each builds the service's opts from the
# request and returns the service's answer.  Sections: wallets, preferences,
# addresses, balance & utxos, notifications & sessions, notes, subscriptions,
# misc.  Transaction proposals, fee levels, send-max, history and scan follow
# the same pattern (added by the transaction area).

# -- wallets (§4.2–4.6) --------------------------------------------------------


@ROUTES.add("POST", "/v1/wallets/", auth=NONE)
async def create_wallet_v1(r: ApiRequest):
    return await r.service.create_wallet({**r.body, "supportBIP44AndP2PKH": False})


@ROUTES.add("POST", "/v2/wallets/", auth=NONE)
async def create_wallet_v2(r: ApiRequest):
    return await r.service.create_wallet(r.body)


@ROUTES.add("PUT", "/v1/copayers/:id/", auth=NONE)
async def add_access(r: ApiRequest):
    return await r.service.add_access({**r.body, "copayerId": r.params["id"]})


@ROUTES.add("POST", "/v1/wallets/:id/copayers/", auth=NONE)
async def join_wallet_v1(r: ApiRequest):
    return await r.service.join_wallet({**r.body, "walletId": r.params["id"], "supportBIP44AndP2PKH": False})


@ROUTES.add("POST", "/v2/wallets/:id/copayers/", auth=NONE)
async def join_wallet_v2(r: ApiRequest):
    return await r.service.join_wallet({**r.body, "walletId": r.params["id"]})


@ROUTES.add("GET", "/v1/wallets/")
async def wallet_status_v1(r: ApiRequest):
    return await r.service.get_status({"includeExtendedInfo": True})


@ROUTES.add("GET", "/v2/wallets/")
async def wallet_status_v2(r: ApiRequest):
    return await r.service.get_status(
        {"includeExtendedInfo": r.query_flag("includeExtendedInfo"), "twoStep": r.query_flag("twoStep")}
    )


@ROUTES.add("GET", "/v1/wallets/:identifier/", auth=STAFF)
async def wallet_from_identifier(r: ApiRequest):
    wallet_id = await r.service.get_wallet_from_identifier({"identifier": r.params["identifier"]})
    if not wallet_id:
        return None
    staff = r.service.bind(wallet_id, r.service.copayer_id, is_support_staff=True)
    return await staff.get_status(
        {"includeExtendedInfo": r.query_flag("includeExtendedInfo"), "twoStep": r.query_flag("twoStep")}
    )


# -- preferences (§4.7) ---------------------------------------------------------


@ROUTES.add("GET", "/v1/preferences/")
async def get_preferences(r: ApiRequest):
    return await r.service.get_preferences({})


@ROUTES.add("PUT", "/v1/preferences/")
async def save_preferences(r: ApiRequest):
    return await r.service.save_preferences(r.body)


# -- proposals: pending list (§4.8), one proposal (§4.14), retired v1 create (§3.7)


@ROUTES.add("GET", "/v1/txproposals/")
async def pending_txps(r: ApiRequest):
    return await r.service.get_pending_txs({})


@ROUTES.add("GET", "/v1/txproposals/:id/")
async def get_txp(r: ApiRequest):
    return await r.service.get_tx({"txProposalId": r.params["id"]})


@ROUTES.add("POST", "/v1/txproposals/", auth=NONE, version_gate=False)
async def create_tx_v1(r: ApiRequest):
    raise Errors.UPGRADE_NEEDED


# -- addresses (§4.16) ----------------------------------------------------------


@ROUTES.add("POST", "/v1/addresses/")
async def create_address_v1(r: ApiRequest):
    return await r.service.create_address({"ignoreMaxGap": True})


@ROUTES.add("POST", "/v2/addresses/")
async def create_address_v2(r: ApiRequest):
    return await r.service.create_address({"ignoreMaxGap": True})


@ROUTES.add("POST", "/v3/addresses/")
async def create_address_v3(r: ApiRequest):
    return await r.service.create_address({"ignoreMaxGap": r.body.get("ignoreMaxGap")})


@ROUTES.add("GET", "/v1/addresses/")
async def main_addresses(r: ApiRequest):
    opts: dict[str, Any] = {"reverse": r.query_flag("reverse")}
    limit = r.query_str("limit")
    if limit is not None:
        try:
            opts["limit"] = int(limit)
        except ValueError:
            pass  # +"abc" is NaN: no limit
    return await r.service.get_main_addresses(opts)


# -- balance & utxos (§4.17, §4.20) -----------------------------------------------


@ROUTES.add("GET", "/v1/balance/")
async def balance(r: ApiRequest):
    opts: dict[str, Any] = {}
    if r.query_str("coin"):
        opts["coin"] = r.query_str("coin")
    if r.query_flag("twoStep"):
        opts["twoStep"] = True
    return await r.service.get_balance(opts)


@ROUTES.add("GET", "/v1/utxos/")
async def utxos(r: ApiRequest):
    opts: dict[str, Any] = {}
    if r.query_str("addresses"):
        opts["addresses"] = r.query_str("addresses").split(",")
    return await r.service.get_utxos(opts)


# -- sessions & notifications (§3.5, §4.24) ----------------------------------------


@ROUTES.add("POST", "/v1/login/")
async def login(r: ApiRequest):
    return await r.service.login({})


@ROUTES.add("POST", "/v1/logout/")
async def logout(r: ApiRequest):
    return await r.service.logout({})


@ROUTES.add("GET", "/v1/notifications/", auth=SESSION)
async def notifications(r: ApiRequest):
    return await r.service.get_notifications(
        {"timeSpan": r.query_str("timeSpan"), "notificationId": r.query_str("notificationId")}
    )


# -- tx notes (§4.25) ---------------------------------------------------------------


@ROUTES.add("GET", "/v1/txnotes/:txid/")
async def get_tx_note(r: ApiRequest):
    return await r.service.get_tx_note({"txid": r.params["txid"]})


@ROUTES.add("PUT", "/v1/txnotes/:txid/")
async def edit_tx_note(r: ApiRequest):
    return await r.service.edit_tx_note({**r.body, "txid": r.params["txid"]})


@ROUTES.add("GET", "/v1/txnotes/")
async def get_tx_notes(r: ApiRequest):
    return await r.service.get_tx_notes({"minTs": r.query_str("minTs")})


# -- push & confirmation subscriptions (§4.27) ----------------------------------------


@ROUTES.add("POST", "/v1/pushnotifications/subscriptions/")
async def push_subscribe(r: ApiRequest):
    return await r.service.push_notifications_subscribe(r.body)


@ROUTES.add("DELETE", "/v1/pushnotifications/subscriptions/")
async def push_unsubscribe_v1(r: ApiRequest):
    return await r.service.push_notifications_unsubscribe({"token": "dummy"})


@ROUTES.add("DELETE", "/v2/pushnotifications/subscriptions/:token/")
async def push_unsubscribe_v2(r: ApiRequest):
    return await r.service.push_notifications_unsubscribe({"token": r.params["token"]})


@ROUTES.add("POST", "/v1/txconfirmations/")
async def txconfirmation_subscribe(r: ApiRequest):
    return await r.service.tx_confirmation_subscribe(r.body)


@ROUTES.add("DELETE", "/v1/txconfirmations/:txid/")
async def txconfirmation_unsubscribe(r: ApiRequest):
    return await r.service.tx_confirmation_unsubscribe({"txid": r.params["txid"]})


# -- webhooks (added; docs/notifications.md; logic in bws/service/webhooks.py) ------------


def _webhook_args(r: ApiRequest):
    return r.service.storage, r.service.wallet_id, r.service.copayer_id


@ROUTES.add("POST", "/v1/webhooks/")
async def webhook_register(r: ApiRequest):
    from bws.service import webhooks

    from bws.delivery.destinations import DestinationPolicy

    allow_http = bool(r.service.options.get("webhookAllowHttp", False))
    policy = DestinationPolicy(r.service.options.get("webhookAllowPrivateNetworks", ()))
    return await webhooks.register_webhook(*_webhook_args(r), r.body, allow_http=allow_http, policy=policy)


@ROUTES.add("GET", "/v1/webhooks/")
async def webhook_list(r: ApiRequest):
    from bws.service import webhooks

    return await webhooks.list_webhooks(*_webhook_args(r))


@ROUTES.add("DELETE", "/v1/webhooks/:id/")
async def webhook_remove(r: ApiRequest):
    from bws.service import webhooks

    return await webhooks.remove_webhook(*_webhook_args(r), r.params["id"])


@ROUTES.add("GET", "/v1/webhooks/:id/deliveries/")
async def webhook_deliveries(r: ApiRequest):
    from bws.service import webhooks

    return await webhooks.list_webhook_deliveries(*_webhook_args(r), r.params["id"])


# -- misc (§2.1, §4.28) ------------------------------------------------------------------


@ROUTES.add("GET", "/v1/version/", auth=NONE, version_gate=False)
async def version(r: ApiRequest):
    return await r.service.get_service_version({})


@ROUTES.add("GET", "/v1/stats/", auth=NONE, version_gate=False)
async def stats(r: ApiRequest):
    return await r.service.get_stats(
        {k: r.query_str(k) for k in ("network", "coin", "from", "to") if r.query_str(k) is not None}
    )


__all__ = ["BwsApi", "ROUTES", "Router", "Route", "ApiRequest", "error_envelope", "parse_query", "HttpError"]

from bws import api_txp  # noqa: E402,F401  (registers the transaction-area routes)
from bws import api_fiat  # noqa: E402,F401  (registers the fiat-rate routes)
from bws import api_openapi  # noqa: E402,F401  (GET /openapi.json, bws/openapi.py)
from bws import api_ops  # noqa: E402,F401  (GET /v1/health; bws/health.py)
from bws import api_evm  # noqa: E402,F401  (ETH/Tri/TRY routes: address_nonce, pending status)
