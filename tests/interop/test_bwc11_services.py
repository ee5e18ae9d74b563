"""bitcore-wallet-client 11.5.2 (unpatched) against ``python -m bws``: fiat rates, push
registration and tx-confirmation subscriptions (issue 17; docs/spec/protocol-bwc11.md §3.4, §4).

Grouped by feature, one class each; the fiat rates read what the test writes straight into the
bws process's own database, as fiatrateservice would.
"""

from __future__ import annotations

import time

import pytest

from tests.interop.harness import BwcError

pytestmark = pytest.mark.interop






class TestFiatRates:
    """``getFiatRate`` → ``GET /v1/fiatrates/:code/?ts=&coin=`` over rates stored by "fiatrateservice"."""

    def test_get_fiat_rate_reads_the_stored_rate(self, bwc11, bws_db):
        now = int(time.time() * 1000)
        code = "XT" + str(now % 100000)  # a code no other test stores (shared session database)
        bws_db.fiat_rates.insert_many([
            {"provider": "BitPay", "coin": "btc", "code": code, "ts": now - 30 * 60_000, "value": 41000.5},
            {"provider": "BitPay", "coin": "btc", "code": code, "ts": now - 60_000, "value": 42000.25},
            {"provider": "BitPay", "coin": "ltc", "code": code, "ts": now - 60_000, "value": 71.5},
        ])
        alice = bwc11.new_copayer("alice")

        rate = alice.getFiatRate(code=code)
        assert rate["rate"] == 42000.25 and rate["fetchedOn"] == now - 60_000
        assert now <= rate["ts"] <= int(time.time() * 1000)

        # the client sends ts and coin as query strings; both reach the look-up
        rate = alice.getFiatRate(code=code, ts=now - 10 * 60_000)
        assert rate == {"ts": now - 10 * 60_000, "rate": 41000.5, "fetchedOn": now - 30 * 60_000}
        rate = alice.getFiatRate(code=code, coin="ltc")
        assert rate["rate"] == 71.5

        # nothing stored for that coin: the answer carries no rate (not an error)
        rate = alice.getFiatRate(code=code, coin="doge")
        assert "rate" not in rate and "fetchedOn" not in rate

        # the client refuses a missing code before any request
        with pytest.raises(BwcError):
            alice.getFiatRate()


class TestPushAndConfirmations:
    """``pushNotificationsSubscribe`` / ``Unsubscribe`` (``POST /v2/…`` and ``DELETE
    /v3/pushnotifications/subscriptions/:externalUserId``) and ``txConfirmationSubscribe`` /
    ``Unsubscribe`` (``/v1/txconfirmations/``) as 11.5.2 sends them."""

    def test_push_subscription_with_a_device_token_and_its_removal(self, bwc11, bws_db):
        alice = bwc11.new_copayer("alice")
        alice.createWallet(walletName="push", copayerName="alice", m=1, n=1, network="testnet")
        cid = alice.credentials()["copayerId"]

        res = alice.pushNotificationsSubscribe(opts={"type": "android", "externalUserId": "braze-11",
                                                     "token": "fcm-device-11", "packageName": "com.example"})
        assert res["externalUserId"] == "braze-11" and res["delivered"] is True
        assert bws_db.push_subs_v2.count_documents({"copayerId": cid, "externalUserId": "braze-11"}) == 1
        # the device token is a delivery target of our push service, as a v1 subscription
        [device] = list(bws_db.push_notification_subs.find({"copayerId": cid}))
        assert device["token"] == "fcm-device-11"

        with pytest.raises(BwcError) as e:  # a platform we cannot deliver to is refused, not stored
            alice.pushNotificationsSubscribe(opts={"type": "windows", "externalUserId": "braze-11"})
        assert "type" in (e.value.message or "")

        assert alice.pushNotificationsUnsubscribe(externalUserId="braze-11") is None
        assert bws_db.push_subs_v2.count_documents({"copayerId": cid}) == 0
        assert bws_db.push_notification_subs.count_documents({"copayerId": cid}) == 0

    def test_the_bitpay_app_body_is_stored_and_not_delivered(self, bwc11, bws_db):
        """The body bitpay/bitpay-app sends (src/store/app/app.effects.ts
        subscribePushNotifications): a Braze id, no type, no device token."""
        alice = bwc11.new_copayer("alice")
        created = alice.createWallet(walletName="app", copayerName="alice", m=1, n=1, network="testnet")
        cid, wallet_id = alice.credentials()["copayerId"], created["credentials"]["walletId"]
        opts = {"externalUserId": "eid-app", "platform": "ios", "packageName": "BitPay", "walletId": wallet_id}

        res = alice.pushNotificationsSubscribe(opts=opts)
        assert res["delivered"] is False and "token" not in res and "type" not in res
        assert {k: res[k] for k in opts} == opts
        [stored] = list(bws_db.push_subs_v2.find({"copayerId": cid}))
        assert {k: stored[k] for k in opts} == opts
        assert bws_db.push_notification_subs.count_documents({"copayerId": cid}) == 0  # nothing to deliver to
        # the app renews on every start: the same body again is one subscription
        alice.pushNotificationsSubscribe(opts=opts)
        assert bws_db.push_subs_v2.count_documents({"copayerId": cid}) == 1
        assert alice.pushNotificationsUnsubscribe(externalUserId="eid-app") is None
        assert bws_db.push_subs_v2.count_documents({"copayerId": cid}) == 0

    def test_tx_confirmation_subscription_and_its_removal(self, bwc11, bws_db):
        alice = bwc11.new_copayer("alice")
        alice.createWallet(walletName="confirmations", copayerName="alice", m=1, n=1, network="testnet")
        cid = alice.credentials()["copayerId"]
        txid = "ab" * 32
        alice.txConfirmationSubscribe(txid=txid)
        assert bws_db.tx_confirmation_subs.count_documents({"copayerId": cid, "txid": txid, "isActive": True}) == 1
        assert alice.txConfirmationUnsubscribe(txid=txid) is None
        assert bws_db.tx_confirmation_subs.count_documents({"copayerId": cid, "txid": txid, "isActive": True}) == 0


class TestTxNotes:
    """``editTxNote`` / ``getTxNote`` / ``getTxNotes`` (``PUT``/``GET /v1/txnotes/…``): the client
    encrypts the body with the wallet's shared key and decrypts the body and ``editedByName``
    of what the server answers; the server only stores and scopes."""

    def test_notes_shared_by_the_copayers_of_a_2of2(self, bwc11, bws_db):
        alice = bwc11.new_copayer("alice", m=2, n=2)
        bob = bwc11.new_copayer("bob", m=2, n=2)
        created = alice.createWallet(walletName="notes", copayerName="alice", m=2, n=2, network="testnet")
        bob.joinWallet(secret=created["secret"], copayerName="bob")
        wallet_id = created["credentials"]["walletId"]
        txid, other = "cd" * 32, "ef" * 32

        # nothing stored: not an error; our "no result" is an empty body (upstream 11.10.5 sends
        # `null`), which 11.5.2 hands back as "" (falsy either way)
        assert alice.getTxNote(txid=txid) == ""

        note = alice.editTxNote(txid=txid, body="rent for march")
        assert (note["txid"], note["walletId"], note["body"]) == (txid, wallet_id, "rent for march")
        assert note["editedByName"] == "alice"  # the copayer name, encrypted, decrypted by the client
        assert note["editedBy"] == alice.credentials()["copayerId"]
        # the server never sees the text: what it stored is the client's ciphertext
        [stored] = list(bws_db.tx_notes.find({"walletId": wallet_id, "txid": txid}))
        assert "rent" not in str(stored["body"]) and stored["body"] == note["encryptedBody"]

        # the other copayer reads it with the same shared key, and edits it
        seen = bob.getTxNote(txid=txid)
        assert (seen["body"], seen["editedByName"]) == ("rent for march", "alice")
        first_edit = seen["editedOn"]
        edited = bob.editTxNote(txid=txid, body="rent for april")
        assert (edited["body"], edited["editedByName"], edited["createdOn"]) == (
            "rent for april", "bob", seen["createdOn"])
        assert edited["editedOn"] >= first_edit

        alice.editTxNote(txid=other, body="change")
        notes = {n["txid"]: n for n in alice.getTxNotes()}
        assert set(notes) == {txid, other}
        assert (notes[txid]["body"], notes[txid]["editedByName"]) == ("rent for april", "bob")
        # minTs (unix seconds) filters on editedOn; past every edit there are none
        assert alice.getTxNotes(opts={"minTs": edited["editedOn"] + 3600}) == []
        assert {n["txid"] for n in bob.getTxNotes(opts={"minTs": first_edit})} == {txid, other}

        # an empty body clears the text; the note stays
        cleared = alice.editTxNote(txid=other)
        assert cleared["txid"] == other and not cleared["body"]

        # a wallet's notes are its own
        carol = bwc11.new_copayer("carol")
        carol.createWallet(walletName="other", copayerName="carol", m=1, n=1, network="testnet")
        assert carol.getTxNote(txid=txid) == "" and carol.getTxNotes() == []

        with pytest.raises(BwcError):  # the client refuses a missing txid before any request
            alice.getTxNote()
