"""The OpenAPI description is true to the routes (issue 10): every route is
documented, nothing documented is missing from the route table, every $ref
resolves, and it is served without auth at ``<basePath>/openapi.json``."""

from __future__ import annotations

import json

import pytest
import pytest_twisted

from bws.http.openapi import OPERATIONS, SCHEMAS, build_openapi, operation_key
from bws.http.ratelimit import RULE_ROUTES
from bws.http.routes import build_router
from tests.helpers.fixtures import api, clock, explorer, service  # noqa: F401


def _route_keys() -> set[str]:
    return {operation_key(r.method, r.path) for r in build_router().routes}


def test_every_route_documented_and_nothing_else():
    routes = _route_keys()
    undocumented = routes - set(OPERATIONS)
    stale = set(OPERATIONS) - routes
    assert not undocumented, f"routes without an entry in bws/http/openapi_operations.py OPERATIONS: {sorted(undocumented)}"
    assert not stale, f"OPERATIONS entries naming no route: {sorted(stale)}"
    doc = build_openapi(build_router())
    documented = {f"{m.upper()} {p}" for p, ops in doc["paths"].items() for m in ops}
    assert documented == routes


def test_refs_resolve_and_schemas_are_data():
    doc = build_openapi(build_router())
    text = json.dumps(doc)  # plain JSON data, nothing else
    refs = {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}
    assert refs <= set(doc["components"]["schemas"]), refs - set(doc["components"]["schemas"])
    assert set(SCHEMAS) == set(doc["components"]["schemas"])
    for path, ops in doc["paths"].items():
        params = {p["name"] for op in ops.values() for p in op.get("parameters", []) if p["in"] == "path"}
        assert params == {s[1:-1] for s in path.split("/") if s.startswith("{")}, path
        for method, op in ops.items():
            assert op["summary"] and op["summary"] != "undocumented", (method, path)
            assert "200" in op["responses"] and "400" in op["responses"]
            if op["x-auth"] == "none":
                assert op["security"] == []
            else:
                assert op["security"], (method, path)


def test_rate_limited_operations_match_the_limiter():
    doc = build_openapi(build_router())
    marked = {f"{m.upper()} {p}": op["x-rate-limit"] for p, ops in doc["paths"].items() for m, op in ops.items()
              if "x-rate-limit" in op}
    expected = {operation_key(m, p): rule for rule, routes in RULE_ROUTES.items() for m, p in routes}
    assert marked == expected
    for key in marked:
        path, method = key.split(" ", 1)[1], key.split(" ", 1)[0].lower()
        assert "429" in doc["paths"][path][method]["responses"]


@pytest_twisted.ensureDeferred
async def test_served_without_auth(api):
    # no signature, and not subject to the client-version gate
    r = await api.client.get("/openapi.json", headers={"x-client-version": "bwc-0.1.0"})
    assert r.status == 200 and r.headers["content-type"].startswith("application/json")
    doc = r.json
    assert doc["openapi"].startswith("3.") and doc["servers"] == [{"url": "/bws/api"}]
    assert doc == json.loads(json.dumps(build_openapi(build_router(), base_path="/bws/api")))
    assert (await api.client.get("/OpenAPI.json/")).status == 200  # routing rules apply


def test_schemathesis_loads_it():
    import schemathesis  # noqa: PLC0415
    doc = build_openapi(build_router())
    schema = schemathesis.openapi.from_dict(doc)
    ops = [r.ok() for r in schema.get_all_operations()]
    assert len(ops) == len(_route_keys())
