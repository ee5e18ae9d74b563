"""getTxHistory under concurrency (bench/profiles/NOTES.md finding 3), on the
real SecantusDB server of the ``storage`` fixture and, for the HTTP case,
the real API on a loopback port:

* concurrent requests for one page share one computation: one explorer page,
  one cache write, one address read, the same answer as a lone request;
* a request that arrives while a computation runs gets the next one (it sees
  what changed meanwhile), a cancelled request does not cancel the others;
* a soft reset during a fill leaves the cache stale (the fill's status write
  is conditional on the status rev it read);
* the in-memory address set follows new addresses.
"""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import defer, reactor, task
from twisted.web.server import Site

from bws.http.app import BwsApi
from bws.services.context import Tunables
from tests.helpers.client import TestClient
from tests.helpers.fixtures import make_service
from tests.helpers.keys import CopayerKeys
from tests.helpers.wallets import create_and_join
from tests.integration.test_history_service import EXT, itx
from tests.helpers.proposals import FakeExplorer

pytestmark = pytest.mark.timeout(120)


class GatedExplorer(FakeExplorer):
    """FakeExplorer whose get_transactions takes its page, then waits for
    ``gate`` (a Deferred, when set) before answering."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.gate = None
        self.entered = []  # one Deferred fired per call that reached the gate

    async def get_transactions(self, addresses, from_=0, to=None):
        self._maybe_fail("get_transactions")
        page, total = [dict(t) for t in self.txs[from_:to]], len(self.txs)
        if self.gate is not None:
            for d in self.entered:
                if not d.called:
                    d.callback(None)
                    break
            await self.gate
        return page, total

    def next_entry(self):
        d = defer.Deferred()
        self.entered.append(d)
        return d


def count_calls(obj, name):
    """Record the positional args of every call of the async method ``obj.name``."""
    calls = []
    orig = getattr(obj, name)

    async def wrapper(*a, **kw):
        calls.append(a)
        return await orig(*a, **kw)

    setattr(obj, name, wrapper)
    return calls


async def big_wallet(service, n_addresses=3):
    """A testnet 1-of-1 wallet at the cache threshold (the tests set it to 2)."""
    w = await create_and_join(service, 1, 1, network="testnet", copayers=[CopayerKeys.random("testnet")])
    me = w.as_copayer(service)
    addrs = [await me.create_address({"ignoreMaxGap": True}) for _ in range(n_addresses)]
    return w, me, addrs


def history_txs(addr, n=6):
    """Newest first: two shallow txs, the rest deep (>= 36 confirmations)."""
    confs = [0, 10] + [36 + 10 * i for i in range(n - 2)]
    return [itx(f"t{n - i}", [(EXT, 100_000)], [(addr, 90_000 - i)], confirmations=c) for i, c in enumerate(confs)]


def gather(*ds):
    return defer.gatherResults([defer.ensureDeferred(d) if not isinstance(d, defer.Deferred) else d for d in ds],
                               consumeErrors=True)


def service_for(storage, explorer):
    return make_service(storage, {("btc", "testnet"): explorer}, tunables=Tunables(history_cache_address_threshold=2))


@pytest_twisted.ensureDeferred
async def test_concurrent_cold_requests_share_one_fill(storage):
    fake = GatedExplorer(height=1000, fee_samples={24: 0.0001})
    service = service_for(storage, fake)
    w, me, [a0, *_] = await big_wallet(service)
    fake.txs = history_txs(a0["address"])
    loads = count_calls(storage.addresses, "fetch_keys")
    writes = count_calls(storage.cache, "store_history_fill")
    notes = count_calls(storage.notes, "fetch_by_txids")
    n0 = fake.calls.count(("get_transactions",))

    results = await gather(*[w.as_copayer(service).get_tx_history({"skip": 0, "limit": 4}) for _ in range(20)])

    assert fake.calls.count(("get_transactions",)) == n0 + 1
    assert len(writes) == 1 and len(loads) == 1 and len(notes) == 1
    assert all(r == results[0] for r in results)
    assert [i["txid"] for i in results[0]] == ["t6", "t5", "t4", "t3"]
    assert results[0][0]["lowFees"] is False and results[0][2]["confirmations"] == 36
    # the cache was written once, as a lone request writes it
    status = await storage.cache.get(w.id, "historyCacheStatus", None)
    assert (status["totalItems"], status["isUpdated"], status["isComplete"]) == (6, True, False)
    assert sorted(d["key"] for d in await storage.cache.fetch_range(w.id, "historyCache", 0, 100)) == [2, 3]
    # a lone request now: the same answer (the page starts with shallow txs: explorer again)
    alone = await me.get_tx_history({"skip": 0, "limit": 4})
    assert alone == results[0]
    assert fake.calls.count(("get_transactions",)) == n0 + 2 and len(loads) == 1  # addresses from memory


@pytest_twisted.ensureDeferred
async def test_concurrent_http_requests_share_one_fill(storage):
    fake = GatedExplorer(height=1000)
    service = service_for(storage, fake)
    w, me, [a0, *_] = await big_wallet(service)
    fake.txs = history_txs(a0["address"], 60)
    site = Site(BwsApi(service).resource())
    site.noisy = False
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    client = TestClient(f"http://127.0.0.1:{port.getHost().port}/bws/api", coin="btc")
    try:
        fake.gate = defer.Deferred()  # hold the first computation until every request is in
        entered = fake.next_entry()
        n0 = fake.calls.count(("get_transactions",))
        writes = count_calls(storage.cache, "store_history_fill")
        first = defer.ensureDeferred(client.get("/v1/txhistory/?skip=0&limit=50", w.copayers[0]))
        await entered
        rest = [defer.ensureDeferred(client.get("/v1/txhistory/?skip=0&limit=50", w.copayers[0])) for _ in range(15)]
        await task.deferLater(reactor, 0.3, lambda: None)  # they arrive and queue for the next computation
        fake.gate.callback(None)
        responses = await gather(first, *rest)
        assert {r.status for r in responses} == {200}
        assert len({r.text for r in responses}) == 1
        assert len(responses[0].json) == 50 and responses[0].json[0]["txid"] == "t60"
        # one computation for the first request, one for the 15 that came while it ran
        assert fake.calls.count(("get_transactions",)) == n0 + 2 and len(writes) == 2
    finally:
        await client.close()
        await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_request_arriving_during_a_run_sees_later_changes(storage):
    fake = GatedExplorer(height=1000)
    service = service_for(storage, fake)
    w, me, [a0, *_] = await big_wallet(service)
    fake.txs = history_txs(a0["address"])
    fake.gate = defer.Deferred()
    entered = fake.next_entry()
    a = defer.ensureDeferred(me.get_tx_history({"skip": 0, "limit": 3}))
    await entered  # A's computation has its explorer page
    # meanwhile: an incoming payment (new tx, soft reset) and a note on an old tx
    fake.txs.insert(0, itx("t7", [(EXT, 100_000)], [(a0["address"], 77_000)], confirmations=0))
    await storage.cache.soft_reset(w.id)
    await me.edit_tx_note({"txid": "t5", "body": "later"})
    b = defer.ensureDeferred(w.as_copayer(service).get_tx_history({"skip": 0, "limit": 3}))
    fake.gate.callback(None)
    ra, rb = await gather(a, b)
    assert [i["txid"] for i in ra] == ["t6", "t5", "t4"]
    assert [i["txid"] for i in rb] == ["t7", "t6", "t5"]
    assert rb[2]["note"]["body"] == "later"
    assert fake.calls.count(("get_transactions",)) >= 2


@pytest_twisted.ensureDeferred
async def test_cancelled_request_does_not_cancel_the_others(storage):
    fake = GatedExplorer(height=1000)
    service = service_for(storage, fake)
    w, me, [a0, *_] = await big_wallet(service)
    fake.txs = history_txs(a0["address"])
    fake.gate = defer.Deferred()
    entered = fake.next_entry()
    a = defer.ensureDeferred(me.get_tx_history({"skip": 0, "limit": 3}))
    b = defer.ensureDeferred(w.as_copayer(service).get_tx_history({"skip": 0, "limit": 3}))
    await entered
    a.cancel()
    with pytest.raises(defer.CancelledError):
        await a
    fake.gate.callback(None)
    assert [i["txid"] for i in await b] == ["t6", "t5", "t4"]
    assert fake.calls.count(("get_transactions",)) == 1
    # and nothing is left behind for the next request
    assert not service.state.history.batches
    assert [i["txid"] for i in await me.get_tx_history({"skip": 0, "limit": 3})] == ["t6", "t5", "t4"]


@pytest_twisted.ensureDeferred
async def test_errors_reach_every_coalesced_request(storage):
    fake = GatedExplorer(height=1000, fail={"get_transactions": RuntimeError("node down")})
    service = service_for(storage, fake)
    w, me, [a0, *_] = await big_wallet(service)
    ds = [defer.ensureDeferred(w.as_copayer(service).get_tx_history({})) for _ in range(5)]
    for d in ds:
        with pytest.raises(Exception) as ei:
            await d
        assert "node down" in str(ei.value)
    assert fake.calls.count(("get_transactions",)) == 1
    # the status the fill created stays "not updated": the next read misses
    assert (await storage.cache.get(w.id, "historyCacheStatus", None))["isUpdated"] is False


@pytest_twisted.ensureDeferred
async def test_soft_reset_during_a_fill_keeps_the_cache_stale(storage):
    fake = GatedExplorer(height=1000)
    service = service_for(storage, fake)
    w, me, [a0, *_] = await big_wallet(service)
    fake.txs = history_txs(a0["address"])
    for warm in (False, True):  # cold: no status yet; warm: an updated status exists
        if warm:
            await me.get_tx_history({"skip": 2, "limit": 3})
            assert (await storage.cache.get(w.id, "historyCacheStatus", None))["isUpdated"] is True
            await storage.cache.soft_reset(w.id)
        fake.gate = defer.Deferred()
        entered = fake.next_entry()
        d = defer.ensureDeferred(me.get_tx_history({"skip": 2, "limit": 3}))
        await entered
        await storage.cache.soft_reset(w.id)  # e.g. an incoming payment
        fake.gate.callback(None)
        assert [i["txid"] for i in await d] == ["t4", "t3", "t2"]
        assert (await storage.cache.get(w.id, "historyCacheStatus", None))["isUpdated"] is False
        fake.gate = None
        calls = fake.calls.count(("get_transactions",))
        await me.get_tx_history({"skip": 2, "limit": 3})  # misses, refills
        assert fake.calls.count(("get_transactions",)) == calls + 1
        assert (await storage.cache.get(w.id, "historyCacheStatus", None))["isUpdated"] is True
        again = await me.get_tx_history({"skip": 2, "limit": 3})  # now a hit
        assert fake.calls.count(("get_transactions",)) == calls + 1 and [i["txid"] for i in again] == ["t4", "t3", "t2"]


@pytest_twisted.ensureDeferred
async def test_address_set_follows_new_addresses(storage):
    fake = FakeExplorer(height=1000)
    service = service_for(storage, fake)
    w, me, [a0, *_] = await big_wallet(service)
    loads = count_calls(storage.addresses, "fetch_keys")
    fake.txs = [itx("t1", [(EXT, 100_000)], [(a0["address"], 90_000)], confirmations=3)]
    assert (await me.get_tx_history({}))[0]["action"] == "received"
    assert (await me.get_tx_history({}))[0]["action"] == "received"
    assert len(loads) == 1  # the wallet did not change: addresses from memory
    new = await me.create_address({"ignoreMaxGap": True})  # renews the wallet's token
    fake.txs.insert(0, itx("t2", [(EXT, 50_000)], [(new["address"], 40_000)], confirmations=1))
    items = await me.get_tx_history({})
    assert len(loads) == 2
    assert (items[0]["txid"], items[0]["action"], items[0]["outputs"][0]["isMine"]) == ("t2", "received", True)
    # the in-memory set expires after ADDRESS_SET_TTL even without a change
    service.state.history.forget_address_sets()
    await me.get_tx_history({})
    assert len(loads) == 3
