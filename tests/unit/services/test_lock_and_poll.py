"""The wallet lock (bws/interfaces.py run_locked through the services) and the
notification poll (bws/services/notifications.py) with time driven by
``task.Clock``: WALLET_BUSY after ``lock_wait``, the poll's time window."""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import defer

from bws.errors import ClientError
from bws.interfaces import LockTimeout

from .conftest import T0, result_of


@pytest_twisted.ensureDeferred
async def test_wallet_busy_when_the_lock_stays_held_past_lock_wait(world):
    w = await world.create_wallet(1, 1)
    release = await world.lock.acquire(w.id, 60, 300)  # another request holds the wallet
    save = defer.ensureDeferred(world.services.preferences.save_preferences(w.caller(), {"language": "es"}))
    world.clock.advance(world.services.deps.lock_wait - 0.5)
    assert not save.called  # still waiting for the lock
    world.clock.advance(0.5)
    with pytest.raises(ClientError) as e:
        result_of(save)
    assert e.value.code == "WALLET_BUSY"
    assert world.storage.preferences.docs == {}
    release()


@pytest_twisted.ensureDeferred
async def test_a_waiting_request_runs_once_the_lock_is_released(world):
    w = await world.create_wallet(1, 1)
    release = await world.lock.acquire(w.id, 60, 300)
    save = defer.ensureDeferred(world.services.preferences.save_preferences(w.caller(), {"language": "es"}))
    world.clock.advance(1)
    release()
    assert result_of(save) is None
    assert (await world.services.preferences.get_preferences(w.caller(), {}))["language"] == "es"
    assert not world.lock.is_held(w.id)  # the service released it too


@pytest_twisted.ensureDeferred
async def test_the_fake_lock_is_fifo_and_force_releases_after_max_hold(clock, world):
    lock = world.lock
    first = await lock.acquire("t", 10, 30)
    order = []
    second = defer.ensureDeferred(lock.acquire("t", 10, 30)).addCallback(lambda r: order.append("second") or r)
    third = defer.ensureDeferred(lock.acquire("t", 100, 30)).addCallback(lambda r: order.append("third") or r)
    first()
    first()  # idempotent: does not release the next holder
    assert order == ["second"] and lock.is_held("t")
    clock.advance(30)  # the second holder never releases: forced after max_hold
    assert order == ["second", "third"]
    result_of(third)()
    assert not lock.is_held("t")
    late = defer.ensureDeferred(lock.acquire("t", 1, 30))
    assert late.called  # free: granted at once
    waiting = defer.ensureDeferred(lock.acquire("t", 1, 30))
    clock.advance(1)
    with pytest.raises(LockTimeout):
        result_of(waiting)
    result_of(second)


@pytest_twisted.ensureDeferred
async def test_the_poll_returns_the_last_minute_by_default(world):
    w = await world.create_wallet(2, 2)  # NewCopayer x2 + WalletComplete at T0
    poll = world.services.notifications.get_notifications
    assert [n["type"] for n in await poll(w.caller(), {})] == ["NewCopayer", "NewCopayer", "WalletComplete"]
    world.clock.advance(59)
    await world.services.addresses.create_address(w.caller(), {})  # NewAddress at T0 + 59
    world.clock.advance(2)  # T0 + 61: the first three are older than the default 60 s span
    assert [n["type"] for n in await poll(w.caller(), {})] == ["NewAddress"]
    assert len(await poll(w.caller(), {"timeSpan": "120"})) == 4
    assert len(await poll(w.caller(), {"minTs": T0 * 1000 - 1})) == 4  # an ms floor instead of the span
    assert len(await poll(w.caller(), {"minTs": T0 * 1000})) == 3  # strictly after (T0, ticker 0)


@pytest_twisted.ensureDeferred
async def test_the_poll_continues_after_a_notification_id(world):
    w = await world.create_wallet(2, 2)
    poll = world.services.notifications.get_notifications
    seen = await poll(w.caller(), {})
    world.clock.advance(1)
    await world.services.addresses.create_address(w.caller(), {})
    after = await poll(w.caller(), {"notificationId": seen[-1]["id"]})
    assert [n["type"] for n in after] == ["NewAddress"]
    assert await poll(w.caller(), {"notificationId": after[-1]["id"]}) == []


@pytest_twisted.ensureDeferred
async def test_the_poll_takes_only_new_blocks_from_the_network_scope(world):
    w = await world.create_wallet(1, 1)
    notifier = world.services.deps.notifier
    await notifier.notify(notifier.new("NewBlock", {"hash": "00" * 32}, "livenet", now_ms=world.clock.seconds() * 1000))
    await notifier.notify(notifier.new("NewCopayer", {}, "livenet", now_ms=world.clock.seconds() * 1000))
    await notifier.notify(notifier.new("NewBlock", {"hash": "11" * 32}, "testnet", now_ms=world.clock.seconds() * 1000))
    got = await world.services.notifications.get_notifications(w.caller(), {})
    assert [(n["type"], n["walletId"]) for n in got] == [("NewCopayer", w.id), ("NewBlock", w.id)]
    assert got[1]["data"] == {"hash": "00" * 32}
