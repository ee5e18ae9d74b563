"""The shape of the HTTP layer (issue 16 "HTTP layer"): routes are registered
explicitly on a router each app owns, no two routes of one method can match
one path (so the one ``GET /v1/txproposals/:id/`` is the route that answers),
``bws/http`` has no import cycle and knows the database driver in one place
only, no route reaches past the services, and the operator options the
webhook and fiat routes need are applied by the services."""

from __future__ import annotations

import dataclasses

import ast
import time
from pathlib import Path

import pytest_twisted

from bws.http.app import BwsApi
from bws.http.routes import build_router
from bws.http.routing import Route, Router
from tests.helpers.fixtures import api, clock, explorer, service  # noqa: F401
from tests.helpers.wallets import create_and_join

HTTP_DIR = Path(__file__).resolve().parents[2] / "bws" / "http"


def _overlap(a: Route, b: Route) -> bool:
    """True when some path matches both patterns (same length, and no
    position where both are literals that differ, nor where a parameter
    excludes the other's literal, ``:identifier!all``)."""
    return a.overlaps(b)


def test_no_two_routes_match_one_path():
    routes = build_router().routes
    clashes = [(a.method, a.path, b.path) for i, a in enumerate(routes) for b in routes[i + 1:] if _overlap(a, b)]
    assert clashes == []


def test_overlap_check_sees_a_shadowed_route():
    # the check above can fail: the duplicate this issue removed is caught
    first = Route("GET", "/v1/txproposals/:id/", None)
    assert _overlap(first, Route("GET", "/v1/txproposals/:txid/", None))
    assert _overlap(first, Route("GET", "/v1/txproposals/abc/", None))
    assert not _overlap(first, Route("DELETE", "/v1/txproposals/:id/", None))
    assert not _overlap(first, Route("GET", "/v1/txnotes/:id/", None))
    # a parameter that excludes a literal does not shadow that literal route, and only it
    staff = Route("GET", "/v1/wallets/:identifier!all/", None)
    assert not _overlap(staff, Route("GET", "/v1/wallets/all/", None))
    assert not _overlap(Route("GET", "/v1/wallets/ALL/", None), staff)
    assert _overlap(staff, Route("GET", "/v1/wallets/alls/", None))
    assert _overlap(staff, Route("GET", "/v1/wallets/:id/", None))
    assert staff.match(["v1", "wallets", "All"]) is None
    assert staff.match(["v1", "wallets", "abc"]) == {"identifier": "abc"}


def test_the_one_get_proposal_route():
    router = build_router()
    same = [r for r in router.routes if (r.method, r.path) == ("GET", "/v1/txproposals/:id/")]
    assert len(same) == 1
    route, params = router.match("GET", "/v1/TxProposals/abc")
    assert route is same[0] and params == {"id": "abc"}
    assert (route.handler.__module__, route.handler.__name__) == ("bws.http.routes.proposals", "get_tx")


@pytest_twisted.ensureDeferred
async def test_get_proposal_answers_as_the_reference(api):
    # upstream bitcore-wallet-service lib/server.js getTx: an unknown id is TX_NOT_FOUND
    w = await create_and_join(api.service, 1, 1)
    r = await api.client.get("/v1/txproposals/no-such-id/", w.copayers[0])
    assert r.status == 400 and r.json == {"code": "TX_NOT_FOUND", "message": "Transaction proposal not found"}


def test_each_app_owns_its_router(service):
    one, two = build_router(), build_router()
    assert [(r.method, r.path) for r in one.routes] == [(r.method, r.path) for r in two.routes]
    assert not set(map(id, one.routes)) & set(map(id, two.routes))
    assert Router().routes == []
    custom = Router()
    assert BwsApi(service, router=custom).router is custom
    # building an app writes nothing into the service (the openapi route gets basePath from register())
    before = (service.deps, service.tunables)
    BwsApi(service, "/other/base")
    assert (service.deps, service.tunables) == before


@pytest_twisted.ensureDeferred
async def test_openapi_names_the_apps_base_path(service):
    from twisted.internet import reactor

    from tests.helpers.client import TestClient

    port = reactor.listenTCP(0, BwsApi(service, "/other/base").site(), interface="127.0.0.1")
    client = TestClient(f"http://127.0.0.1:{port.getHost().port}/other/base")
    try:
        r = await client.get("/openapi.json")
        assert r.status == 200 and r.json["servers"] == [{"url": "/other/base"}]
    finally:
        await client.close()
        await port.stopListening()


def _modules() -> dict[str, Path]:
    out = {}
    for path in HTTP_DIR.rglob("*.py"):
        parts = path.relative_to(HTTP_DIR.parent.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _module_level_imports(path: Path, name: str) -> set[str]:
    """Modules imported at module level (not inside functions), absolute."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in tree.body:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


def test_http_import_graph():
    modules = _modules()
    graph = {n: {m for m in _module_level_imports(p, n) if m in modules and m != n} for n, p in modules.items()}
    assert "bws.http.app" in graph and "bws.http.routes.proposals" in graph["bws.http.routes"]

    def cycle_from(start: str):
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    return trail + [nxt]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, trail + [nxt]))
        return None

    assert [c for c in map(cycle_from, sorted(graph)) if c] == []
    # the database driver (and storage) is known to app.py's 503 mapping only
    for name, path in modules.items():
        imported = _module_level_imports(path, name) | {
            n.module or "" for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ImportFrom)
        }
        driver = {m for m in imported if m.split(".")[0] == "pymongo" or m.startswith("bws.storage")}
        assert not driver or name == "bws.http.app", (name, driver)


def test_routes_do_not_reach_past_the_services():
    # a handler calls the service; it never touches storage or the service's options
    for path in (HTTP_DIR / "routes").glob("*.py"):
        tree = ast.parse(path.read_text())
        reached = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)} & {"storage", "options"}
        assert not reached, (path.name, reached)


@pytest_twisted.ensureDeferred
async def test_fiat_default_provider_is_the_services(api):
    now = int(time.time() * 1000)
    await api.service.storage.fiat.store_rates("BitPay", "btc", [{"code": "USD", "value": 100.0}], now - 60_000)
    await api.service.storage.fiat.store_rates("Bitstamp", "btc", [{"code": "USD", "value": 300.0}], now - 60_000)
    assert (await api.client.get("/v1/fiatrates/USD/")).json["rate"] == 100.0
    # fiatRateServiceOpts.defaultProvider
    api.service.tunables = dataclasses.replace(api.service.tunables, fiat_default_provider="Bitstamp")
    assert (await api.client.get("/v1/fiatrates/USD/")).json["rate"] == 300.0
    assert (await api.client.get("/v1/fiatrates/USD/?provider=BitPay")).json["rate"] == 100.0


@pytest_twisted.ensureDeferred
async def test_webhook_allow_http_is_the_services(api):
    w = await create_and_join(api.service, 1, 1)
    c = w.copayers[0]
    tunables = api.service.tunables
    api.service.tunables = dataclasses.replace(tunables, webhook_allow_private_networks=("127.0.0.0/8",))
    r = await api.client.post("/v1/webhooks/", {"url": "http://127.0.0.1:9/hook"}, c)
    assert r.status == 400 and r.json["message"] == "Invalid url: must be an https:// URL"
    api.service.tunables = dataclasses.replace(api.service.tunables, webhook_allow_http=True)  # webhookOpts.allowHttp
    r = await api.client.post("/v1/webhooks/", {"url": "http://127.0.0.1:9/hook"}, c)
    assert r.status == 200 and r.json["url"] == "http://127.0.0.1:9/hook"
    hook_id = r.json["id"]
    assert [h["id"] for h in (await api.client.get("/v1/webhooks/", c)).json] == [hook_id]
    assert (await api.client.get(f"/v1/webhooks/{hook_id}/deliveries/", c)).json == []
    assert (await api.client.request("DELETE", f"/v1/webhooks/{hook_id}/", copayer=c)).json == {"ok": 1, "n": 1}
