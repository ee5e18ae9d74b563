"""OpenAPI 3 description of the HTTP API, served at ``<basePath>/openapi.json``.

Paths and methods come from the route table (a :class:`bws.http.routing.Router`
built by :func:`bws.http.routes.build_router`), so a
route can't exist without being described.  What the route table doesn't know
(summaries, query parameters, bodies, answers) is written by hand below, as
plain data: :data:`SCHEMAS` (JSON schemas of the bodies), :data:`OPERATIONS`
(one entry per ``"METHOD /path"``).  ``tests/integration/test_openapi.py`` checks both
directions: every route has an entry, and every entry names a route.

Conventions of the description:

* ``servers[0].url`` is the base path; paths are relative to it, written
  ``/v1/wallets/{id}/copayers/`` (the router also accepts them without the
  trailing slash and in any case, docs/spec/api.md §2.3).
* request schemas describe what the reference accepts; the service still
  validates and answers 400 ``{"code", "message"}`` for bad values, so the
  schemas are deliberately permissive (``additionalProperties`` allowed).
* ``security``: ``sig`` routes need ``x-identity`` + ``x-signature``
  (docs/spec/api.md §3.4), ``session`` routes accept ``x-identity`` + ``x-session`` instead.
"""

from __future__ import annotations

import copy
from typing import Any, Optional

from bws.http.openapi_operations import OPERATIONS
from bws.http.openapi_schemas import OPENAPI_VERSION, SCHEMAS, _array, _obj, _ref, _str

_ERROR_RESPONSES = {
    "400": {"description": "Client error (docs/spec/api.md §7): a reference code and a message",
            "content": {"application/json": {"schema": _ref("ClientError")}}},
    "401": {"description": "NOT_AUTHORIZED (bad signature, unknown copayer, expired session)",
            "content": {"application/json": {"schema": _ref("ClientError")}}},
    "404": {"description": "No such route (NOT_FOUND)", "content": {"application/json": {"schema": _ref("ClientError")}}},
    "413": {"description": "Body over 100 KiB", "content": {"application/json": {"schema": _ref("ClientError")}}},
    "500": {"description": "Reference server error (explorer message etc.)",
            "content": {"application/json": {"schema": _ref("ServerError")}}},
    "503": {"description": "Database unreachable, or a write still conflicting after storageOpts.mongoDb."
                           "transactionTimeoutMS (SERVICE_UNAVAILABLE); retry later. "
                           "GET /v1/health/: a failed check",
            "content": {"application/json": {"schema": _ref("Unavailable")}}},
}
_RATE_LIMITED = {"description": "Rate limited (plain-text message, as upstream)", "content": {"text/plain": {"schema": _str}}}

_SECURITY = {
    "none": [],
    "sig": [{"identity": [], "signature": []}],
    "staff": [{"identity": [], "signature": []}],
    "session": [{"identity": [], "signature": []}, {"identity": [], "session": []}],
}


def openapi_path(route_path: str) -> str:
    """Route-table spelling (``/v1/wallets/:id/copayers/``) -> OpenAPI (``/v1/wallets/{id}/copayers/``);
    a parameter's excluded literals (``:identifier!all``) are dropped."""
    return "/".join("{" + s[1:].split("!")[0] + "}" if s.startswith(":") else s for s in route_path.split("/"))


def operation_key(method: str, route_path: str) -> str:
    return f"{method.upper()} {openapi_path(route_path)}"


def _schema(spec: Any) -> Optional[dict]:
    if spec is None:
        return None
    if isinstance(spec, str):
        return _ref(spec)
    if isinstance(spec, list):
        return _array(_ref(spec[0]))
    return copy.deepcopy(spec)


def _operation(key: str, route: Any, facts: dict) -> dict:
    method, path = key.split(" ", 1)
    op: dict[str, Any] = {
        "operationId": (method.lower() + path.replace("/", "_").replace("{", "").replace("}", "").replace(".", "_")).rstrip("_"),
        "summary": facts.get("summary", ""),
        "tags": [facts.get("tag", "misc")],
        "security": copy.deepcopy(_SECURITY.get(route.auth, [])),
    }
    params = []
    for seg in path.split("/"):
        if seg.startswith("{"):
            params.append({"name": seg[1:-1], "in": "path", "required": True, "schema": {**_str, "minLength": 1}})
    for name, schema in (facts.get("query") or {}).items():
        params.append({"name": name, "in": "query", "required": False, "schema": copy.deepcopy(schema)})
    if route.auth != "none" or route.version_gate:
        params.append({"name": "x-client-version", "in": "header", "required": False, "schema": _str,
                       "description": "bwc-<version>; clients older than 1.2 get UPGRADE_NEEDED (docs/spec/api.md §3.7)"})
    if params:
        op["parameters"] = params
    if facts.get("body"):
        op["requestBody"] = {"required": False,
                             "content": {"application/json": {"schema": _ref(facts["body"])}}}
    ok: dict[str, Any] = {"description": "Success (an empty body means 'no result')"}
    schema = _schema(facts.get("response"))
    if schema is not None:
        ok["content"] = {"application/json": {"schema": schema}}
    responses = {"200": ok, **copy.deepcopy(_ERROR_RESPONSES)}
    if facts.get("rateLimit"):
        responses["429"] = copy.deepcopy(_RATE_LIMITED)
        op["x-rate-limit"] = facts["rateLimit"]
    op["responses"] = responses
    op["x-auth"] = route.auth
    return op


def build_openapi(routes: Any, base_path: str = "/bws/api", version: str = "2.5.1") -> dict:
    """The OpenAPI 3 document for ``routes`` (a Router: anything with
    ``.routes``, each with ``method``, ``path``, ``auth``).

    Routes without hand-written facts in :data:`OPERATIONS` are still listed
    (summary "undocumented") so the document never hides a route; the test
    suite fails on them."""
    paths: dict[str, dict] = {}
    for route in routes.routes:
        key = operation_key(route.method, route.path)
        method, path = key.split(" ", 1)
        if method.lower() in paths.get(path, {}):
            continue  # first match wins (a duplicate registration is unreachable)
        facts = OPERATIONS.get(key, {"summary": "undocumented", "response": _obj})
        paths.setdefault(path, {})[method.lower()] = _operation(key, route, facts)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "bitcore-wallet-service (BWS-Twisted)",
            "version": version,
            "description": (
                "HTTP API of bitcore-wallet-service 2.5.1 as served by BWS-Twisted. Paths are matched "
                "case-insensitively with an optional trailing slash. Errors: 400/401 {code, message}, "
                "500 {error}, 503 {code: SERVICE_UNAVAILABLE, message}; 429 plain text when rate limited."
            ),
        },
        "servers": [{"url": base_path or "/"}],
        "tags": [{"name": t} for t in sorted({op["tags"][0] for ops in paths.values() for op in ops.values()})],
        "paths": paths,
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),
            "securitySchemes": {
                "identity": {"type": "apiKey", "in": "header", "name": "x-identity",
                             "description": "copayer id (docs/spec/api.md §3.2)"},
                "signature": {"type": "apiKey", "in": "header", "name": "x-signature",
                              "description": "DER hex ECDSA signature of 'method|url|body' by a request key (docs/spec/api.md §3.4)"},
                "session": {"type": "apiKey", "in": "header", "name": "x-session",
                            "description": "session token from POST /v1/login/ (notifications only)"},
            },
        },
    }


__all__ = ["SCHEMAS", "OPERATIONS", "build_openapi", "openapi_path", "operation_key"]
