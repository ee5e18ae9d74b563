"""Fee levels (spec §4.18, §6.5, §10 Q5; §12 case 29): estimator parsing,
multiplier, +1/+2 fallback, defaults on failure, monotonicity, 5-minute cache
keyed by coin+network, the v1/v2 routes; the real node (no estimates on
regtest) gives the defaults."""

from __future__ import annotations

import pytest
import pytest_twisted

from bws.errors import ClientError
from tests.helpers.fixtures import Clock, api, make_service  # noqa: F401
from tests.helpers.proposals import FakeExplorer, explorer_error, module_watch_wallet, node_explorer  # noqa: F401

DEFAULTS = [
    {"level": "urgent", "feePerKb": 150000, "nbBlocks": None},
    {"level": "priority", "feePerKb": 100000, "nbBlocks": None},
    {"level": "normal", "feePerKb": 80000, "nbBlocks": None},
    {"level": "economy", "feePerKb": 50000, "nbBlocks": None},
    {"level": "superEconomy", "feePerKb": 20000, "nbBlocks": None},
]


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def fake():
    # BTC/kB samples: 2 -> 20 000, 3 -> 18 000, 6 missing, 7 -> 11 000, 24 -> 9 000 sat/kB
    return FakeExplorer(fee_samples={2: 0.0002, 3: 0.00018, 6: -1, 7: 0.00011, 24: 0.00009})


@pytest.fixture
def service(storage, clock, fake):
    return make_service(storage, {("btc", "livenet"): fake, ("btc", "testnet"): fake}, clock=clock)


@pytest_twisted.ensureDeferred
async def test_sampled_levels_and_cache(service, fake, clock):
    levels = await service.get_fee_levels({"coin": "btc", "network": "livenet"})
    assert levels == [
        {"level": "urgent", "feePerKb": 30000, "nbBlocks": 2},  # ×1.5 multiplier
        {"level": "priority", "feePerKb": 20000, "nbBlocks": 2},
        {"level": "normal", "feePerKb": 18000, "nbBlocks": 3},
        {"level": "economy", "feePerKb": 11000, "nbBlocks": 7},  # 6 missing -> 7
        {"level": "superEconomy", "feePerKb": 9000, "nbBlocks": 24},
    ]
    assert fake.calls == [("estimate_fee",)]
    fake.fee_samples = {2: 0.001}
    assert await service.get_fee_levels({}) == levels  # defaults btc/livenet, cached
    assert fake.calls == [("estimate_fee",)]
    await service.get_fee_levels({"network": "testnet"})  # other key
    assert len(fake.calls) == 2
    clock.advance(301)
    fresh = await service.get_fee_levels({})
    assert fresh[0] == {"level": "urgent", "feePerKb": 150000, "nbBlocks": 2}
    # monotonic: levels without samples keep their defaults but never exceed the one above
    assert [lv["feePerKb"] for lv in fresh] == [150000, 100000, 80000, 50000, 20000]
    assert [lv["nbBlocks"] for lv in fresh] == [2, 2, None, None, None]


@pytest_twisted.ensureDeferred
async def test_estimator_failure_gives_defaults_uncached(service, fake):
    fake.fail["estimate_fee"] = explorer_error()
    assert await service.get_fee_levels({"network": "livenet"}) == DEFAULTS
    del fake.fail["estimate_fee"]
    assert (await service.get_fee_levels({"network": "livenet"}))[0]["nbBlocks"] == 2


@pytest_twisted.ensureDeferred
async def test_monotonic_with_default(service, fake):
    fake.fee_samples = {2: 0.00045, 3: 0.00018, 6: -1, 7: -1, 8: -1, 24: 0.00009}
    levels = await service.get_fee_levels({})
    assert levels[3] == {"level": "economy", "feePerKb": 18000, "nbBlocks": None}


@pytest_twisted.ensureDeferred
async def test_invalid_args_and_other_coins(service):
    for opts, msg in (({"coin": "doge"}, "Invalid coin"), ({"network": "regtest"}, "Invalid network")):
        with pytest.raises(ClientError) as ei:
            await service.get_fee_levels(opts)
        assert ei.value.message == msg
    eth = await service.get_fee_levels({"coin": "eth"})
    assert eth[0] == {"level": "urgent", "feePerKb": 40 * 10**9, "nbBlocks": 1}


@pytest_twisted.ensureDeferred
async def test_routes_v1_v2(api):
    r = await api.client.get("/v2/feelevels/?coin=btc&network=livenet&r=1")
    assert r.status == 200 and r.json[2] == {"level": "normal", "feePerKb": 18000, "nbBlocks": 3}
    r = await api.client.get("/v1/feelevels/?network=livenet")
    assert r.status == 200 and r.json[2] == {"level": "normal", "feePerKB": 18000, "nbBlocks": 3}
    r = await api.client.get("/v2/feelevels/?network=nope")
    assert (r.status, r.json["message"]) == (400, "Invalid network")


@pytest_twisted.ensureDeferred
async def test_real_node_levels(storage, node_explorer, litecoind):
    """Regtest has no estimates until blocks with transactions were mined: each
    level is either its default (nbBlocks null) or a parsed estimate (Q5)."""
    service = make_service(storage, {("btc", "testnet"): node_explorer})
    levels = await service.get_fee_levels({"network": "testnet"})
    assert [lv["level"] for lv in levels] == [d["level"] for d in DEFAULTS]
    for lv, d in zip(levels, DEFAULTS):
        assert isinstance(lv["feePerKb"], int) and lv["feePerKb"] > 0
        if lv["nbBlocks"] is None:
            assert lv["feePerKb"] <= d["feePerKb"]
        else:
            assert lv["nbBlocks"] in (d_n := {"urgent": (2, 3, 4), "priority": (2, 3, 4), "normal": (3, 4, 5),
                                               "economy": (6, 7, 8), "superEconomy": (24, 25, 26)}[lv["level"]]), d_n
    fees = [lv["feePerKb"] for lv in levels]
    assert fees == sorted(fees, reverse=True)
    node = litecoind.rpc("estimatesmartfee", 3).get("feerate")
    if node is not None and levels[2]["nbBlocks"] == 3:
        assert levels[2]["feePerKb"] == round(float(node) * 1e8)
