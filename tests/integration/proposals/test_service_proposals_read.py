"""Reading proposals: pending list decorations, getTx (+ note), locked UTXOs,
recently broadcast inputs, staff lookup by txid (spec §4.8, §4.14, §6.3,
§6.16; §12 cases 18 (balance lock), 24, 53)."""

from __future__ import annotations

import pytest
import pytest_twisted

from bws.errors import ClientError
from bws.model import TxProposal
from tests.helpers.fixtures import clock, explorer, service  # noqa: F401
from tests.helpers.wallets import create_and_join


async def store_txp(service, w, creator: int, *, inputs, status="pending", txid=None, created_on=None,
                    accept_by=()):
    t = TxProposal.create(w.id, "btc", "livenet", 2, 3, outputs=[{"toAddress": "1L3z9LPd861FWQhf3vDn89Fnc9dkdBo2CG",
                          "amount": 1000}], creatorId=w.copayer_ids[creator], inputs=inputs, fee=100,
                          now=created_on or service.now_s())
    t.status = status
    for i in accept_by:
        t.accept(w.copayer_ids[i], ["00"], w.copayers[i].xpub, now=service.now_s())
    if txid:
        t.txid = txid
    if status == "broadcasted":
        t.broadcasted_on = service.now_s()
    await service.storage.proposals.store(t.to_dict(for_storage=True))
    return t


@pytest_twisted.ensureDeferred
async def test_pending_list_and_get_tx(service, clock):
    w = await create_and_join(service, 2, 3)
    a, b = w.as_copayer(service, 0), w.as_copayer(service, 1)
    t1 = await store_txp(service, w, 0, inputs=[], created_on=clock.t - 10, accept_by=[1])
    t2 = await store_txp(service, w, 1, inputs=[])
    await store_txp(service, w, 1, inputs=[], status="temporary")
    pending = await a.get_pending_txs({})
    assert [p["id"] for p in pending] == [t2.id, t1.id]
    p1 = pending[1]
    assert p1["creatorName"] == "copayer 1" and p1["derivationStrategy"] == "BIP44"
    assert p1["actions"][0]["copayerName"] == "copayer 2"
    assert p1["deleteLockTime"] > 0  # someone else accepted: the creator must wait
    assert pending[0]["deleteLockTime"] > 0  # not the creator
    assert "isPending" not in p1
    got = await b.get_tx({"txProposalId": t1.id})
    assert got["id"] == t1.id and got["creatorName"] == "copayer 1" and "deleteLockTime" not in got
    with pytest.raises(ClientError) as ei:
        await a.get_tx({"txProposalId": "nope"})
    assert (ei.value.code, ei.value.message) == ("TX_NOT_FOUND", "Transaction proposal not found")
    status = await a.get_status({})
    assert [p["id"] for p in status["pendingTxps"]] == [t2.id, t1.id]


@pytest_twisted.ensureDeferred
async def test_get_tx_includes_note(service):
    w = await create_and_join(service, 1, 1)
    me = w.as_copayer(service)
    t = await store_txp(service, w, 0, inputs=[], status="broadcasted", txid="ab" * 32)
    assert "note" not in await me.get_tx({"txProposalId": t.id})
    await me.edit_tx_note({"txid": "ab" * 32, "body": "rent"})
    got = await me.get_tx({"txProposalId": t.id})
    assert got["note"]["body"] == "rent" and got["note"]["editedByName"] == "copayer 1"


@pytest_twisted.ensureDeferred
async def test_locked_and_recently_spent_utxos(service, explorer):
    w = await create_and_join(service, 1, 1)
    me = w.as_copayer(service)
    a0 = await me.create_address({})
    a1 = await me.create_address({})
    u = lambda txid, vout, addr, sat, conf: {"txid": txid, "vout": vout, "address": addr,  # noqa: E731
                                              "scriptPubKey": "00", "satoshis": sat, "confirmations": conf}
    explorer.utxos = [u("aa" * 32, 0, a0["address"], 100_000_000, 1), u("bb" * 32, 1, a1["address"], 200_000_000, 0),
                      u("cc" * 32, 0, a1["address"], 300_000_000, 3), {**u("dd" * 32, 2, a0["address"], 0, 5),
                                                                       "satoshis": None, "amount": 0.0004}]
    await store_txp(service, w, 0, inputs=[{"txid": "aa" * 32, "vout": 0, "satoshis": 100_000_000}])
    await store_txp(service, w, 0, inputs=[{"txid": "cc" * 32, "vout": 0}], status="broadcasted", txid="ee" * 32)
    utxos = await me.get_utxos({})
    by = {u["txid"][:2]: u for u in utxos}
    assert set(by) == {"aa", "bb", "dd"}  # cc spent by a proposal broadcast in the last 24 h
    assert by["aa"]["locked"] and not by["bb"]["locked"]
    assert by["dd"]["satoshis"] == 40000 and by["bb"]["path"] == "m/0/1"
    bal = await me.get_balance({})
    assert bal["totalAmount"] == 300_040_000 and bal["lockedAmount"] == 100_000_000
    assert bal["totalConfirmedAmount"] == 100_040_000 and bal["lockedConfirmedAmount"] == 100_000_000
    assert bal["availableAmount"] == 200_040_000
    only = await me.get_utxos({"addresses": [a1["address"]]})
    assert {u["txid"][:2] for u in only} == {"bb", "cc"} and all("path" not in u for u in only)
    # empty explorer result with pending proposals
    explorer.utxos = []
    assert await me.get_utxos({}) == []


@pytest_twisted.ensureDeferred
async def test_wallet_from_identifier(service):
    w = await create_and_join(service, 1, 1)
    t = await store_txp(service, w, 0, inputs=[], status="broadcasted", txid="12" * 32)
    staff = service.bind(None, "staff", is_support_staff=True)
    assert await staff.get_wallet_from_identifier({"identifier": w.id}) == w.id
    assert await staff.get_wallet_from_identifier({"identifier": t.txid}) == w.id
    assert await staff.get_wallet_from_identifier({"identifier": "34" * 32}) is None
    assert await staff.get_wallet_from_identifier({"identifier": "nothing"}) is None
