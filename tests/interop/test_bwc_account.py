"""The real bitcore-wallet-client 6.7.5 against ``python -m bws``: notifications over a
login session, preferences, tx notes, add access (new request key) and recovery from the
12 words.
"""

from __future__ import annotations

import pytest

from tests.interop.harness import BwcError, wait_for
from tests.interop.test_bwc_wallet import make_wallet

pytestmark = pytest.mark.interop


def test_notifications_through_a_session(bwc):
    alice = bwc.new_copayer("alice")
    created = alice.createWallet(walletName="notif", copayerName="alice", m=2, n=2, network="testnet")
    bob = bwc.new_copayer("bob")
    bob.joinWallet(secret=created["secret"], copayerName="bob")
    bob_id = bob.credentials()["copayerId"]
    alice.openWallet()
    bob.openWallet()

    # getNotifications logs in (POST /v1/login) and polls with x-session; own
    # notifications are filtered out by the client unless includeOwn.
    seen = alice.getNotifications(opts={"timeSpan": 60})
    types = [n["type"] for n in seen]
    assert "NewCopayer" in types and "WalletComplete" in types, types
    new_copayer = next(n for n in seen if n["type"] == "NewCopayer" and n["creatorId"] == bob_id)
    assert new_copayer["data"]["copayerId"] == bob_id
    assert new_copayer["walletId"] == created["credentials"]["walletId"]
    ids = [n["id"] for n in seen]
    assert ids == sorted(ids)

    # Only newer ones after the last seen id; alice's own address is filtered out.
    last = ids[-1]
    alice.createAddress()
    addr = bob.createAddress()
    newer = alice.getNotifications(opts={"lastNotificationId": last})
    assert [(n["type"], n["data"]["address"]) for n in newer] == [("NewAddress", addr["address"])]
    own = alice.getNotifications(opts={"lastNotificationId": last, "includeOwn": True})
    assert [n["type"] for n in own] == ["NewAddress", "NewAddress"]


def test_preferences_and_tx_notes(bwc):
    alice, bob = make_wallet(bwc, ["alice", "bob"], m=1)
    assert alice.getPreferences() == {} or all(v is None for k, v in alice.getPreferences().items()
                                             if k in ("email", "language", "unit"))
    alice.savePreferences(preferences={"email": "alice@example.com", "language": "es", "unit": "bit"})
    prefs = alice.getPreferences()
    assert (prefs["email"], prefs["language"], prefs["unit"]) == ("alice@example.com", "es", "bit")
    assert alice.getStatus()["preferences"]["language"] == "es"
    with pytest.raises(BwcError) as e:
        alice.savePreferences(preferences={"email": "not an email"})
    assert "Invalid email" in e.value.message

    txid = "a" * 64
    note = alice.editTxNote(txid=txid, body="rent for march")
    assert note["body"] == "rent for march"  # decrypted by the client
    assert note["encryptedBody"] != "rent for march"  # the server stored the opaque ciphertext
    got = bob.getTxNote(txid=txid)
    assert got["body"] == "rent for march"
    assert got["editedBy"] == alice.credentials()["copayerId"]
    assert got["editedByName"] == "alice"
    assert [n["txid"] for n in bob.getTxNotes()] == [txid]


def test_add_access_with_a_new_request_key(bwc):
    (alice,) = make_wallet(bwc, ["alice"], m=1)
    old_key = alice.credentials()["requestPubKey"]
    res = alice.addAccess(generateNewKey=True, useNewKey=True)
    assert res["requestPubKey"] != old_key
    me = res["wallet"]["copayers"][0]
    keys = [k["key"] for k in me["requestPubKeys"]]
    assert keys[0] == res["requestPubKey"] and old_key in keys
    # Requests signed with the new key are accepted.
    assert alice.getStatus()["wallet"]["status"] == "complete"
    assert alice.createAddress()["path"] == "m/0/0"


def test_recover_from_mnemonic(bwc):
    alice, bob = make_wallet(bwc, ["alice", "bob"], m=2)
    addr = alice.createAddress()
    words = alice.getMnemonic()
    assert len(words.split()) == 12

    restored = bwc.client("alice-restored")
    creds = restored.importFromMnemonic(words=words, network="testnet")
    assert creds["copayerId"] == alice.credentials()["copayerId"]
    assert creds["walletId"] == alice.credentials()["walletId"]
    assert creds["complete"] is True
    assert [a["address"] for a in restored.getMainAddresses()] == [addr["address"]]


def test_recover_and_scan_finds_the_funded_addresses(bwc, litecoind):
    (alice,) = make_wallet(bwc, ["alice"], m=1)
    a0, _a1, a2 = (alice.createAddress()["address"] for _ in range(3))
    litecoind.fund(a0, "0.01")
    litecoind.fund(a2, "0.02")
    wait_for(lambda: alice.getBalance()["totalAmount"] == 3_000_000, what="funds")

    restored = bwc.client("alice-restored")
    restored.importFromMnemonic(words=alice.getMnemonic(), network="testnet")
    restored.startScan()  # POST /v1/addresses/scan; completion is announced by a notification

    def finished():
        notes = restored.getNotifications(opts={"timeSpan": 300})
        return next((n for n in notes if n["type"] == "ScanFinished"), None)

    done = wait_for(finished, timeout=60, what="ScanFinished")
    assert done["data"]["result"] == "success"
    assert restored.getStatus()["wallet"]["scanStatus"] == "success"
    assert restored.getBalance()["totalAmount"] == 3_000_000
    assert restored.createAddress()["path"] == "m/0/3"
