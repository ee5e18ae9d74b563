"""bitcore-wallet-client 11.5.2 (unpatched) against ``python -m bws``: wallets, status and
bulk status (issue 17; docs/spec/protocol-bwc11.md §3.1, §3.5).

Create/join/open of 2-of-2 and 2-of-3 wallets (``openWallet`` completes the credentials
through ``GET /v3/wallets/`` and ``Verifier.checkCopayers``), ``getStatus``, bulk
``getStatusAll`` over several wallets of one Key (``GET /v1/wallets/all/``, one
signature), seed import (``serverAssistedImport``), ``recreateWallet``, refused
segwit/TSS creation, preferences.
"""

from __future__ import annotations

import pytest
from pymongo import MongoClient

from tests.interop.harness import BwcError

pytestmark = pytest.mark.interop




def _names(status):
    return sorted(cp["name"] for cp in status["wallet"]["copayers"])


def test_2of2_create_join_open_and_status(bwc11):
    alice = bwc11.new_copayer("alice", m=2, n=2)
    bob = bwc11.new_copayer("bob", m=2, n=2)
    created = alice.createWallet(walletName="two of two", copayerName="alice", m=2, n=2, network="testnet")
    wallet_id = created["credentials"]["walletId"]
    assert created["wallet"]["chain"] == "btc"
    # the creator opens its pending wallet: the credentials stay incomplete
    opened = alice.openWallet()
    assert opened["status"]["wallet"]["status"] == "pending"
    assert opened["credentials"]["complete"] is False
    bob.joinWallet(secret=created["secret"], copayerName="bob")
    # once complete, openWallet fills the public key ring and checks every copayer
    # (Verifier.checkCopayers: names, xpubs, request keys, signatures by the wallet key)
    opened = alice.openWallet()
    assert opened["credentials"]["complete"] is True
    assert opened["credentials"]["publicKeyRingSize"] == 2
    assert opened["status"]["wallet"]["status"] == "complete"
    assert _names(opened["status"]) == ["alice", "bob"]  # decrypted by the client
    # complete credentials: openWallet does not ask again
    assert alice.openWallet()["status"] is None
    status = bob.getStatus(includeExtendedInfo=True)
    assert (status["wallet"]["id"], status["wallet"]["chain"], status["wallet"]["name"]) == (wallet_id, "btc", "two of two")
    assert status["balance"]["totalAmount"] == 0 and status["pendingTxps"] == []
    assert status["serverMessages"] == []
    assert bob.getStatus()["wallet"]["status"] == "complete"


def test_2of3_open_as_it_fills(bwc11):
    alice, bob, carol = (bwc11.new_copayer(n, m=2, n=3) for n in ("alice", "bob", "carol"))
    created = alice.createWallet(walletName="two of three", copayerName="alice", m=2, n=3, network="testnet")
    bob.joinWallet(secret=created["secret"], copayerName="bob")
    opened = bob.openWallet()
    assert (opened["status"]["wallet"]["status"], opened["credentials"]["complete"]) == ("pending", False)
    carol.joinWallet(secret=created["secret"], copayerName="carol")
    for c in (alice, bob, carol):
        opened = c.openWallet()
        assert opened["credentials"]["complete"] is True, c
        assert opened["credentials"]["publicKeyRingSize"] == 3
        assert _names(opened["status"]) == ["alice", "bob", "carol"]


def test_bulk_status_of_wallets_of_one_key(bwc11):
    main = bwc11.new_copayer("main", m=1, n=1)
    main.createWallet(walletName="account 0", copayerName="me", m=1, n=1, network="testnet")
    second = bwc11.client("second")
    bwc11.call("second", "deriveCopayer", **{"from": "main", "m": 1, "n": 1, "network": "testnet", "account": 1})
    second.createWallet(walletName="account 1", copayerName="me", m=1, n=1, network="testnet")
    shared = bwc11.client("shared")
    bwc11.call("shared", "deriveCopayer", **{"from": "main", "m": 2, "n": 2, "network": "testnet", "account": 0})
    pending = shared.createWallet(walletName="shared", copayerName="me", m=2, n=2, network="testnet")

    ids = {c: c_.credentials()["walletId"] for c, c_ in (("main", main), ("second", second), ("shared", shared))}
    # a pending wallet in the batch: bwc writes result.wallet.secret for it (our items carry
    # `wallet`, upstream's do not and the client throws a TypeError there)
    results = main.getStatusAll(clients=["main", "second", "shared"], includeExtendedInfo=True,
                                ignoreIncomplete=True, silentFailure=False)
    assert [(r["walletId"], r["success"]) for r in results] == [(ids["main"], True), (ids["second"], True),
                                                               (ids["shared"], True)]
    assert [r["status"]["wallet"]["name"] for r in results] == ["account 0", "account 1", "shared"]
    assert results[2]["wallet"]["secret"] == pending["secret"]

    # an identity the server does not know (a Key account with no wallet)
    bwc11.call("ghost", "deriveCopayer", **{"from": "main", "m": 1, "n": 1, "network": "testnet", "account": 7})
    results = main.getStatusAll(clients=["main", "ghost", "second"], ignoreIncomplete=True, silentFailure=True)
    assert [r["success"] for r in results] == [True, False, True]
    assert results[1] == {"success": False, "error": "Copayer not found"}
    with pytest.raises(BwcError) as e:
        main.getStatusAll(clients=["main", "ghost"], ignoreIncomplete=True, silentFailure=False)
    assert e.value.code == "NOT_AUTHORIZED"


def test_server_assisted_import_finds_the_wallets(bwc11):
    owner = bwc11.new_copayer("owner", m=1, n=1)
    created = owner.createWallet(walletName="to import", copayerName="owner", m=1, n=1, network="testnet")
    wallet_id = created["credentials"]["walletId"]
    words = bwc11.call("owner", "getMnemonic")
    found = bwc11.call("importer", "serverAssistedImport", words=words, includeTestnetWallets=True)
    assert [f["credentials"]["walletId"] for f in found] == [wallet_id]
    creds = found[0]["credentials"]
    assert creds["complete"] is True and creds["walletName"] == "to import"
    assert creds["copayerId"] == owner.credentials()["copayerId"]
    # the imported client works
    assert bwc11.client(found[0]["client"]).getStatus()["wallet"]["id"] == wallet_id


def test_recreate_wallet(bwc11, bws_api):
    alice = bwc11.new_copayer("alice", m=1, n=1)
    created = alice.createWallet(walletName="lost", copayerName="alice", m=1, n=1, network="testnet")
    wallet_id = created["credentials"]["walletId"]
    alice.recreateWallet()  # exists: nothing to do
    # the server loses the wallet: the client creates it again with the same id and key ring
    uri = bws_api.config["storageOpts"]["mongoDb"]["uri"]
    with MongoClient(uri) as client:
        db = client.get_default_database()
        assert db.wallets.delete_one({"id": wallet_id}).deleted_count == 1
        db.copayers_lookup.delete_many({"walletId": wallet_id})
    alice.recreateWallet()
    status = alice.getStatus(includeExtendedInfo=True)
    assert (status["wallet"]["id"], status["wallet"]["status"], status["wallet"]["name"]) == (wallet_id, "complete", "lost")
    assert status["wallet"]["copayers"][0]["xPubKey"] == alice.credentials()["xPubKey"]


@pytest.mark.parametrize(
    "opts, option",
    [({"useNativeSegwit": True}, "useNativeSegwit"), ({"useNativeSegwit": True, "segwitVersion": 1}, "useNativeSegwit")],
)
def test_segwit_create_refused(bwc11, opts, option):
    alice = bwc11.new_copayer("alice", m=1, n=1)
    with pytest.raises(BwcError) as e:
        alice.createWallet(walletName="w", copayerName="alice", m=1, n=1, network="testnet", **opts)
    assert f"{option} is not supported yet" in str(e.value)
    assert alice.credentials()["walletId"] is None


def test_preferences_round_trip(bwc11):
    alice = bwc11.new_copayer("alice", m=1, n=1)
    alice.createWallet(walletName="w", copayerName="alice", m=1, n=1, network="testnet")
    assert alice.getPreferences() == {}
    alice.savePreferences(preferences={"email": "alice@example.com", "language": "es", "unit": "bit"})
    prefs = alice.getPreferences()
    assert (prefs["email"], prefs["language"], prefs["unit"]) == ("alice@example.com", "es", "bit")
    with pytest.raises(BwcError) as e:
        alice.savePreferences(preferences={"tokenAddresses": ["0x6b175474e89094c44da98b954eedeac495271d0f"]})
    assert "tokenAddresses is only valid for EVM wallets" in str(e.value)
    assert alice.getPreferences()["email"] == "alice@example.com"



def test_get_status_by_identifier_is_broken_in_the_client(bwc11, bws_api):
    """11.5.2's ``getStatusByIdentifier`` calls ``$.checkArugment`` (a typo: no such
    preconditions function) and throws before any request, so support staff cannot use it
    with this client version; the staff route itself (``GET /v1/wallets/:identifier/``,
    walletCheck accepted) is covered by tests/integration/test_api_wallets_v3.py."""
    staff = bwc11.new_copayer("staff", m=1, n=1)
    wallet_id = staff.createWallet(walletName="staff", copayerName="staff", m=1, n=1,
                                   network="testnet")["credentials"]["walletId"]
    with pytest.raises(BwcError) as e:
        staff.getStatusByIdentifier(identifier=wallet_id, walletCheck=True)
    assert e.value.name == "TypeError" and "checkArugment" in e.value.message
    assert f"/v1/wallets/{wallet_id}" not in bws_api.log_tail()  # nothing reached the server
