"""Unit tests of bws.model and bws.errors (no I/O)."""

from __future__ import annotations

import json
import random
import re

import pytest

from bws import errors
from bws.errors import ClientError, Errors, ServerError, bad_request, client_error
from bws.model import (
    UNDEFINED,
    Address,
    AddressManager,
    Copayer,
    Email,
    Notification,
    Preferences,
    PushNotificationSub,
    Session,
    TxConfirmationSub,
    TxNote,
    TxProposal,
    TxProposalAction,
    TxProposalLegacy,
    Wallet,
    constants as C,
    copayer_id,
    is_defined,
    NotificationIds,
)

XPUB0 = (
    "xpub6DVmxcjRgZdHNSEcXSiFtweVwMSTc3TMwRJ45nJYvyqvLbK1poPerupqh87rSoz27wvckb1CKnGZoLmLXSZyNGZtVd7neqSvdwJL6fceQpe"
)
XPUB1 = (
    "xpub6CAa5y1xxykKjpHH9coq1EqfKX8Si5wsdggS9UU535DQWcQ4jKtVcD7qi9TCvhV31N3QCLdEaftLjNdXv8R72XiorEnrTfn1ULjA35RgQVp"
)
XPUB2 = "xpub-third-copayer"
REQ0 = "026e3020913420a5b9425952627f0a074c9235e7a329869b322061f786e997ae0d"
T0 = 1_600_000_000


def roundtrip(model_cls, obj, for_storage=False):
    d1 = obj.to_dict(for_storage=for_storage)
    json.dumps(d1)  # must be JSON-ready
    d2 = model_cls.from_dict(d1).to_dict(for_storage=for_storage)
    assert d1 == d2
    return d1


def make_wallet(m=2, n=3, strategy=C.BIP44, coin="btc", addr_type=C.P2SH):
    w = Wallet.create("wallet name", m, n, "02" + "11" * 32, coin, "livenet", False, strategy, addr_type, now=T0)
    for i, xp in enumerate([XPUB0, XPUB1, XPUB2][:n]):
        c = Copayer.create(f"copayer {i}", xp, f"03req{i}", f"sig{i}", coin, i, strategy, now=T0)
        w.add_copayer(c)
    return w


# ----------------------------------------------------------------------------- undefined


def test_undefined_sentinel():
    assert not UNDEFINED
    assert repr(UNDEFINED) == "UNDEFINED"
    assert not is_defined(UNDEFINED)
    assert is_defined(None)
    import copy

    assert copy.deepcopy(UNDEFINED) is UNDEFINED


# ----------------------------------------------------------------------------- copayer id


@pytest.mark.parametrize(
    "coin,expected",
    [
        ("btc", "626452e5e0e35df4d9ae4d3e60653c9ae9a814f00c84dc40f5887069b18e2110"),
        ("bch", "671fee02a6c1c4de2e2609f9f9a6180dc03acfff6b759fe0b13a616ed4880065"),
        ("eth", "1e6f690ac07050b9c3badadbdc32e2a9aaf6936509889893eeca42dbec3a2d74"),
        ("try", "8baa971d536c2d5a1f36e1f070c40efb430cf6f66ca3f9c9afc208b30718e5a8"),
    ],
)
def test_copayer_id_vectors(coin, expected):
    assert copayer_id(coin, XPUB0) == expected
    c = Copayer.create("n", XPUB0, REQ0, "sig", coin, 0, C.BIP44)
    assert c.id == expected
    assert c.coin == coin


# ----------------------------------------------------------------------------- address manager


def test_address_manager_bip44_paths():
    am = AddressManager.create(C.BIP44)
    assert am.to_dict() == {
        "version": 2,
        "derivationStrategy": "BIP44",
        "receiveAddressIndex": 0,
        "changeAddressIndex": 0,
        "copayerIndex": C.BIP45_SHARED_INDEX,
    }
    assert am.get_base_address_path(False) == "m/0/0"
    assert am.get_base_address_path(True) == "m/1/0"
    assert [am.get_new_address_path(False) for _ in range(3)] == ["m/0/0", "m/0/1", "m/0/2"]
    assert am.get_new_address_path(True) == "m/1/0"
    assert am.get_current_address_path(False) == "m/0/3"
    assert am.get_current_address_path(True) == "m/1/1"
    assert am.get_base_address_path(False) == "m/0/0"
    am.rewind_index(False, 2)
    assert am.get_current_address_path(False) == "m/0/1"
    am.rewind_index(False, 5)
    assert am.receive_address_index == 0
    am.rewind_index(True)
    assert am.change_address_index == 0
    am.rewind_index(True)
    assert am.change_address_index == 0
    am.get_new_address_path(True)
    am.rewind_index(True, n=1)
    assert am.change_address_index == 0
    assert not AddressManager.supports_copayer_branches(C.BIP44)
    roundtrip(AddressManager, am)


def test_address_manager_bip45_paths():
    shared = AddressManager.create(C.BIP45)
    assert shared.copayer_index == 2147483647
    assert shared.get_new_address_path(False) == "m/2147483647/0/0"
    assert shared.get_new_address_path(False) == "m/2147483647/0/1"
    assert shared.get_new_address_path(True) == "m/2147483647/1/0"
    assert shared.get_base_address_path(True) == "m/2147483647/1/0"
    own = AddressManager.create(C.BIP45, copayer_index=3)
    assert own.get_new_address_path(True) == "m/3/1/0"
    assert own.get_current_address_path(True) == "m/3/1/1"
    zero = AddressManager.create(C.BIP45, copayer_index=0)
    assert zero.get_new_address_path(False) == "m/0/0/0"
    assert AddressManager.supports_copayer_branches(C.BIP45)
    with pytest.raises(ValueError):
        AddressManager.create("BIP99")


def test_address_manager_legacy_default_strategy():
    am = AddressManager.from_dict({"version": 2, "receiveAddressIndex": 4, "changeAddressIndex": 1, "copayerIndex": 0})
    assert am.derivation_strategy == C.BIP45
    assert am.get_current_address_path(False) == "m/0/0/4"


# ----------------------------------------------------------------------------- wallet / copayer


def test_wallet_create_and_join():
    w = Wallet.create("w", 2, 3, "02ab", "bch", "testnet", True, C.BIP44, C.P2SH, id="my-id", now=T0 + 0.9)
    d = w.to_dict()
    assert d["id"] == "my-id"
    assert d["createdOn"] == T0
    assert d["status"] == "pending" and not w.is_complete()
    assert d["publicKeyRing"] == [] and d["copayers"] == []
    assert d["addressIndex"] == 0
    assert d["scanStatus"] is None
    assert d["singleAddress"] is True
    assert d["coin"] == "bch" and d["network"] == "testnet"
    assert d["addressManager"]["derivationStrategy"] == "BIP44"
    assert "isShared" not in d
    assert w.to_dict(for_storage=True)["isShared"] is True

    w2 = Wallet.create("w", 1, 1, "02ab")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", w2.id)
    assert w2.to_dict(for_storage=True)["isShared"] is False

    for i, xp in enumerate([XPUB0, XPUB1]):
        w.add_copayer(Copayer.create(f"c{i}", xp, f"req{i}", f"s{i}", "bch", i, C.BIP44))
        assert not w.is_complete()
    w.add_copayer(Copayer.create("c2", XPUB2, "req2", "s2", "bch", 2, C.BIP44))
    assert w.is_complete()
    assert w.public_key_ring == [
        {"xPubKey": XPUB0, "requestPubKey": "req0"},
        {"xPubKey": XPUB1, "requestPubKey": "req1"},
        {"xPubKey": XPUB2, "requestPubKey": "req2"},
    ]
    assert w.get_copayer(copayer_id("bch", XPUB1)).name == "c1"
    assert w.get_copayer("nope") is None
    assert w.get_copayer_by_xpub(XPUB2).name == "c2"
    with pytest.raises(ValueError):
        w.add_copayer(Copayer.create("x", "xpubX", "r", "s", "btc", 3, C.BIP44))
    roundtrip(Wallet, w)
    roundtrip(Wallet, w, for_storage=True)


def test_wallet_create_validation():
    with pytest.raises(ValueError):
        Wallet.create("w", "2", 3, "02")
    with pytest.raises(ValueError):
        Wallet.create("w", 1, 1, "02", coin="ltc")
    with pytest.raises(ValueError):
        Wallet.create("w", 1, 1, "02", network="regtest")
    assert Wallet.verify_copayer_limits(1, 1)
    assert Wallet.verify_copayer_limits(2, 3)
    assert Wallet.verify_copayer_limits(15, 15)
    assert Wallet.verify_copayer_limits(1, 15)
    for m, n in [(0, 0), (0, 2), (2, 1), (0, 10), (1, 20), (16, 16), (-2, -2), (1.5, 2), ("1", 2), (True, 1)]:
        assert not Wallet.verify_copayer_limits(m, n)


def test_copayer_shape_and_address_manager():
    c = Copayer.create("name", XPUB0, REQ0, "sig", "btc", 2, C.BIP45, customData="opaque", now=T0)
    d = c.to_dict()
    assert d == {
        "version": 2,
        "createdOn": T0,
        "coin": "btc",
        "xPubKey": XPUB0,
        "id": "626452e5e0e35df4d9ae4d3e60653c9ae9a814f00c84dc40f5887069b18e2110",
        "name": "name",
        "requestPubKey": REQ0,
        "signature": "sig",
        "requestPubKeys": [{"key": REQ0, "signature": "sig"}],
        "addressManager": {
            "version": 2,
            "derivationStrategy": "BIP45",
            "receiveAddressIndex": 0,
            "changeAddressIndex": 0,
            "copayerIndex": 2,
        },
        "customData": "opaque",
    }
    roundtrip(Copayer, c)
    c44 = Copayer.create("name", XPUB0, REQ0, "sig", "btc", 2, C.BIP44)
    assert "addressManager" not in c44.to_dict()
    assert "customData" not in c44.to_dict()
    roundtrip(Copayer, c44)
    # stored with addressManager null (mongo turns undefined into null): dropped
    stored = dict(c44.to_dict(), addressManager=None, _id="abc")
    assert "addressManager" not in Copayer.from_dict(stored).to_dict()
    for bad in [("", REQ0, "s"), (XPUB0, "", "s"), (XPUB0, REQ0, "")]:
        with pytest.raises(ValueError):
            Copayer.create("n", *bad, "btc")


def test_copayer_add_request_key_prepends():
    w = make_wallet(2, 2)
    cid = w.copayers[0].id
    w.add_copayer_request_key(cid, "03new", "newsig", None, "phone")
    w.copayers[0].add_request_key("03newer", "s2", {"x": 1})
    keys = w.copayers[0].request_pub_keys
    assert keys[0] == {"key": "03newer", "signature": "s2", "selfSigned": True, "restrictions": {"x": 1}, "name": None}
    assert keys[1] == {"key": "03new", "signature": "newsig", "selfSigned": True, "restrictions": {}, "name": "phone"}
    assert keys[2] == {"key": "03req0", "signature": "sig0"}
    roundtrip(Wallet, w)
    incomplete = Wallet.create("w", 2, 2, "02")
    with pytest.raises(ValueError):
        incomplete.add_copayer_request_key("x", "k", "s")


def test_copayer_v1_upgrade():
    doc = {
        "_id": "5e0000000000000000000000",
        "version": "1",
        "createdOn": T0,
        "id": "abc",
        "name": "old",
        "xPubKey": XPUB0,
        "requestPubKey": "02req",
        "signature": "oldsig",
        "addressManager": {"version": 2, "receiveAddressIndex": 1, "changeAddressIndex": 0, "copayerIndex": 0},
    }
    c = Copayer.from_dict(doc)
    d = c.to_dict()
    assert d["version"] == 2
    assert d["coin"] == "btc"
    assert d["requestPubKeys"] == [{"key": "02req", "signature": "oldsig"}]
    assert d["addressManager"]["derivationStrategy"] == "BIP45"
    assert "_id" not in d
    roundtrip(Copayer, c)
    assert Copayer.from_dict(dict(doc, version=1)).request_pub_keys == [{"key": "02req", "signature": "oldsig"}]


def test_wallet_legacy_defaults_and_storage_fields():
    doc = {
        "_id": "x",
        "version": "1.0.0",
        "createdOn": T0,
        "id": "wid",
        "name": "legacy",
        "m": 1,
        "n": 2,
        "status": "pending",
        "publicKeyRing": [],
        "copayers": [],
        "pubKey": "02aa",
        "network": "livenet",
        "addressManager": {"version": 2, "receiveAddressIndex": 0, "changeAddressIndex": 0, "copayerIndex": 2147483647},
        "isShared": True,
    }
    w = Wallet.from_dict(doc)
    d = w.to_dict()
    assert d["coin"] == "btc"
    assert d["derivationStrategy"] == "BIP45"
    assert d["addressType"] == "P2SH"
    assert d["singleAddress"] is False
    assert "isShared" not in d and "_id" not in d
    assert "scanStatus" not in d  # undefined in the document stays undefined
    assert w.to_dict(for_storage=True)["isShared"] is True
    roundtrip(Wallet, w)


def test_unknown_fields_survive_roundtrip():
    d = make_wallet(1, 1).to_dict()
    d["futureField"] = {"a": [1, 2]}
    d["copayers"][0]["futureCopayerField"] = 7
    w = Wallet.from_dict(d)
    assert w.extra == {"futureField": {"a": [1, 2]}}
    out = w.to_dict()
    assert out["futureField"] == {"a": [1, 2]}
    assert out["copayers"][0]["futureCopayerField"] == 7


def test_to_dict_is_a_deep_copy():
    w = make_wallet(2, 2)
    d = w.to_dict()
    d["publicKeyRing"][0]["xPubKey"] = "changed"
    d["copayers"][0]["requestPubKeys"].append({"key": "x"})
    assert w.public_key_ring[0]["xPubKey"] == XPUB0
    assert len(w.copayers[0].request_pub_keys) == 1


# ----------------------------------------------------------------------------- address


def test_address_roundtrip_and_defaults():
    a = Address.create("1L3z9LPd861FWQhf3vDn89Fnc9dkdBo2CG", "wid", "btc", "livenet", "m/0/0", ["03e0"], False, C.P2PKH, now=T0)
    d = a.to_dict()
    assert d == {
        "version": "1.0.0",
        "createdOn": T0,
        "address": "1L3z9LPd861FWQhf3vDn89Fnc9dkdBo2CG",
        "walletId": "wid",
        "isChange": False,
        "path": "m/0/0",
        "publicKeys": ["03e0"],
        "coin": "btc",
        "network": "livenet",
        "type": "P2PKH",
    }
    assert "hasActivity" not in d
    roundtrip(Address, a)
    a.has_activity = True
    assert roundtrip(Address, a)["hasActivity"] is True
    old = Address.from_dict({"address": "3x", "walletId": "w", "path": "m/0/0", "_id": 1})
    assert old.coin == "btc" and old.type == "P2SH"
    assert "_id" not in old.to_dict()


# ----------------------------------------------------------------------------- tx proposal


def make_txp(m=2, n=3, **kw):
    opts = dict(
        walletId="wid",
        coin="btc",
        network="livenet",
        walletM=m,
        walletN=n,
        outputs=[{"amount": 10_000_000, "toAddress": "18PzpUFkFZE8zKWUPvfykkTxmB9oMR8qP7", "message": "o1"}],
        creatorId="c0",
        now=T0,
    )
    opts.update(kw)
    return TxProposal.create(**opts)


def test_txp_create_shape():
    change = Address.create("3Cau", "wid", "btc", "livenet", "m/1/0", ["02a", "02b"], True, C.P2SH, now=T0)
    txp = TxProposal.create(
        walletId="wid",
        coin="btc",
        network="livenet",
        walletM=2,
        walletN=3,
        outputs=[
            {"amount": 1000, "toAddress": "addr1", "message": None, "extra": "dropped"},
            {"amount": 2500, "script": "76a9"},
        ],
        creatorId="c0",
        id="txp-id",
        message="opaque",
        changeAddress=change,
        feePerKb=10_000,
        excludeUnconfirmedUtxos=False,
        inputs=[{"txid": "aa", "vout": 0, "satoshis": 5000, "path": "m/0/1"}, {"txid": "bb", "vout": 1, "satoshis": 1}],
        fee=2430,
        noShuffleOutputs=True,
        now=T0 + 0.5,
    )
    d = txp.to_dict()
    assert d["version"] == 3
    assert d["id"] == "txp-id"
    assert d["createdOn"] == T0
    assert d["status"] == "temporary"
    assert d["outputs"] == [{"amount": 1000, "toAddress": "addr1", "message": None}, {"amount": 2500, "script": "76a9"}]
    assert d["outputOrder"] == [0, 1, 2]
    assert d["amount"] == 3500 and isinstance(d["amount"], int)
    assert d["requiredSignatures"] == 2 and d["requiredRejections"] == 2
    assert d["walletM"] == 2 and d["walletN"] == 3
    assert d["addressType"] == "P2SH"
    assert d["feePerKb"] == 10_000 and d["fee"] == 2430
    assert "feeLevel" not in d  # undefined when feePerKb is given
    assert "payProUrl" not in d and "customData" not in d and "txid" not in d
    assert d["excludeUnconfirmedUtxos"] is False
    assert d["inputPaths"] == ["m/0/1", None]
    assert d["changeAddress"]["address"] == "3Cau"
    assert "isPending" not in d
    assert txp.to_dict(for_storage=True)["isPending"] is False
    assert d["actions"] == []
    roundtrip(TxProposal, txp)
    roundtrip(TxProposal, txp, for_storage=True)
    # changeAddress given as a dict is accepted too
    t2 = make_txp(changeAddress=change.to_dict())
    assert isinstance(t2.change_address, Address)


def test_txp_defaults_and_shuffle():
    t11 = make_txp(1, 1, outputs=[])
    assert t11.address_type == "P2PKH"
    assert t11.amount == 0 and t11.inputs == [] and t11.input_paths == []
    assert t11.output_order == [0]
    assert re.fullmatch(r"[0-9a-f-]{36}", t11.id)
    assert make_txp(1, 2).address_type == "P2SH"
    assert make_txp(1, 1, addressType="P2SH").address_type == "P2SH"
    with pytest.raises(ValueError):
        make_txp(addressType="P2WPKH")
    with pytest.raises(ValueError):
        make_txp(coin="doge")
    outs = [{"amount": i + 1, "toAddress": f"a{i}"} for i in range(6)]
    orders = {tuple(make_txp(outputs=outs, rng=random.Random(seed)).output_order) for seed in range(20)}
    assert all(sorted(o) == list(range(7)) for o in orders)
    assert len(orders) > 1


@pytest.mark.parametrize("m,n,rej", [(1, 1, 1), (1, 2, 1), (2, 2, 1), (2, 3, 2), (3, 5, 3), (1, 3, 1), (5, 5, 1), (2, 10, 2)])
def test_txp_required_rejections(m, n, rej):
    t = make_txp(m, n)
    assert t.required_rejections == rej == min(m, n - m + 1)
    assert t.required_signatures == m


def test_txp_status_2_of_3_accept():
    t = make_txp(2, 3)
    assert t.is_temporary() and not t.is_pending()
    # actions on a temporary proposal do not change the status
    t.status = "pending"
    assert t.is_pending() and not t.is_temporary()
    t.accept("c0", ["sig"], "xpub0", now=T0 + 1)
    assert t.status == "pending"
    t.reject("c1", "no way")
    assert t.status == "pending"
    t.accept("c2", ["sig"], "xpub2")
    assert t.status == "accepted"
    assert t.is_accepted() and t.is_pending() and not t.is_rejected()
    assert t.get_approvers() == ["c0", "c2"]
    assert t.get_rejecters() == ["c1"]
    assert t.get_actors() == ["c0", "c1", "c2"]
    assert t.get_action_by("c1").comment == "no way"
    assert t.get_action_by("c9") is None
    acts = t.to_dict()["actions"]
    assert acts[0] == {
        "version": "1.0.0",
        "createdOn": T0 + 1,
        "copayerId": "c0",
        "type": "accept",
        "signatures": ["sig"],
        "xpub": "xpub0",
        "comment": None,
    }
    assert set(acts[1]) == {"version", "createdOn", "copayerId", "type", "comment"}
    # once accepted, further actions do not change the status
    t.reject("c1", "again")
    assert t.status == "accepted"
    roundtrip(TxProposal, t, for_storage=True)
    assert t.to_dict(for_storage=True)["isPending"] is True
    # broadcast
    with pytest.raises(ValueError):
        t.set_broadcasted(now=T0 + 50)
    t.txid = "ab" * 32
    t.set_broadcasted(now=T0 + 50.7)
    assert t.status == "broadcasted" and t.broadcasted_on == T0 + 50
    assert t.is_broadcasted() and not t.is_pending()
    d = roundtrip(TxProposal, t, for_storage=True)
    assert d["isPending"] is False and d["broadcastedOn"] == T0 + 50


def test_txp_status_2_of_3_reject():
    t = make_txp(2, 3)
    t.status = "pending"
    t.reject("c1", "r1")
    assert t.status == "pending"
    t.reject("c2")
    assert t.status == "rejected" and t.is_rejected() and not t.is_pending()
    assert "comment" not in t.to_dict()["actions"][1]  # reason undefined
    t.accept("c0", ["s"], "x")
    assert t.status == "rejected"


def test_txp_rejected_wins_over_accepted():
    # 1-of-2 has requiredSignatures 1, requiredRejections 1: craft a case where both hold
    t = make_txp(1, 2)
    t.status = "pending"
    t.actions.append(TxProposalAction.create("c0", "accept", ["s"], "x", None))
    t.add_action("c1", "reject", comment="no")
    assert t.is_accepted() and t.is_rejected()
    assert t.status == "rejected"


def test_txp_1_of_1_accept():
    t = make_txp(1, 1)
    t.status = "pending"
    t.accept("c0", ["s"], "x")
    assert t.status == "accepted"


def test_delete_lock_time():
    # §6.12 / test case 56
    t = make_txp(2, 3, creatorId="creator")
    t.status = "pending"
    # creator, nobody signed: may delete immediately
    assert t.remaining_delete_lock_time("creator", now=T0) == 0
    # non-creator must wait DELETE_LOCKTIME
    assert t.remaining_delete_lock_time("other", now=T0) == 600
    assert t.remaining_delete_lock_time("other", now=T0 + 100) == 500
    # creator signed herself: still free
    t.accept("creator", ["s"], "x")
    assert t.remaining_delete_lock_time("creator", now=T0 + 10) == 0
    # rejection by another copayer does not block the creator
    t.reject("rejecter", "no")
    assert t.remaining_delete_lock_time("creator", now=T0 + 10) == 0
    # another signer blocks the creator
    t.accept("signer", ["s"], "x")
    assert t.remaining_delete_lock_time("creator", now=T0 + 10) == 590
    # after the lock time anyone may delete
    assert t.remaining_delete_lock_time("creator", now=T0 + 600) == 0
    assert t.remaining_delete_lock_time("other", now=T0 + 600) == 0
    assert t.remaining_delete_lock_time("other", now=T0 + 601) == 0
    assert t.remaining_delete_lock_time("other", now=T0 + 599) == 1
    # only someone else signed
    t2 = make_txp(2, 3, creatorId="creator")
    t2.status = "pending"
    t2.accept("signer", ["s"], "x")
    assert t2.remaining_delete_lock_time("creator", now=T0 + 1) == 599


def test_txp_notification_data():
    t = make_txp()
    assert t.notification_data() == {"txProposalId": t.id, "creatorId": "c0", "amount": 10_000_000, "message": UNDEFINED}
    n = Notification.create("TxProposalAcceptedBy", t.notification_data(copayerId="c1"), "wid", "c1")
    assert "message" not in n.to_dict()["data"]
    assert n.to_dict()["data"]["copayerId"] == "c1"


def test_txp_legacy_readable():
    doc = {
        "_id": "x",
        "version": "1.0.0",
        "createdOn": T0,
        "id": "0145" + "0" * 10 + "uuid",
        "walletId": "wid",
        "creatorId": "c0",
        "toAddress": "1abc",
        "amount": 12345,
        "message": None,
        "changeAddress": {"address": "3x", "path": "m/2147483647/1/0", "walletId": "wid"},
        "inputs": [{"txid": "t", "vout": 0, "satoshis": 20000, "path": "m/2147483647/0/0"}],
        "inputPaths": ["m/2147483647/0/0"],
        "requiredSignatures": 1,
        "requiredRejections": 1,
        "walletN": 1,
        "status": "pending",
        "actions": [],
        "fee": 1000,
        "isPending": True,
    }
    t = TxProposal.from_dict(doc)
    assert isinstance(t, TxProposalLegacy) and t.is_legacy()
    assert t.type == "simple"
    assert t.coin == "btc" and t.address_type == "P2SH" and t.derivation_strategy == "BIP45"
    assert t.get_total_amount() == 12345
    d = t.to_dict()
    assert "isPending" not in d and "_id" not in d
    assert d["toAddress"] == "1abc"
    assert TxProposal.from_dict(d).to_dict() == d
    assert t.to_dict(for_storage=True)["isPending"] is True
    t.reject("c0", "bye")
    assert t.status == "rejected"

    v2 = TxProposal.from_dict(
        {
            "version": "2.0.0",
            "type": "multiple_outputs",
            "outputs": [{"amount": 1, "toAddress": "a"}, {"amount": 2, "toAddress": "b"}],
            "status": "broadcasted",
            "actions": [{"version": "1.0.0", "copayerId": "c", "type": "accept", "signatures": ["s"], "xpub": "x"}],
            "requiredSignatures": 1,
        }
    )
    assert isinstance(v2, TxProposalLegacy)
    assert v2.get_total_amount() == 3
    assert v2.get_approvers() == ["c"]
    assert not v2.is_pending()
    # numeric versions
    assert isinstance(TxProposal.from_dict({"version": 2, "status": "pending"}), TxProposalLegacy)
    assert not TxProposal.from_dict({"version": 3, "status": "pending"}).is_legacy()
    assert not TxProposal.from_dict({"version": "3", "status": "pending"}).is_legacy()
    assert isinstance(TxProposal.from_dict({"status": "pending"}), TxProposalLegacy)


def test_txp_eth_fields_roundtrip():
    t = make_txp(1, 1, coin="eth", outputs=[{"amount": 10**20 + 1, "toAddress": "0xE299d49C2cf9BfaFb7C6E861E80bb8c83f961622"}])
    assert t.amount == 10**20 + 1
    t.fee = 21000 * 5 * 10**9
    t.status = "pending"
    t.accept("c0", [[{"signature": "0xf86b"}]], "xpub")
    t.raw = "0xf86b"
    d = roundtrip(TxProposal, t, for_storage=True)
    assert json.dumps(d["amount"]) == "100000000000000000001"
    assert d["raw"] == "0xf86b"


# ----------------------------------------------------------------------------- notification


def test_notification_id_format_and_shape():
    ms = 1588226000123
    n = Notification.create("NewCopayer", {"walletId": "w", "copayerId": "c", "copayerName": "x"}, "w", "c", now_ms=ms,
                            id=NotificationIds().next(ms))
    assert n.id == "015882260001230000"
    assert len(n.id) == 18
    assert n.created_on == 1588226000
    d = roundtrip(Notification, n)
    assert d == {
        "version": "1.0.0",
        "createdOn": 1588226000,
        "id": "015882260001230000",
        "type": "NewCopayer",
        "data": {"walletId": "w", "copayerId": "c", "copayerName": "x"},
        "walletId": "w",
        "creatorId": "c",
    }
    # global: creatorId null
    g = Notification.create("WalletComplete", {"walletId": "w"}, "w")
    assert g.to_dict()["creatorId"] is None
    roundtrip(Notification, g)
    # monitor: creatorId absent
    mon = Notification.create("NewBlock", {"hash": "h", "coin": "btc", "network": "livenet"}, "livenet", creatorId=UNDEFINED)
    assert "creatorId" not in mon.to_dict()
    assert "creatorId" not in roundtrip(Notification, mon)
    assert Notification.create(None, {}, "w").type == "general"
    stored = dict(mon.to_dict(), _id="5eaa")
    assert Notification.from_dict(stored).to_dict() == mon.to_dict()


def test_notification_ids_strictly_increasing_frozen_clock():
    frozen = 1_700_000_000_000
    gen = NotificationIds()
    ids = [gen.next(frozen) for _ in range(20_000)]
    assert all(len(i) == 18 and i.isdigit() for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert ids[0] == "017000000000000000"
    assert ids[9999] == "017000000000009999"
    assert ids[10_000] == "017000000000010000"  # ms bumped, ticker reset
    # clock going backwards still increases
    back = gen.next(frozen - 5000)
    assert back > ids[-1]
    # clock moving forward resets the ticker
    fwd = gen.next(frozen + 10)
    assert fwd == "017000000000100000"
    assert fwd > back


def test_notification_ids_clock_injected_and_generators_independent():
    now = [1_600_000_000_000]
    gen = NotificationIds(clock=lambda: now[0])
    assert gen.next() == "016000000000000000"
    assert gen.next() == "016000000000000001"
    now[0] += 7
    assert gen.next() == "016000000000070000"
    # a second generator (another process) has its own sequence: the storage's
    # unique index and the Notifier's renewal settle a clash between them
    other = NotificationIds(clock=lambda: now[0])
    assert other.next() == "016000000000070000"
    # a notification created without an id gets one from the Notifier when stored
    assert Notification.create("NewAddress", {"address": "a"}, "w", "c").id is None


def test_notification_ids_real_clock():
    gen = NotificationIds()
    ids = [gen.next() for _ in range(2000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


# ----------------------------------------------------------------------------- email


def test_email_create_id_and_attempts():
    e = Email.create(
        walletId="w",
        copayerId="c",
        from_="bws@example.com",
        to="user@example.com",
        subject="New payment",
        bodyPlain="plain",
        bodyHtml=None,
        notificationId="015882260001230000",
        now_ms=1588226000123,
    )
    assert re.fullmatch(
        r"01588226000123[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", e.id
    )
    assert len(e.id) == 50
    d = e.to_dict()
    assert d["from"] == "bws@example.com"
    assert d["status"] == "pending" and d["attempts"] == 0 and d["lastAttemptOn"] is None
    assert d["language"] == "en" and d["version"] == 2 and d["createdOn"] == 1588226000
    assert d["bodyHtml"] is None
    roundtrip(Email, e)
    e.set_fail(now=T0)
    assert (e.status, e.attempts, e.last_attempt_on) == ("fail", 1, T0)
    e.set_sent(now=T0 + 5)
    assert (e.status, e.attempts, e.last_attempt_on) == ("sent", 2, T0 + 5)
    roundtrip(Email, e)


def test_email_v1_upgrade():
    doc = {"_id": "x", "version": 1, "id": "0158" + "0" * 10 + "u", "body": "old body", "status": "sent", "attempts": 1}
    e = Email.from_dict(doc)
    d = e.to_dict()
    assert d["bodyPlain"] == "old body" and "body" not in d and d["version"] == 2
    roundtrip(Email, e)
    assert Email.from_dict(dict(doc, version="1.0.0")).body_plain == "old body"


# ----------------------------------------------------------------------------- session


def test_session_validity_boundary():
    s = Session.create("cid", "wid", now=T0)
    d = s.to_dict()
    assert d["version"] == 1 and d["createdOn"] == d["updatedOn"] == T0
    assert re.fullmatch(r"[0-9a-f-]{36}", d["id"])
    assert s.is_valid(now=T0)
    assert s.is_valid(now=T0 + 3600)
    assert not s.is_valid(now=T0 + 3601)
    s.touch(now=T0 + 3000)
    assert s.is_valid(now=T0 + 6600) and not s.is_valid(now=T0 + 6601)
    assert s.created_on == T0
    roundtrip(Session, s)
    assert Session.create("c", "w").is_valid()


# ----------------------------------------------------------------------------- small models


def test_txnote():
    n = TxNote.create("wid", "ab" * 32, "note", "c0", now=T0)
    assert n.to_dict() == {
        "version": 1,
        "createdOn": T0,
        "walletId": "wid",
        "txid": "ab" * 32,
        "body": "note",
        "editedOn": T0,
        "editedBy": "c0",
    }
    n.edit(None, "c1", now=T0 + 9)
    d = roundtrip(TxNote, n)
    assert d["body"] is None and d["editedBy"] == "c1" and d["editedOn"] == T0 + 9 and d["createdOn"] == T0


def test_preferences():
    p = Preferences.create("wid", "cid", email="a@b.c", now=T0)
    d = roundtrip(Preferences, p)
    assert d == {"version": "1.0.0", "createdOn": T0, "walletId": "wid", "copayerId": "cid", "email": "a@b.c"}
    p.language = None
    assert roundtrip(Preferences, p)["language"] is None


def test_push_and_confirmation_subs():
    p = PushNotificationSub.create("cid", "tok", "com.app", "ios", now=T0)
    assert roundtrip(PushNotificationSub, p) == {
        "version": "1.0.0",
        "createdOn": T0,
        "copayerId": "cid",
        "token": "tok",
        "packageName": "com.app",
        "platform": "ios",
    }
    s = TxConfirmationSub.create("wid", "cid", "ab" * 32, now=T0)
    assert roundtrip(TxConfirmationSub, s)["isActive"] is True
    s.deactivate()
    assert roundtrip(TxConfirmationSub, s)["isActive"] is False


def test_model_equality_and_copy():
    w = make_wallet(2, 3)
    w2 = w.copy()
    assert w2 == w and w2 is not w
    w2.copayers[0].name = "x"
    assert w.copayers[0].name == "copayer 0"
    assert w2 != w
    with pytest.raises(TypeError):
        Wallet(bogus=1)


# ----------------------------------------------------------------------------- constants


def test_constants():
    assert C.COINS == ("btc", "bch", "eth", "try", "tri")
    assert C.NETWORKS == ("livenet", "testnet")
    assert C.BIP45_SHARED_INDEX == 2147483647
    assert C.DELETE_LOCKTIME == 600 and C.SESSION_EXPIRATION == 3600
    assert C.MAX_TX_FEE == 10_000_000 and isinstance(C.MAX_TX_FEE, int)
    assert C.MIN_OUTPUT_AMOUNT == 5000 and C.DUST_AMOUNT == 546
    assert C.SCAN_ADDRESS_GAP == 40 and C.MAX_NOTIFICATIONS_TIMESPAN == 1_209_600
    assert [lv["name"] for lv in C.FEE_LEVELS["btc"]] == ["urgent", "priority", "normal", "economy", "superEconomy"]
    assert C.FEE_LEVELS["btc"][0]["multiplier"] == 1.5
    assert C.FEE_LEVELS["bch"] == ({"name": "normal", "nbBlocks": 2, "defaultValue": 2000},)
    assert C.FEE_LEVELS["eth"][0]["defaultValue"] == 40 * 10**9
    assert all(isinstance(lv["defaultValue"], int) for c in C.COINS for lv in C.FEE_LEVELS[c])
    assert C.FEE_LEVELS["try"] == C.FEE_LEVELS["eth"]


# ----------------------------------------------------------------------------- errors


def test_client_error_forms():
    e = ClientError()
    assert (e.code, e.message, e.http_status()) == ("BADREQUEST", "Bad request", 400)
    e = ClientError("Invalid wallet name")
    assert (e.code, e.message) == ("BADREQUEST", "Invalid wallet name")
    assert e.to_body() == {"code": "BADREQUEST", "message": "Invalid wallet name"}
    e = ClientError("NOT_AUTHORIZED", "Copayer not found")
    assert e.http_status() == 401
    assert e.to_body() == {"code": "NOT_AUTHORIZED", "message": "Copayer not found"}
    assert isinstance(e, Exception)
    assert bad_request("x") == ClientError("BADREQUEST", "x")


def test_named_errors():
    assert len(errors.ERROR_MESSAGES) == 35  # 2.5.1's 33 + 11.x's INVALID_NUMBER_FORMAT, WRONG_SIGNING_METHOD (issue 17)
    assert client_error("INVALID_NUMBER_FORMAT").message == "Invalid number format"
    e = Errors.WALLET_NOT_FOUND
    assert (e.code, e.message, e.http_status()) == ("WALLET_NOT_FOUND", "Wallet not found", 400)
    assert Errors.WALLET_NOT_FOUND is not Errors.WALLET_NOT_FOUND  # fresh instance each time
    assert Errors.NOT_AUTHORIZED.http_status() == 401
    assert client_error("TX_NOT_FOUND") == ClientError("TX_NOT_FOUND", "Transaction proposal not found")
    assert client_error("UPGRADE_NEEDED", "BWC clients < 1.2 are no longer supported.").message.startswith("BWC")
    assert client_error("MAIN_ADDRESS_GAP_REACHED").message == (
        "Maximum number of consecutive addresses without activity reached"
    )
    with pytest.raises(KeyError):
        client_error("NO_SUCH_CODE")
    with pytest.raises(AttributeError):
        Errors.NO_SUCH_CODE  # noqa: B018
    with pytest.raises(ClientError) as info:
        raise Errors.TX_NOT_PENDING
    assert info.value.code == "TX_NOT_PENDING"


def test_server_error():
    e = ServerError("INSUFFICIENT_ETH_FOR_FEE")
    assert e.http_status() == 500
    assert e.to_body() == {"error": "INSUFFICIENT_ETH_FOR_FEE"}
    assert not isinstance(e, ClientError)
    assert ServerError("not found", 404).http_status() == 404
