"""Sessions, preferences and transaction notes (bws/services/sessions.py,
preferences.py, notes.py) on fakes; session expiry driven by the clock."""

from __future__ import annotations

import pytest
import pytest_twisted

from bws.errors import ClientError
from bws.model import constants as C

from .conftest import T0


@pytest_twisted.ensureDeferred
async def test_a_session_expires_an_hour_after_its_last_login(world):
    w = await world.create_wallet(1, 1)
    sessions, me = world.services.sessions, w.caller()
    token = await sessions.login(me, {})
    assert await sessions.check_session(me.copayer_id, token)
    assert not await sessions.check_session(me.copayer_id, "not-the-token")
    world.clock.advance(C.SESSION_EXPIRATION - 10)
    assert await sessions.login(me, {}) == token  # still valid: the same session, touched
    world.clock.advance(C.SESSION_EXPIRATION)
    assert await sessions.check_session(me.copayer_id, token)  # the login above extended it
    world.clock.advance(11)
    assert not await sessions.check_session(me.copayer_id, token)
    fresh = await sessions.login(me, {})
    assert fresh != token and await sessions.check_session(me.copayer_id, fresh)


@pytest_twisted.ensureDeferred
async def test_checking_a_session_does_not_extend_it(world):
    w = await world.create_wallet(1, 1)
    me = w.caller()
    token = await world.services.sessions.login(me, {})
    for _ in range(4):
        world.clock.advance(C.SESSION_EXPIRATION / 4)
        await world.services.sessions.check_session(me.copayer_id, token)
    world.clock.advance(1)
    assert not await world.services.sessions.check_session(me.copayer_id, token)


@pytest_twisted.ensureDeferred
async def test_logout_ends_the_session(world):
    w = await world.create_wallet(1, 1)
    me = w.caller()
    token = await world.services.sessions.login(me, {})
    await world.services.sessions.logout(me, {})
    assert not await world.services.sessions.check_session(me.copayer_id, token)


@pytest_twisted.ensureDeferred
async def test_preferences_merge_and_validate(world):
    w = await world.create_wallet(2, 2)
    prefs = world.services.preferences
    await prefs.save_preferences(w.caller(0), {"email": "a@example.com", "language": "es", "other": 1})
    await prefs.save_preferences(w.caller(0), {"unit": "bit"})
    got = await prefs.get_preferences(w.caller(0), {})
    assert (got["email"], got["language"], got["unit"], got["createdOn"]) == ("a@example.com", "es", "bit", T0)
    assert "other" not in got
    assert await prefs.get_preferences(w.caller(1), {}) == {}  # per copayer
    with pytest.raises(ClientError, match="Invalid email"):
        await prefs.save_preferences(w.caller(0), {"email": "not an email"})
    assert (await prefs.get_preferences(w.caller(0), {}))["email"] == "a@example.com"


@pytest_twisted.ensureDeferred
async def test_a_replayed_signed_preferences_request_is_refused(world):
    w = await world.create_wallet(1, 1)
    first, second = w.caller(request_digest="d1"), w.caller(request_digest="d2")
    await world.services.preferences.save_preferences(first, {"language": "es"})
    await world.services.preferences.save_preferences(first, {"language": "es"})  # a re-send: fine
    await world.services.preferences.save_preferences(second, {"language": "fr"})
    with pytest.raises(ClientError, match="Request already applied"):
        await world.services.preferences.save_preferences(first, {"language": "es"})
    assert (await world.services.preferences.get_preferences(first, {}))["language"] == "fr"


@pytest_twisted.ensureDeferred
async def test_notes_are_shared_and_filtered_by_edit_time(world):
    w = await world.create_wallet(2, 2)
    notes = world.services.notes
    a = await notes.edit_tx_note(w.caller(0), {"txid": "aa" * 32, "body": "rent"})
    assert (a["body"], a["editedBy"], a["editedByName"], a["editedOn"]) == ("rent", w.copayer_ids[0], "c0", T0)
    world.clock.advance(100)
    b = await notes.edit_tx_note(w.caller(1), {"txid": "bb" * 32, "body": "food"})
    assert b["editedOn"] == T0 + 100
    got = await notes.get_tx_note(w.caller(1), {"txid": "aa" * 32})
    assert got["body"] == "rent" and got["editedByName"] == "c0"  # the other copayer sees it
    assert [n["txid"] for n in await notes.get_tx_notes(w.caller(0), {"minTs": T0 + 50})] == ["bb" * 32]
    assert len(await notes.get_tx_notes(w.caller(0), {})) == 2
    assert await notes.get_tx_note(w.caller(0), {"txid": "cc" * 32}) is None
