"""Wallet life (bws/services/wallets.py) on fakes: create, join, status, and
the notifications a join stores and publishes."""

from __future__ import annotations

import pytest
import pytest_twisted

from bws.errors import ClientError
from bws.services.context import ANONYMOUS
from tests.helpers.keys import WalletKey

from .conftest import T0


def _opts(**kw):
    return {"name": "w", "m": 1, "n": 1, "pubKey": WalletKey.random().pub, **kw}


@pytest.mark.parametrize("m, n", [(0, 1), (3, 2), (1, 16), ("1", 1), (1.5, 2)])
@pytest_twisted.ensureDeferred
async def test_create_refuses_bad_m_of_n(world, m, n):
    with pytest.raises(ClientError, match="Invalid combination of required copayers / total copayers"):
        await world.services.wallets.create_wallet(ANONYMOUS, _opts(m=m, n=n))
    assert world.storage.wallets.wallets == {}


@pytest_twisted.ensureDeferred
async def test_create_refuses_a_bad_pubkey(world):
    with pytest.raises(ClientError, match="Invalid public key"):
        await world.services.wallets.create_wallet(ANONYMOUS, _opts(pubKey="02" + "00" * 32))
    assert world.storage.wallets.wallets == {}


@pytest_twisted.ensureDeferred
async def test_create_stores_a_pending_wallet_at_clock_time(world):
    res = await world.services.wallets.create_wallet(ANONYMOUS, _opts(m=2, n=3))
    doc = world.storage.wallets.wallets[res["walletId"]]
    assert (doc["m"], doc["n"], doc["status"], doc["createdOn"]) == (2, 3, "pending", T0)
    assert world.lock.granted == [res["walletId"]]  # stored under the wallet's lock


@pytest_twisted.ensureDeferred
async def test_join_a_full_wallet_is_wallet_full(world):
    w = await world.create_wallet(1, 2)
    w.copayers.append(w.copayers[0].random())
    with pytest.raises(ClientError) as e:
        await world.join(w, 2)
    assert e.value.code == "WALLET_FULL"


@pytest_twisted.ensureDeferred
async def test_joining_twice_is_copayer_in_wallet(world):
    w = await world.create_wallet(2, 3, join=1)
    with pytest.raises(ClientError) as e:
        await world.join(w, 0)
    assert e.value.code == "COPAYER_IN_WALLET"
    assert len(world.storage.wallets.wallets[w.id]["copayers"]) == 1


@pytest_twisted.ensureDeferred
async def test_completing_a_wallet_stores_and_publishes_new_copayer_then_wallet_complete(world):
    w = await world.create_wallet(2, 2)
    assert world.broker.types() == ["NewCopayer", "NewCopayer", "WalletComplete"]
    stored = world.storage.notifications.of_wallet(w.id)
    assert stored == world.broker.published  # published exactly what was stored, in order
    new_copayers = [n for n in stored if n["type"] == "NewCopayer"]
    assert [n["creatorId"] for n in new_copayers] == w.copayer_ids
    assert stored[-1]["creatorId"] is None  # WalletComplete is global
    assert all(n["createdOn"] == T0 for n in stored)


@pytest_twisted.ensureDeferred
async def test_a_one_of_one_wallet_announces_no_wallet_complete(world):
    await world.create_wallet(1, 1)
    assert world.broker.types() == ["NewCopayer"]


@pytest_twisted.ensureDeferred
async def test_status_of_a_complete_wallet(world):
    w = await world.create_wallet(2, 2)
    status = await world.services.wallets.get_status(w.caller(1), {})
    wallet = status["wallet"]
    assert wallet["status"] == "complete"
    assert [c["id"] for c in wallet["copayers"]] == w.copayer_ids
    assert "publicKeyRing" not in wallet and "xPubKey" not in wallet["copayers"][0]  # no extended info
    assert status["balance"]["totalAmount"] == 0
    assert status["pendingTxps"] == [] and status["preferences"] == {}


@pytest_twisted.ensureDeferred
async def test_status_hides_other_copayers_custom_data(world):
    w = await world.create_wallet(2, 2)
    status = await world.services.wallets.get_status(w.caller(0), {"includeExtendedInfo": True})
    mine, other = status["wallet"]["copayers"]
    assert mine["customData"] == "custom data c0"
    assert "customData" not in other
    assert len(status["wallet"]["publicKeyRing"]) == 2
