"""bitcore-wallet-client 11.5.2 (npm alias ``bwc11``, unpatched) against ``python -m bws`` on
litecoind regtest: the driver loads the right client, and 11.5.2 creates and joins a 2-of-2
wallet through our ``/v2/wallets/`` routes and signs requests our auth accepts (session login +
notifications, preferences). The v3/v4 wallet lives are in test_bwc11_wallets.py (open, status,
bulk status, seed import) and test_bwc11_txproposals.py (addresses, proposals, history);
the protocol checklist is docs/spec/protocol-bwc11.md.
"""

from __future__ import annotations

import pytest

from tests.interop.harness import BwcError

pytestmark = pytest.mark.interop




def test_driver_loads_bwc_1152(bwc11):
    assert bwc11.call("-", "version")["bwc"] == "11.5.2"


def test_2of2_wallet_created_and_joined_by_bwc11(bwc11):
    alice = bwc11.new_copayer("alice", m=2, n=2)
    bob = bwc11.new_copayer("bob", m=2, n=2)
    for c in (alice, bob):
        creds = c.credentials()
        # 11.x multisig credentials: BIP48 root path (m/48'/1'/account'), P2SH until the
        # wallet says otherwise, incomplete until the public key ring is known.
        assert creds["rootPath"] == "m/48'/1'/0'"
        assert creds["xPubKey"].startswith("tpub")
        assert (creds["addressType"], creds["complete"]) == ("P2SH", False)

    created = alice.createWallet(walletName="shared 11", copayerName="alice", m=2, n=2, network="testnet")
    secret = created["secret"]
    wallet_id = created["credentials"]["walletId"]
    # The client builds the secret: base58 wallet id padded to 22, the WIF of the join key,
    # network char, coin.
    assert secret and secret.endswith("Tbtc") and len(secret) == 22 + 52 + 1 + 3
    # POST /v2/wallets/:id/copayers answers the wallet as stored, which the client decrypts.
    w = created["wallet"]
    assert (w["id"], w["m"], w["n"], w["status"]) == (wallet_id, 2, 2, "pending")
    assert w["name"] == "shared 11"  # encrypted with the shared key, decrypted by the client
    assert (w["network"], w["coin"]) == ("testnet", "btc")
    assert [cp["name"] for cp in w["copayers"]] == ["alice"]
    assert w["copayers"][0]["xPubKey"] == alice.credentials()["xPubKey"]

    # A dry run checks the secret without joining: the wallet still has one copayer.
    dry = bob.joinWallet(secret=secret, copayerName="bob", dryRun=True)
    assert [cp["name"] for cp in dry["wallet"]["copayers"]] == ["alice"]

    joined = bob.joinWallet(secret=secret, copayerName="bob")
    jw = joined["wallet"]
    assert (jw["id"], jw["status"]) == (wallet_id, "complete")
    assert sorted(cp["name"] for cp in jw["copayers"]) == ["alice", "bob"]
    assert {cp["xPubKey"] for cp in jw["copayers"]} == {c.credentials()["xPubKey"] for c in (alice, bob)}
    assert {cp["requestPubKey"] for cp in jw["copayers"]} == {c.credentials()["requestPubKey"] for c in (alice, bob)}
    assert jw["addressType"] == "P2SH"
    assert joined["credentials"]["walletId"] == wallet_id

    # A third key cannot join a full wallet; the server's code reaches the client.
    carol = bwc11.new_copayer("carol", m=2, n=2)
    with pytest.raises(BwcError) as e:
        carol.joinWallet(secret=secret, copayerName="carol")
    assert e.value.code == "WALLET_FULL"


def test_bwc11_signed_requests_are_accepted(bwc11):
    """Request signing is unchanged in 11.x (x-identity + x-signature over
    ``method|url|JSON(args)``); a session (POST /v1/login) carries the notification poll."""
    alice = bwc11.new_copayer("alice", m=2, n=2)
    bob = bwc11.new_copayer("bob", m=2, n=2)
    created = alice.createWallet(walletName="signed", copayerName="alice", m=2, n=2, network="testnet")
    bob.joinWallet(secret=created["secret"], copayerName="bob")
    bob_id = bob.credentials()["copayerId"]

    seen = alice.getNotifications(opts={"timeSpan": 60})
    by_type = {n["type"]: n for n in seen}
    assert {"NewCopayer", "WalletComplete"} <= set(by_type), [n["type"] for n in seen]
    assert by_type["NewCopayer"]["creatorId"] == bob_id
    assert by_type["NewCopayer"]["walletId"] == created["credentials"]["walletId"]

    alice.savePreferences(preferences={"language": "es", "unit": "bit"})
    prefs = alice.getPreferences()
    assert (prefs["language"], prefs["unit"]) == ("es", "bit")
    # Preferences are per copayer.
    assert bob.getPreferences().get("language") in (None, "en")

    # A request signed with another key under alice's identity is refused.
    mallory = bwc11.new_copayer("mallory", m=2, n=2)
    exported = alice.export()
    forged = dict(exported["credentials"])
    mallory_creds = mallory.export()["credentials"]
    forged["requestPrivKey"] = mallory_creds["requestPrivKey"]
    forged["requestPubKey"] = mallory_creds["requestPubKey"]
    bwc11.call("forged", "import", credentials=forged)
    with pytest.raises(BwcError) as e:
        bwc11.call("forged", "getPreferences")
    assert e.value.code == "NOT_AUTHORIZED"
