"""Addresses (bws/services/addresses.py) on fakes: derivation, NewAddress, and
the main-address gap asked of the fake explorer (gap 3 in these tests)."""

from __future__ import annotations

import pytest
import pytest_twisted

from bws.chains.address import parse_address
from bws.errors import ClientError

from .conftest import T0


@pytest_twisted.ensureDeferred
async def test_create_address_derives_stores_and_announces(world):
    w = await world.create_wallet(1, 1)
    world.broker.published.clear()
    a = await world.services.addresses.create_address(w.caller(), {})
    assert parse_address(a["address"], "btc").network == "livenet"
    assert (a["path"], a["isChange"], a["createdOn"], a["walletId"]) == ("m/0/0", False, T0, w.id)
    assert "scriptPubKey" not in a  # storage-only field
    stored = await world.storage.addresses.fetch(w.id)
    assert [d["address"] for d in stored] == [a["address"]] and stored[0]["scriptPubKey"]
    assert [(m["type"], m["data"]) for m in world.broker.published] == [("NewAddress", {"address": a["address"]})]
    b = await world.services.addresses.create_address(w.caller(), {})
    assert b["path"] == "m/0/1" and b["address"] != a["address"]


@pytest_twisted.ensureDeferred
async def test_gap_reached_when_the_last_addresses_have_no_activity(world):
    w = await world.create_wallet(1, 1)
    made = [await world.services.addresses.create_address(w.caller(), {}) for _ in range(3)]
    with pytest.raises(ClientError) as e:
        await world.services.addresses.create_address(w.caller(), {})
    assert e.value.code == "MAIN_ADDRESS_GAP_REACHED"
    asked = [args[0] for name, args in world.explorer.calls if name == "get_address_activity"]
    assert asked == [a["address"] for a in reversed(made)]  # newest first
    assert await world.storage.addresses.count(w.id) == 3


@pytest_twisted.ensureDeferred
async def test_activity_on_a_gap_address_lets_the_wallet_go_on(world):
    w = await world.create_wallet(1, 1)
    made = [await world.services.addresses.create_address(w.caller(), {}) for _ in range(3)]
    world.explorer.active.add(made[1]["address"])
    fourth = await world.services.addresses.create_address(w.caller(), {})
    assert fourth["path"] == "m/0/3"
    stored = await world.storage.addresses.fetch_one(w.id, made[1]["address"])
    assert stored["hasActivity"] is True  # remembered: the explorer is not asked again for it
    calls = world.explorer.called("get_address_activity")
    await world.services.addresses.create_address(w.caller(), {})
    assert world.explorer.called("get_address_activity") == calls


@pytest_twisted.ensureDeferred
async def test_ignore_max_gap_skips_the_explorer(world):
    w = await world.create_wallet(1, 1)
    for _ in range(5):
        await world.services.addresses.create_address(w.caller(), {"ignoreMaxGap": True})
    assert await world.storage.addresses.count(w.id) == 5
    assert world.explorer.called("get_address_activity") == 0


@pytest_twisted.ensureDeferred
async def test_an_incomplete_wallet_gets_no_address(world):
    w = await world.create_wallet(2, 2, join=1)
    with pytest.raises(ClientError) as e:
        await world.services.addresses.create_address(w.caller(), {})
    assert e.value.code == "WALLET_NOT_COMPLETE"
    assert world.storage.addresses.docs == []
