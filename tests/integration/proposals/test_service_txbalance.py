"""Balance: totals, two-step, fast cache; UTXO listing (spec §4.17, §4.20,
§6.3, §6.4, §10 Q8; §12 cases 24, 26, 27, 28).  Funds come from litecoind
(one block mined for the confirmed/unconfirmed split); explorer failures use
an in-test explorer."""

from __future__ import annotations

import pytest
import pytest_twisted

from bws.errors import ClientError, ServerError
from bws.services.context import Tunables
from tests.helpers.fixtures import Clock, make_service
from tests.helpers.keys import CopayerKeys
from tests.helpers.wallets import create_and_join
from tests.helpers.proposals import (  # noqa: F401
    FakeExplorer,
    eventually,
    explorer_error,
    fund,
    module_watch_wallet,
    node_explorer,
    notifications,
)

pytestmark = pytest.mark.timeout(120)


async def new_wallet(service):
    w = await create_and_join(service, 1, 1, network="testnet", copayers=[CopayerKeys.random("testnet")])
    return w, w.as_copayer(service)


# -- case 26 ---------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_totals_confirmed_and_by_address(storage, node_explorer, litecoind):
    service = make_service(storage, {("btc", "testnet"): node_explorer})
    w, me = await new_wallet(service)
    zero = await me.get_balance({})
    assert zero["totalAmount"] == 0 and zero["byAddress"] == []
    a1, _ = await fund(me, litecoind, "1")
    a3, _ = await fund(me, litecoind, "3")
    litecoind.mine(1)
    await eventually(lambda: me.get_balance({}), lambda b: b["totalConfirmedAmount"] == 400_000_000)
    a2, _ = await fund(me, litecoind, "2")
    bal = await me.get_balance({})
    assert (bal["totalAmount"], bal["totalConfirmedAmount"], bal["lockedAmount"]) == (6e8, 4e8, 0)
    assert (bal["availableAmount"], bal["availableConfirmedAmount"]) == (6e8, 4e8)
    expected = sorted([(a1["address"], a1["path"], 1e8), (a2["address"], a2["path"], 2e8), (a3["address"], a3["path"], 3e8)])
    assert [(b["address"], b["path"], b["amount"]) for b in bal["byAddress"]] == expected
    with pytest.raises(ClientError) as ei:
        await me.get_balance({"coin": "doge"})
    assert ei.value.message == "Invalid coin"


@pytest_twisted.ensureDeferred
async def test_explorer_error_and_coin_override(storage):
    btc = FakeExplorer(fail={"get_utxos": explorer_error("dummy error")})
    bch = FakeExplorer()
    service = make_service(storage, {("btc", "testnet"): btc, ("bch", "testnet"): bch})
    w, me = await new_wallet(service)
    a = await me.create_address({})
    with pytest.raises(ServerError) as ei:
        await me.get_balance({})
    assert ei.value.to_body() == {"error": "dummy error"}
    bch.utxos = [{"txid": "cd" * 32, "vout": 0, "address": a["address"], "satoshis": 700, "confirmations": 1}]
    bal = await me.get_balance({"coin": "bch"})
    assert bal["totalAmount"] == 700 and bch.calls and btc.calls == [("get_utxos",)]
    # case 24: no UTXOs at the explorer -> [] even with pending proposals around
    btc.fail.clear()
    assert await me.get_utxos({}) == []


# -- case 27 -------------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_two_step_balance(storage, node_explorer, litecoind):
    clock = Clock()
    service = make_service(storage, {("btc", "testnet"): node_explorer}, clock=clock,
                           tunables=Tunables(two_step_balance_threshold=3))
    w, me = await new_wallet(service)
    old = [await me.create_address({}) for _ in range(3)]
    await fund(me, litecoind, "0.4", address=old[1])  # one-step so far (< 3 ... now 3 addresses)
    await storage.cache.delete(w.id, "addressesWithBalance")
    clock.advance(25 * 3600)  # the funded address is no longer "new" and not known to hold funds
    partial = await me.get_balance({"twoStep": True})
    assert partial["totalAmount"] == 0
    await service.state.jobs.drain()
    [n] = await notifications(service, w.id, {"BalanceUpdated"})
    assert n["data"]["totalAmount"] == 40_000_000 and n["creatorId"] is None
    # now the address is known to hold funds: the partial answer is complete, no new notification
    assert (await me.get_balance({"twoStep": True}))["totalAmount"] == 40_000_000
    await service.state.jobs.drain()
    assert len(await notifications(service, w.id, {"BalanceUpdated"})) == 1


@pytest_twisted.ensureDeferred
async def test_two_step_below_threshold_is_one_step(storage, node_explorer, litecoind):
    service = make_service(storage, {("btc", "testnet"): node_explorer})
    w, me = await new_wallet(service)
    await fund(me, litecoind, "0.1")
    assert (await me.get_balance({"twoStep": True}))["totalAmount"] == 10_000_000
    await service.state.jobs.drain()
    assert await notifications(service, w.id, {"BalanceUpdated"}) == []


# -- case 28 -------------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_fast_cache(storage, node_explorer, litecoind):
    clock = Clock()
    service = make_service(storage, {("btc", "testnet"): node_explorer}, clock=clock,
                           tunables=Tunables(balance_cache_address_threshold=2))
    w, me = await new_wallet(service)
    a = await me.create_address({})
    await me.create_address({})
    first = await me.get_balance({})
    assert first["totalAmount"] == 0
    litecoind.fund(a["address"], "0.2")
    await eventually(lambda: me.get_utxos({}), lambda u: len(u) == 1)
    assert (await me.get_balance({}))["totalAmount"] == 0  # served from the cache
    clock.advance(61)
    assert (await me.get_balance({}))["totalAmount"] == 20_000_000
    # Q8: the key depends on the address strings, not only their count
    cache = await storage.cache.get(w.id, "balanceCache", None)
    assert cache is None
