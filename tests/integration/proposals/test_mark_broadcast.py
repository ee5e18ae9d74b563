"""The ONE mark-broadcast rule (bws/services/broadcasts.py; issue 16 "One home
per rule"): the API's pending-list path and the block monitor's path store the
same notification payload, and the monitor marks under the wallet lock (so it
cannot race the API's writes on the proposal)."""

from __future__ import annotations

import pytest_twisted
from twisted.internet import defer, reactor
from twisted.internet.task import deferLater

from bws.adapters.broker.local import LocalBroker
from tests.helpers.fixtures import make_service
from tests.integration.test_bcmonitor_btc import _proposal, make_monitor
from tests.helpers.proposals import FakeExplorer


async def _outgoing(storage, wallet_id):
    return [n for n in await storage.notifications.fetch([wallet_id]) if n["type"].startswith("NewOutgoingTx")]


@pytest_twisted.ensureDeferred
async def test_api_and_monitor_store_the_same_payload(storage):
    api_txid, monitor_txid = "aa" * 32, "bb" * 32
    await storage.proposals.store(_proposal("wApi", api_txid, "accepted"))
    await storage.proposals.store(_proposal("wMon", monitor_txid, "accepted"))

    # the API: the pending listing finds the accepted proposal on chain
    ex = FakeExplorer(known={api_txid: {"txid": api_txid}})
    service = make_service(storage, {("btc", "testnet"): ex})
    me = service.bind("wApi", "c0")
    assert await me.get_pending_txs({}) == []

    # the monitor: the same transaction seen on the network
    monitor = make_monitor(storage, None, LocalBroker(), third_party_delay=0)
    await monitor._mark_third_party(monitor_txid)

    [by_api] = await _outgoing(storage, "wApi")
    [by_monitor] = await _outgoing(storage, "wMon")
    assert by_api["type"] == by_monitor["type"] == "NewOutgoingTxByThirdParty"
    expected = {"creatorId": "c0", "amount": 5_000, "message": None}
    assert by_api["data"] == {"txProposalId": "txp-" + api_txid[-4:], "txid": api_txid, **expected}
    assert by_monitor["data"] == {"txProposalId": "txp-" + monitor_txid[-4:], "txid": monitor_txid, **expected}
    for wallet_id, txid in (("wApi", api_txid), ("wMon", monitor_txid)):
        stored = await storage.proposals.fetch(wallet_id, "txp-" + txid[-4:])
        assert stored["status"] == "broadcasted" and stored["broadcastedOn"] > 0


@pytest_twisted.ensureDeferred
async def test_the_monitor_marks_under_the_wallet_lock(storage):
    txid = "cc" * 32
    await storage.proposals.store(_proposal("wL", txid, "accepted"))
    service = make_service(storage)
    monitor = make_monitor(storage, None, LocalBroker(), third_party_delay=0, lock=service.lock)

    release = await service.lock.acquire("wL", 10, 60)  # an API write in progress on the wallet
    marking = defer.ensureDeferred(monitor._mark_third_party(txid))
    await deferLater(reactor, 0.3, lambda: None)
    assert not marking.called
    assert (await storage.proposals.fetch("wL", "txp-" + txid[-4:]))["status"] == "accepted"
    assert await _outgoing(storage, "wL") == []

    release()
    await marking
    assert (await storage.proposals.fetch("wL", "txp-" + txid[-4:]))["status"] == "broadcasted"
    assert [n["type"] for n in await _outgoing(storage, "wL")] == ["NewOutgoingTxByThirdParty"]
