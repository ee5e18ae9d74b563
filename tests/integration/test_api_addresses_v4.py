"""The address routes of bitcore-wallet-client 10.x / 11.x over HTTP with our own
signed client (docs/spec/protocol-bwc11.md §3.2): ``POST /v4/addresses/``
(``isChange``, the gap limit per branch), ``GET /v2/addresses`` (noChange,
addresses, reverse, skip, limit, in upstream's order) and
``POST /v1/clearcache/``; bad input is a 400 naming it."""

from __future__ import annotations

import dataclasses


import pytest_twisted

from tests.helpers.fixtures import api, clock, explorer, service  # noqa: F401
from tests.helpers.proposals import notifications
from tests.helpers.wallets import create_and_join


async def _wallet(api, m=1, n=1):
    w = await create_and_join(api.service, m, n, network="testnet")
    return w, w.copayers[0]


@pytest_twisted.ensureDeferred
async def test_v4_receive_and_change(api):
    w, k = await _wallet(api)
    c = api.client
    r = await c.post("/v4/addresses/", {}, k)
    assert r.status == 200, r.text
    assert r.json["path"] == "m/0/0" and r.json["isChange"] is False and r.json["type"] == "P2PKH"
    assert "scriptPubKey" not in r.json
    r = await c.post("/v4/addresses/", {"isChange": True, "ignoreMaxGap": None}, k)
    assert r.status == 200, r.text
    assert r.json["path"] == "m/1/0" and r.json["isChange"] is True
    r2 = r.json["address"]
    r = await c.post("/v4/addresses/", {"isChange": False}, k)
    assert r.json["path"] == "m/0/1"
    notes = await notifications(api.service, w.id, {"NewAddress"})
    assert [n["data"]["address"] for n in notes][1:2] == [r2]
    assert len(notes) == 3
    # the 2-of-2's addresses are P2SH
    w2, k2 = await _wallet(api, 2, 2)
    r = await c.post("/v4/addresses/", {"isChange": True}, k2)
    assert r.status == 200 and r.json["type"] == "P2SH" and len(r.json["publicKeys"]) == 2


@pytest_twisted.ensureDeferred
async def test_v4_bad_options_are_400(api):
    w, k = await _wallet(api)
    for body, name in (({"isChange": "yes"}, "isChange"), ({"ignoreMaxGap": 1}, "ignoreMaxGap")):
        r = await api.client.post("/v4/addresses/", body, k)
        assert r.status == 400 and r.json["code"] == "BADREQUEST" and name in r.json["message"], r.text
    assert await api.service.storage.addresses.fetch(w.id) == []


@pytest_twisted.ensureDeferred
async def test_v4_change_addresses_have_their_own_gap_limit(api, explorer):
    api.service.tunables = dataclasses.replace(api.service.tunables, max_main_address_gap=2)
    w, k = await _wallet(api)
    c = api.client
    for _ in range(2):
        assert (await c.post("/v4/addresses/", {"isChange": True}, k)).status == 200
    r = await c.post("/v4/addresses/", {"isChange": True}, k)
    assert (r.status, r.json["code"]) == (400, "MAIN_ADDRESS_GAP_REACHED")
    # the receive branch is not affected by unused change addresses
    assert (await c.post("/v4/addresses/", {}, k)).json["path"] == "m/0/0"
    # ignoreMaxGap still skips the check (as /v3/addresses/), activity unlocks it
    r = await c.post("/v4/addresses/", {"isChange": True, "ignoreMaxGap": True}, k)
    assert r.status == 200 and r.json["path"] == "m/1/2"
    explorer.active.add(r.json["address"])
    assert (await c.post("/v4/addresses/", {"isChange": True}, k)).json["path"] == "m/1/3"


@pytest_twisted.ensureDeferred
async def test_v2_addresses_filters_in_upstream_order(api):
    w, k = await _wallet(api)
    c = api.client
    made = []
    for change in (False, True, False, True, False):
        made.append((await c.post("/v4/addresses/", {"isChange": change}, k)).json)
    paths = lambda r: [a["path"] for a in r.json]  # noqa: E731

    r = await c.get("/v2/addresses", k)
    assert r.status == 200, r.text
    assert paths(r) == ["m/0/0", "m/1/0", "m/0/1", "m/1/1", "m/0/2"]
    assert all("scriptPubKey" not in a for a in r.json)
    assert paths(await c.get("/v2/addresses?noChange=1", k)) == ["m/0/0", "m/0/1", "m/0/2"]
    assert paths(await c.get("/v2/addresses?noChange=true&reverse=1", k)) == ["m/0/2", "m/0/1", "m/0/0"]
    # filter, then reverse, then skip, then limit
    r = await c.get("/v2/addresses?reverse=1&skip=1&limit=2", k)
    assert paths(r) == ["m/1/1", "m/0/1"]
    assert paths(await c.get("/v2/addresses?noChange=1&reverse=1&skip=1&limit=1", k)) == ["m/0/1"]
    assert paths(await c.get("/v2/addresses?skip=4", k)) == ["m/0/2"]
    assert paths(await c.get("/v2/addresses?limit=0", k)) == [a["path"] for a in made]
    wanted = f"{made[1]['address']},{made[4]['address']},nothere"
    assert paths(await c.get(f"/v2/addresses?addresses={wanted}", k)) == ["m/1/0", "m/0/2"]
    assert paths(await c.get(f"/v2/addresses?addresses={wanted}&noChange=1", k)) == ["m/0/2"]
    for q, name in (("limit=abc", "limit"), ("skip=-1", "skip"), ("skip=1.5", "skip")):
        r = await c.get(f"/v2/addresses?{q}", k)
        assert (r.status, r.json["code"]) == (400, "BADREQUEST") and name in r.json["message"], (q, r.text)
    # the old route still lists receive addresses only
    assert paths(await c.get("/v1/addresses/", k)) == ["m/0/0", "m/0/1", "m/0/2"]


@pytest_twisted.ensureDeferred
async def test_v2_addresses_needs_a_signature(api):
    w, k = await _wallet(api)
    r = await api.client.get("/v2/addresses")
    assert r.status == 401 and r.json["code"] == "NOT_AUTHORIZED"


@pytest_twisted.ensureDeferred
async def test_clearcache(api):
    w, k = await _wallet(api)
    cache = api.service.storage.cache
    await cache.set(w.id, "addressesWithBalance", None, {"addresses": ["x"]})
    await cache.set(w.id, "historyCacheStatus", None, {"isUpdated": True, "totalItems": 3})
    other, ko = await _wallet(api)
    await cache.set(other.id, "addressesWithBalance", None, {"addresses": ["y"]})

    r = await api.client.post("/v1/clearcache/", {}, k)
    assert r.status == 200 and r.json == {"success": True}, r.text
    assert await cache.get(w.id, "addressesWithBalance", None) is None
    assert (await cache.get(w.id, "historyCacheStatus", None))["isUpdated"] is False
    assert (await cache.get(other.id, "addressesWithBalance", None))["addresses"] == ["y"]  # only the caller's

    r = await api.client.post("/v1/clearcache/?tokenAddress=0xabc", {}, k)
    assert r.status == 400 and "tokenAddress" in r.json["message"]
    assert (await api.client.post("/v1/clearcache/", {})).status == 401


@pytest_twisted.ensureDeferred
async def test_balance_and_history_refuse_token_options(api):
    w, k = await _wallet(api)
    c = api.client
    for path in ("/v1/balance/", "/v1/txhistory/"):
        for name in ("tokenAddress", "multisigContractAddress"):
            r = await c.get(f"{path}?{name}=0xabc", k)
            assert (r.status, r.json["code"]) == (400, "BADREQUEST") and name in r.json["message"], (path, r.text)
        r = await c.get(f"{path}?tokenAddress=", k)  # empty: what a client sends when there is none
        assert r.status == 200, r.text
