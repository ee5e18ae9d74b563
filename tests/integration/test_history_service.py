"""getTxHistory (spec §4.22, §6.14; §12 cases 57, 58): real paging on
litecoind; decoration, proposal/note merge, invalid txs, lowFees and the
history cache through an in-test explorer (the cache needs 36+
confirmations, too many blocks to mine on the session node)."""

from __future__ import annotations

import pytest
import pytest_twisted

from bws.errors import ClientError
from bws.model import TxProposal
from bws.services.context import Tunables
from tests.helpers.fixtures import make_service
from tests.helpers.keys import CopayerKeys
from tests.helpers.wallets import create_and_join
from tests.helpers.proposals import FakeExplorer, fund, module_watch_wallet, node_explorer  # noqa: F401

pytestmark = pytest.mark.timeout(120)

EXT = "mvNyptwisQTkwL3vN8VMaVUrA3swVCX83c"  # some testnet P2PKH


async def new_wallet(service, n_addresses=1):
    w = await create_and_join(service, 1, 1, network="testnet", copayers=[CopayerKeys.random("testnet")])
    me = w.as_copayer(service)
    addrs = [await me.create_address({"ignoreMaxGap": True}) for _ in range(n_addresses)]
    return w, me, addrs


def itx(txid, vin, vout, confirmations=1, fees=0.0001, size=250, height=None, time=1_600_000_000):
    return {
        "txid": txid,
        "vin": [{"addr": a, "valueSat": v} for a, v in vin],
        "vout": [{"value": v / 1e8, "scriptPubKey": {"addresses": [a]}} for a, v in vout],
        "confirmations": confirmations,
        "blockheight": height if height is not None else (-1 if confirmations == 0 else 1000 - confirmations + 1),
        "blocktime": time,
        "fees": fees,
        "size": size,
    }


@pytest_twisted.ensureDeferred
async def test_paging_on_node(storage, node_explorer, litecoind):
    service = make_service(storage, {("btc", "testnet"): node_explorer})
    w, me, _ = await new_wallet(service, 0)
    assert await me.get_tx_history({}) == []
    txids = set()
    for btc in ("0.1", "0.2", "0.3"):
        _, txid = await fund(me, litecoind, btc)
        txids.add(txid)
    full = await me.get_tx_history({})
    assert {i["txid"] for i in full} == txids and all(i["action"] == "received" for i in full)
    assert sorted(i["amount"] for i in full) == [10_000_000, 20_000_000, 30_000_000]
    p1 = await me.get_tx_history({"skip": 0, "limit": 2})
    p2 = await me.get_tx_history({"skip": 2, "limit": 2})
    assert [i["txid"] for i in p1 + p2] == [i["txid"] for i in full]
    assert await me.get_tx_history({"skip": 3, "limit": 2}) == []
    with pytest.raises(ClientError) as ei:
        await me.get_tx_history({"limit": 51})
    assert ei.value.code == "HISTORY_LIMIT_EXCEEDED"


@pytest_twisted.ensureDeferred
async def test_decoration_merge_invalid_and_low_fees(storage):
    fake = FakeExplorer(fee_samples={24: 0.0001})  # superEconomy estimated: 10 000 sat/kB
    service = make_service(storage, {("btc", "testnet"): fake})
    w, me, [a0, a1] = await new_wallet(service, 2)
    [doc] = [d for d in await storage.addresses.fetch(w.id) if d["address"] == a1["address"]]
    await storage.addresses.store({**doc, "isChange": True})  # a1 plays the change address
    fake.txs = [
        itx("t3", [(a0["address"], 500_000)], [(EXT, 300_000), (a1["address"], 190_000)], confirmations=0,
            fees=0.0001, size=2000),  # 5000 sat/kB < 10 000: low fees
        itx("t2", [], [], confirmations=5),
        itx("t1", [(EXT, 700_000)], [(a0["address"], 500_000)], confirmations=9, fees=0.00001),
    ]
    t = TxProposal.create(w.id, "btc", "testnet", 1, 1, outputs=[{"toAddress": EXT, "amount": 300_000, "message": "o1"}],
                          creatorId=w.copayer_ids[0], message="pay", customData={"k": 1}, now=1_600_000_000)
    t.txid, t.status = "t3", "broadcasted"
    t.add_action(w.copayer_ids[0], "accept", ["00"], "xpub")
    await storage.proposals.store(t.to_dict(for_storage=True))
    await me.edit_tx_note({"txid": "t1", "body": "from mom"})
    items = await me.get_tx_history({})
    assert [i["txid"] for i in items] == ["t3", "t2", "t1"]
    sent, invalid, received = items
    assert (sent["action"], sent["amount"], sent["fees"], sent["addressTo"]) == ("sent", 300_000, 10_000, EXT)
    assert sent["lowFees"] is True and sent["feePerKb"] == 5000
    assert sent["proposalId"] == t.id and sent["message"] == "pay" and sent["customData"] == {"k": 1}
    assert sent["creatorName"] == "copayer 1" and sent["actions"][0]["copayerName"] == "copayer 1"
    assert [(o["address"], o["isMine"], o["message"]) for o in sent["outputs"]] == [
        (EXT, False, "o1"), (a1["address"], True, None)]
    assert (invalid["action"], invalid["amount"]) == ("invalid", 0)
    assert (received["action"], received["amount"]) == ("received", 500_000) and "lowFees" not in received
    assert received["note"]["body"] == "from mom" and received["note"]["editedByName"] == "copayer 1"


@pytest_twisted.ensureDeferred
async def test_history_cache(storage):
    fake = FakeExplorer(height=1000)
    service = make_service(storage, {("btc", "testnet"): fake}, tunables=Tunables(history_cache_address_threshold=2))
    w, me, [a0, a1] = await new_wallet(service, 2)
    # newest first: two shallow txs, then three deep ones (>= 36 confirmations)
    fake.txs = [itx(f"t{i}", [(EXT, 100_000)], [(a0["address"], 90_000)], confirmations=c)
                for i, c in ((5, 0), (4, 10), (3, 36), (2, 50), (1, 60))]
    first = await me.get_tx_history({"skip": 2, "limit": 3})
    assert [i["txid"] for i in first] == ["t3", "t2", "t1"]
    keys = sorted(d["key"] for d in await storage.cache.fetch_range(w.id, "historyCache", 0, 100))
    assert keys == [0, 1, 2]  # oldest at position 0
    status = await storage.cache.get(w.id, "historyCacheStatus", None)
    assert (status["totalItems"], status["isComplete"], status["isUpdated"]) == (5, True, True)
    calls = fake.calls.count(("get_transactions",))
    fake.height = 1010  # ten blocks later: confirmations are recomputed from the height
    again = await me.get_tx_history({"skip": 2, "limit": 3})
    assert fake.calls.count(("get_transactions",)) == calls  # served from cache
    assert [i["txid"] for i in again] == ["t3", "t2", "t1"]
    assert [i["confirmations"] for i in again] == [46, 60, 70]  # height - blockheight + 1
    # pages touching shallow txs miss the cache
    await me.get_tx_history({"skip": 0, "limit": 2})
    assert fake.calls.count(("get_transactions",)) == calls + 1
    # soft reset (our own broadcast, incoming payment): the next read misses
    await storage.cache.soft_reset(w.id)
    await me.get_tx_history({"skip": 2, "limit": 3})
    assert fake.calls.count(("get_transactions",)) == calls + 2
