"""The real bitcore-wallet-client 6.7.5 against ``python -m bws`` + litecoind regtest:
create/join a 2-of-3 BIP44 testnet wallet, addresses checked by the client, funds in the balance.
"""

from __future__ import annotations

import pytest

from tests.interop.harness import BwcError, wait_for

pytestmark = pytest.mark.interop

SAT = 100_000_000


def make_wallet(bwc, names, m, wallet_name="interop"):
    """Create an m-of-len(names) testnet wallet as names[0]; the others join with the secret.
    Every copayer then opens the wallet (the client verifies all copayer signatures)."""
    clients = [bwc.new_copayer(n) for n in names]
    creator = clients[0]
    created = creator.createWallet(walletName=wallet_name, copayerName=names[0], m=m, n=len(names), network="testnet")
    for c in clients[1:]:
        joined = c.joinWallet(secret=created["secret"], copayerName=c.name)
        assert joined["wallet"]["id"] == created["credentials"]["walletId"]
    for c in clients:
        c.openWallet()
    return clients


def test_driver_loads_bwc_675(bwc):
    assert bwc.call("-", "version")["bwc"] == "6.7.5"


def test_2of3_wallet_created_joined_and_complete_for_all(bwc):
    alice = bwc.new_copayer("alice")
    created = alice.createWallet(walletName="shared", copayerName="alice", m=2, n=3, network="testnet")
    secret = created["secret"]
    assert secret and secret.endswith("Tbtc")
    wallet_id = created["credentials"]["walletId"]

    # Pending until everyone joined; the client rebuilds the secret from a pending status.
    status = alice.getStatus(includeExtendedInfo=True)
    assert status["wallet"]["status"] == "pending"
    assert status["wallet"]["secret"] == secret

    bob = bwc.new_copayer("bob")
    carol = bwc.new_copayer("carol")
    # A dry run validates the secret without joining.
    bob.joinWallet(secret=secret, copayerName="bob", dryRun=True)
    assert alice.getStatus()["wallet"]["copayers"].__len__() == 1
    bob.joinWallet(secret=secret, copayerName="bob")
    joined = carol.joinWallet(secret=secret, copayerName="carol")
    assert joined["wallet"]["status"] == "complete"

    for c in (alice, bob, carol):
        opened = c.openWallet()  # verifies every copayer's signature against the wallet pubKey
        creds = opened["credentials"]
        assert creds["complete"] is True
        assert creds["walletId"] == wallet_id
        assert (creds["m"], creds["n"]) == (2, 3)
        assert creds["publicKeyRingSize"] == 3
        assert creds["derivationStrategy"] == "BIP44"
        assert creds["addressType"] == "P2SH"
        st = c.getStatus(includeExtendedInfo=True)
        w = st["wallet"]
        assert w["status"] == "complete"
        assert w["name"] == "shared"  # decrypted by the client with the shared key
        assert w["network"] == "testnet" and w["coin"] == "btc"
        assert sorted(cp["name"] for cp in w["copayers"]) == ["alice", "bob", "carol"]
        assert st["balance"]["totalAmount"] == 0
        assert st["pendingTxps"] == []

    # A fourth copayer cannot join a full wallet.
    dave = bwc.new_copayer("dave")
    with pytest.raises(BwcError) as e:
        dave.joinWallet(secret=secret, copayerName="dave")
    assert e.value.code == "WALLET_FULL"


def test_addresses_pass_the_client_check_and_funds_show_in_balance(bwc, litecoind):
    alice, bob, carol = make_wallet(bwc, ["alice", "bob", "carol"], m=2)

    # createAddress re-derives the address from the public key ring and the path
    # and fails with SERVER_COMPROMISED on any mismatch.
    a1 = alice.createAddress()
    a2 = bob.createAddress()
    for a in (a1, a2):
        assert a["address"].startswith("2")  # testnet P2SH
        assert a["type"] == "P2SH"
        assert a["isChange"] is False
        assert len(a["publicKeys"]) == 3
    assert (a1["path"], a2["path"]) == ("m/0/0", "m/0/1")

    # getMainAddresses checks every address the same way.
    for c in (alice, bob, carol):
        listed = c.getMainAddresses()
        assert sorted(x["address"] for x in listed) == sorted([a1["address"], a2["address"]])

    litecoind.fund(a1["address"], "1.5")
    litecoind.fund(a2["address"], "0.25")
    expected = 175_000_000

    # Unconfirmed (mempool) funds count in totalAmount.
    bal = wait_for(
        lambda: (b := carol.getBalance()) and b["totalAmount"] == expected and b,
        what="unconfirmed balance",
    )
    assert bal["availableAmount"] == expected
    assert bal["lockedAmount"] == 0

    litecoind.mine(1)
    bal = wait_for(
        lambda: (b := bob.getBalance()) and b["totalConfirmedAmount"] == expected and b,
        what="confirmed balance",
    )
    assert bal["availableConfirmedAmount"] == expected
    by_address = {x["address"]: x for x in bal["byAddress"]}
    assert by_address[a1["address"]]["amount"] == 150_000_000
    assert by_address[a1["address"]]["path"] == "m/0/0"
    assert by_address[a2["address"]]["amount"] == 25_000_000

    st = alice.getStatus()
    assert st["balance"]["totalAmount"] == expected

    utxos = alice.getUtxos()
    assert sorted(u["satoshis"] for u in utxos) == [25_000_000, 150_000_000]
    assert all(u["confirmations"] >= 1 for u in utxos)


def test_1of1_wallet_addresses_are_p2pkh(bwc):
    solo = bwc.new_copayer("solo")
    created = solo.createWallet(walletName="solo", copayerName="solo", m=1, n=1, network="testnet")
    assert created["secret"] is None
    opened = solo.openWallet()
    assert opened["credentials"]["complete"] is True
    a = solo.createAddress()
    assert a["type"] == "P2PKH"
    assert a["address"][0] in "mn"
    assert solo.getMainAddresses()[0]["address"] == a["address"]
