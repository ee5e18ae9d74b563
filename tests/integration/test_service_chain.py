"""Addresses, UTXOs and balance against a real node: litecoind regtest through
the Bitcoin Core RPC explorer (spec §6.2–6.4, §4.17, §4.20; §12 cases 21, 24,
26 (parts), 18 (balance)).  Mines 1 block."""

from __future__ import annotations

import dataclasses

import pytest
import pytest_twisted
from twisted.internet import reactor

from bws.adapters.explorers.bitcoind import BitcoindExplorer
from tests.helpers.fixtures import api, clock, make_service  # noqa: F401
from tests.helpers.wallets import create_and_join


@pytest.fixture
def node_explorer(litecoind):
    ex = BitcoindExplorer("btc", "testnet", litecoind.rpc_url, reactor)
    yield ex
    ex.close()


@pytest.fixture
def service(storage, clock, node_explorer):  # noqa: F811 - overrides the stub-explorer service
    return make_service(storage, {("btc", "testnet"): node_explorer}, clock=clock)


@pytest_twisted.ensureDeferred
async def test_balance_and_utxos_on_chain(service, litecoind):
    w = await create_and_join(service, 1, 1, network="testnet")
    me = w.as_copayer(service)
    a0 = await me.create_address({})
    a1 = await me.create_address({})
    assert a0["address"][0] in "mn"
    txid0 = litecoind.fund(a0["address"], "1.5")
    txid1 = litecoind.fund(a1["address"], "0.25")
    bal = await me.get_balance({})
    assert bal["totalAmount"] == 175_000_000 and bal["totalConfirmedAmount"] == 0
    assert bal["availableAmount"] == 175_000_000 and bal["lockedAmount"] == 0
    assert sorted((b["address"], b["path"], b["amount"]) for b in bal["byAddress"]) == sorted(
        [(a0["address"], "m/0/0", 150_000_000), (a1["address"], "m/0/1", 25_000_000)])
    litecoind.mine(1)
    bal = await me.get_balance({})
    assert bal["totalConfirmedAmount"] == 175_000_000 and bal["availableConfirmedAmount"] == 175_000_000
    utxos = await me.get_utxos({})
    by_txid = {u["txid"]: u for u in utxos}
    assert set(by_txid) == {txid0, txid1}
    u0 = by_txid[txid0]
    assert (u0["address"], u0["satoshis"], u0["path"], u0["locked"]) == (a0["address"], 150_000_000, "m/0/0", False)
    assert u0["publicKeys"] == a0["publicKeys"] and u0["confirmations"] >= 1
    only = await me.get_utxos({"addresses": a1["address"]})
    assert [(u["txid"], u["satoshis"]) for u in only] == [(txid1, 25_000_000)]
    assert "path" not in only[0]
    cache = await service.storage.cache.get(w.id, "addressesWithBalance", None)
    assert sorted(cache["addresses"]) == sorted([a0["address"], a1["address"]])
    status = await me.get_status({"includeExtendedInfo": True})
    assert status["balance"]["totalAmount"] == 175_000_000


@pytest_twisted.ensureDeferred
async def test_gap_limit_with_node_activity(service, litecoind):
    service.tunables = dataclasses.replace(service.tunables, max_main_address_gap=3)
    w = await create_and_join(service, 1, 1, network="testnet")
    me = w.as_copayer(service)
    made = [await me.create_address({}) for _ in range(3)]
    with pytest.raises(Exception) as ei:
        await me.create_address({})
    assert getattr(ei.value, "code", None) == "MAIN_ADDRESS_GAP_REACHED"
    litecoind.fund(made[-1]["address"], "0.01")  # mempool activity counts
    nxt = await me.create_address({})
    assert nxt["path"] == "m/0/3"
    stored = {a["address"]: a for a in await service.storage.addresses.fetch(w.id)}
    assert stored[made[-1]["address"]]["hasActivity"] is True


@pytest_twisted.ensureDeferred
async def test_balance_over_http(api, litecoind):
    w = await create_and_join(api.service, 1, 1, network="testnet")
    c = w.copayers[0]
    r = await api.client.post("/v3/addresses/", {}, c)
    assert r.status == 200
    litecoind.fund(r.json["address"], "0.5")
    r = await api.client.get("/v1/balance/?r=1", c)
    assert r.status == 200 and r.json["totalAmount"] == 50_000_000
    r = await api.client.get("/v2/wallets/?twoStep=1&r=2", c)
    assert r.json["balance"]["totalAmount"] == 50_000_000
    r = await api.client.get("/v1/utxos/?r=3", c)
    assert [u["satoshis"] for u in r.json] == [50_000_000]
