"""Services: preferences, notes, notifications, sessions, subscriptions,
stats, version (spec §4.7, §4.24–4.28, §3.5; §12 cases 6, 23, 44, 54)."""

from __future__ import annotations

import pytest
import pytest_twisted

from bws.errors import ClientError
from tests.helpers.fixtures import clock, explorer, service  # noqa: F401
from tests.helpers.wallets import create_and_join


async def raises(coro, code=None, message=None):
    with pytest.raises(ClientError) as ei:
        await coro
    if code:
        assert ei.value.code == code
    if message:
        assert message in ei.value.message
    return ei.value


# -- case 23: preferences -------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_preferences(service):
    w = await create_and_join(service, 2, 2)
    a, b = w.as_copayer(service, 0), w.as_copayer(service, 1)
    assert await a.get_preferences({}) == {}
    assert await a.save_preferences({"email": "dummy@dummy.com", "language": "es", "unit": "bit", "dummy": 1}) is None
    p = await a.get_preferences({})
    assert (p["email"], p["language"], p["unit"]) == ("dummy@dummy.com", "es", "bit")
    assert p["walletId"] == w.id and p["copayerId"] == w.copayer_ids[0] and "dummy" not in p
    assert await b.get_preferences({}) == {}
    await a.save_preferences({"language": "fr"})
    p = await a.get_preferences({})
    assert (p["email"], p["language"], p["unit"]) == ("dummy@dummy.com", "fr", "bit")
    await a.save_preferences({"email": None})
    p = await a.get_preferences({})
    assert p["email"] is None and p["language"] == "fr"
    await raises(a.save_preferences({"email": "dummy@" + "domain"}), "BADREQUEST", "email")
    await raises(a.save_preferences({"language": "xxx"}), "BADREQUEST", "language")
    await raises(a.save_preferences({"unit": "dollar"}), "BADREQUEST", "unit")
    await raises(a.save_preferences({"email": 5}), "BADREQUEST", "email")


# -- case 44: notes ----------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_tx_notes(service, clock):
    w = await create_and_join(service, 2, 2)
    a, b = w.as_copayer(service, 0), w.as_copayer(service, 1)
    assert await a.get_tx_note({"txid": "123"}) is None
    t0 = clock.t
    note = await a.edit_tx_note({"txid": "123", "body": "note body"})
    assert note["txid"] == "123" and note["body"] == "note body"
    assert note["editedBy"] == w.copayer_ids[0] and note["editedByName"] == "copayer 1"
    assert note["createdOn"] == note["editedOn"] == int(t0)
    clock.advance(60)
    note = await b.edit_tx_note({"txid": "123", "body": "edited"})
    assert note["editedBy"] == w.copayer_ids[1] and note["editedByName"] == "copayer 2"
    assert note["editedOn"] == int(t0) + 60 and note["createdOn"] == int(t0)
    got = await a.get_tx_note({"txid": "123"})
    assert got["body"] == "edited" and got["editedByName"] == "copayer 2"
    note = await a.edit_tx_note({"txid": "123", "body": None})
    assert note["body"] is None
    await a.edit_tx_note({"txid": "456", "body": "later"})
    assert {n["txid"] for n in await a.get_tx_notes({})} == {"123", "456"}
    assert [n["txid"] for n in await a.get_tx_notes({"minTs": str(int(t0) + 61)})] == []
    assert {n["txid"] for n in await a.get_tx_notes({"minTs": str(int(t0) + 60)})} == {"123", "456"}
    await raises(a.edit_tx_note({"body": "x"}), "BADREQUEST", "Required argument txid missing.")


# -- case 54: notifications --------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_notifications(service, clock):
    w = await create_and_join(service, 1, 1, network="testnet")
    me = w.as_copayer(service)
    await me.create_address({})
    await me.create_address({})
    # a network-level NewBlock (stored under walletId "testnet")
    await service.notifier.notify(
        service.notifier.new("NewBlock", {"hash": "h", "coin": "btc", "network": "testnet"}, "testnet",
                             now_ms=service.now_ms())
    )
    ns = await me.get_notifications({})
    assert [n["type"] for n in ns] == ["NewCopayer", "NewAddress", "NewAddress", "NewBlock"]
    assert {n["walletId"] for n in ns} == {w.id}
    assert [n["id"] for n in ns] == sorted(n["id"] for n in ns)
    assert ns[1]["creatorId"] == w.copayer_ids[0]
    after = await me.get_notifications({"notificationId": ns[1]["id"]})
    assert [n["id"] for n in after] == [n["id"] for n in ns[2:]]
    assert await me.get_notifications({"notificationId": ns[-1]["id"]}) == []
    clock.advance(61)
    assert await me.get_notifications({}) == []
    assert len(await me.get_notifications({"timeSpan": "120"})) == 4
    assert await me.get_notifications({"timeSpan": "abc"}) == []
    await raises(service.bind("nope", "x").get_notifications({}), "WALLET_NOT_FOUND")


# -- case 6: sessions ---------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_sessions(service, clock):
    w = await create_and_join(service, 1, 1)
    me = w.as_copayer(service)
    t1 = await me.login({})
    clock.advance(10)
    assert await me.login({}) == t1
    assert await service.check_session(w.copayer_ids[0], t1)
    clock.advance(3601)
    assert not await service.check_session(w.copayer_ids[0], t1)
    t2 = await me.login({})
    assert t2 != t1
    assert await me.logout({}) is None
    assert (await service.storage.sessions.fetch(w.copayer_ids[0]))["id"] is None  # ended, kept for the replay guard
    assert not await service.check_session(w.copayer_ids[0], t2)


# -- subscriptions (§4.27) -----------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_push_and_confirmation_subscriptions(service):
    w = await create_and_join(service, 1, 2)
    a, b = w.as_copayer(service, 0), w.as_copayer(service, 1)
    assert await a.push_notifications_subscribe({"token": "T", "packageName": "com.wallet", "platform": "Android"}) \
        == {"ok": 1, "n": 1}
    await a.push_notifications_subscribe({"token": "T", "platform": "iOS"})
    subs = await service.storage.subscriptions.fetch_push_subs(w.copayer_ids[0])
    assert [(s["token"], s["platform"]) for s in subs] == [("T", "iOS")]
    assert await b.push_notifications_unsubscribe({"token": "T"}) == {"ok": 1, "n": 0}
    assert await a.push_notifications_unsubscribe({"token": "T"}) == {"ok": 1, "n": 1}
    await raises(a.push_notifications_subscribe({}), "BADREQUEST", "Required argument token missing.")

    assert await a.tx_confirmation_subscribe({"txid": "abc"}) == {"ok": 1, "n": 1}
    subs = await service.storage.subscriptions.fetch_active_confirmation_subs(w.copayer_ids[0])
    assert [(s["txid"], s["walletId"], s["isActive"]) for s in subs] == [("abc", w.id, True)]
    assert await b.tx_confirmation_unsubscribe({"txid": "abc"}) == {"ok": 1, "n": 0}
    assert await a.tx_confirmation_unsubscribe({"txid": "abc"}) == {"ok": 1, "n": 1}
    await raises(a.tx_confirmation_subscribe({}), "BADREQUEST", "Required argument txid missing.")


# -- stats & version ---------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_stats_and_version(service, clock):
    clock.t = 1_600_000_000  # 2020-09-13
    await create_and_join(service, 1, 1)
    await create_and_join(service, 1, 1)
    await create_and_join(service, 1, 1, network="testnet")
    stats = await service.get_stats({"from": "2020-09-01", "to": "2020-09-30"})
    assert stats["newWallets"]["byDay"] == [{"day": "20200913", "coin": "btc", "count": 2}]
    assert stats["txProposals"] == {"nbByDay": [], "amountByDay": []}
    assert (await service.get_stats({"from": "2020-09-14"}))["newWallets"]["byDay"] == []
    await raises(service.get_stats({"from": "yesterday"}), "BADREQUEST", "Invalid date")
    assert await service.get_service_version() == {"serviceVersion": "bws-2.5.1"}
