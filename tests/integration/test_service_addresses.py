"""Services addresses: vectors, consecutive paths, atomic store, gap limit,
listing, incomplete / single-address / need-scan wallets
(spec §6.1–6.2, §4.16; §12 cases 19–22, 30, 45)."""

from __future__ import annotations

import dataclasses

import pytest
import pytest_twisted

from bws.errors import ClientError
from tests.helpers import db
from tests.helpers.fixtures import clock, explorer, service  # noqa: F401
from tests.helpers.keys import CopayerKeys, WalletKey
from tests.helpers.wallets import create_and_join

BIP44_XPUB_0 = (
    "xpub6DVmxcjRgZdHNSEcXSiFtweVwMSTc3TMwRJ45nJYvyqvLbK1poPerupqh87rSoz27wvckb1CKnGZoLmLXSZyNGZtVd7neqSvdwJL6fceQpe"
)
BIP44_XPUB_1 = (
    "xpub6CAa5y1xxykKjpHH9coq1EqfKX8Si5wsdggS9UU535DQWcQ4jKtVcD7qi9TCvhV31N3QCLdEaftLjNdXv8R72XiorEnrTfn1ULjA35RgQVp"
)
BIP45_XPUB_0 = (
    "xpub68pKcb8jHWqWuTgPz2czjFSJJBJTsTNdd87Mgh5bVz4sNFBJBus5KyptGBWgA4V6LGCi12s4Mw4S1JC2GkqX4NJ4kfQ47XqRZLbyM2DY9Jd"
)
BIP45_XPUB_1 = (
    "xpub68GyCcdsCV9A3NvFqJP7hr8t3sm26vGausUfYXm5f6CqPwKLKBKvy9MDSUA6ot6WMzXCWFyWCFfZyhcqK4uZGPZL83rKW9KfuGLPJ6P38Ex"
)


async def new_address_notifications(service, wallet_id):
    return [n for n in await service.storage.notifications.fetch([wallet_id], None, 0) if n["type"] == "NewAddress"]


# -- case 19 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "xpubs,bip44,m,path,address",
    [
        ([BIP45_XPUB_0, BIP45_XPUB_1], False, 2, "m/2147483647/0/0", "3BVJZ4CYzeTtawDtgwHvWV5jbvnXtYe97i"),
        ([BIP44_XPUB_0, BIP44_XPUB_1], True, 2, "m/0/0", "36q2G5FMGvJbPgAVEaiyAsFGmpkhPKwk2r"),
        ([BIP44_XPUB_0], True, 1, "m/0/0", "1L3z9LPd861FWQhf3vDn89Fnc9dkdBo2CG"),
    ],
    ids=["bip45-2of2", "bip44-2of2", "bip44-1of1"],
)
@pytest_twisted.ensureDeferred
async def test_create_address_vectors(service, xpubs, bip44, m, path, address):
    keys = [CopayerKeys.from_xpub(x, derivation="BIP44" if bip44 else "BIP45") for x in xpubs]
    w = await create_and_join(service, m, len(xpubs), bip44=bip44, copayers=keys)
    a = await w.as_copayer(service).create_address({})
    assert (a["address"], a["path"], a["isChange"], a["walletId"]) == (address, path, False, w.id)
    assert a["type"] == ("P2SH" if len(xpubs) > 1 else "P2PKH")
    assert len(a["publicKeys"]) == len(xpubs) and "scriptPubKey" not in a
    ns = await new_address_notifications(service, w.id)
    assert [n["data"] for n in ns] == [{"address": address}]
    stored = await service.storage.addresses.fetch(w.id)
    assert stored[0]["scriptPubKey"]  # monitors match by script


@pytest_twisted.ensureDeferred
async def test_vector_1of1_testnet_and_bch(service):
    w = await create_and_join(service, 1, 1, coin="bch", copayers=[CopayerKeys.from_xpub(BIP44_XPUB_0)])
    a = await w.as_copayer(service).create_address({})
    assert a["address"] == "CbWsiNjh18ynQYc5jfYhhespEGrAaW8YUq" and a["coin"] == "bch"


# -- case 20 --------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_consecutive_addresses(service):
    w = await create_and_join(service, 2, 2)
    me = w.as_copayer(service)
    got = [await me.create_address({}) for _ in range(3)]
    assert [a["path"] for a in got] == ["m/0/0", "m/0/1", "m/0/2"]
    assert len({a["address"] for a in got}) == 3


@pytest_twisted.ensureDeferred
async def test_failed_store_keeps_nothing(service, monkeypatch):
    w = await create_and_join(service, 1, 1)
    me = w.as_copayer(service)
    await me.create_address({})

    async def boom(*a, **k):
        raise RuntimeError("db down")

    monkeypatch.setattr(service.storage.addresses, "store_with_wallet", boom)
    with pytest.raises(RuntimeError):
        await me.create_address({})
    monkeypatch.undo()
    assert len(await service.storage.addresses.fetch(w.id)) == 1
    wallet = await service.storage.wallets.fetch(w.id)
    assert wallet["addressManager"]["receiveAddressIndex"] == 1
    a = await me.create_address({})
    assert a["path"] == "m/0/1"
    assert len(await new_address_notifications(service, w.id)) == 2


# -- case 21 --------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_gap_limit(service, explorer):
    w = await create_and_join(service, 1, 1)
    me = w.as_copayer(service)
    made = [await me.create_address({}) for _ in range(20)]
    assert explorer.calls == []
    with pytest.raises(ClientError) as ei:
        await me.create_address({})
    assert ei.value.code == "MAIN_ADDRESS_GAP_REACHED"
    assert explorer.calls == [a["address"] for a in reversed(made)]
    # ignoreMaxGap bypasses the check without asking the explorer
    explorer.calls.clear()
    newest = await me.create_address({"ignoreMaxGap": True})
    assert explorer.calls == [] and newest["path"] == "m/0/20"
    # activity on the newest unlocks; the result is cached on the address
    explorer.active.add(newest["address"])
    await me.create_address({})
    assert explorer.calls == [newest["address"]]
    stored = {a["address"]: a for a in await service.storage.addresses.fetch(w.id)}
    assert stored[newest["address"]]["hasActivity"] is True
    explorer.calls.clear()
    await me.create_address({})
    assert explorer.calls == []


@pytest_twisted.ensureDeferred
async def test_gap_limit_explorer_error_propagates(service, explorer, monkeypatch):
    service.tunables = dataclasses.replace(service.tunables, max_main_address_gap=2)
    w = await create_and_join(service, 1, 1)
    me = w.as_copayer(service)
    await me.create_address({})
    await me.create_address({})

    async def fail(address):
        raise RuntimeError("node unreachable")

    monkeypatch.setattr(explorer, "get_address_activity", fail)
    from bws.errors import ServerError

    with pytest.raises(ServerError) as ei:
        await me.create_address({})
    assert "node unreachable" in ei.value.message


# -- case 22 --------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_main_addresses(service):
    w = await create_and_join(service, 1, 1)
    me = w.as_copayer(service)
    made = [await me.create_address({}) for _ in range(5)]
    paths = [a["path"] for a in made]
    assert [a["path"] for a in await me.get_main_addresses({})] == paths
    assert [a["path"] for a in await me.get_main_addresses({"limit": 2})] == paths[:2]
    assert [a["path"] for a in await me.get_main_addresses({"limit": 2, "reverse": True})] == paths[::-1][:2]
    assert all("scriptPubKey" not in a for a in await me.get_main_addresses({}))


# -- cases 30, 45, need-scan ------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_incomplete_wallet(service):
    w = await create_and_join(service, 2, 3, join=2)
    with pytest.raises(ClientError) as ei:
        await w.as_copayer(service).create_address({})
    assert (ei.value.code, ei.value.message) == ("WALLET_NOT_COMPLETE", "Wallet is not complete")


@pytest_twisted.ensureDeferred
async def test_single_address_wallet(service):
    w = await create_and_join(service, 1, 1, single_address=True)
    me = w.as_copayer(service)
    first = await me.create_address({})
    again = await me.create_address({})
    assert again["address"] == first["address"] and again["path"] == "m/0/0"
    assert len(await service.storage.addresses.fetch(w.id)) == 1
    assert len(await new_address_notifications(service, w.id)) == 1


@pytest_twisted.ensureDeferred
async def test_wallet_need_scan(service):
    w = await create_and_join(service, 1, 1)
    db.update_one(service.storage, "wallets", {"id": w.id}, {"$set": {"scanStatus": "error"}})
    me = w.as_copayer(service)
    for call in (me.create_address({}), me.get_balance({}), me.get_utxos({})):
        with pytest.raises(ClientError) as ei:
            await call
        assert ei.value.code == "WALLET_NEED_SCAN"
    status = await me.get_status({"includeExtendedInfo": True})
    assert "balance" not in status
    with pytest.raises(ClientError):
        await me.get_status({})


@pytest_twisted.ensureDeferred
async def test_missing_wallet(service):
    with pytest.raises(ClientError) as ei:
        await service.bind("nope", "c").create_address({})
    assert ei.value.code == "WALLET_NOT_FOUND"
