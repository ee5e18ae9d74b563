"""Sign / reject / remove / broadcast rules (spec §4.11–§4.15, §4.21, §6.10–§6.12;
§12 cases 47, 49, 50, 51, 55, 56).  Happy paths on litecoind regtest (no
block mined); explorer failures through a tiny in-test explorer."""

from __future__ import annotations

import pytest
import pytest_twisted

from bws.chains.address import script_for_address
from bws.errors import ClientError, ServerError
from tests.helpers.fixtures import Clock, make_service
from tests.helpers.keys import CopayerKeys
from tests.helpers.wallets import create_and_join
from tests.helpers.proposals import (  # noqa: F401
    FakeExplorer,
    chain_service,
    explorer_error,
    fund,
    module_watch_wallet,
    node_explorer,
    notifications,
    proposal_signature,
    sign_txp,
)

pytestmark = pytest.mark.timeout(120)


async def err(coro) -> ClientError:
    with pytest.raises(ClientError) as ei:
        await coro
    return ei.value


async def published(service, litecoind, m=2, n=3, amount=1_000_000, funded=True):
    keys = [CopayerKeys.random("testnet") for _ in range(n)]
    w = await create_and_join(service, m, n, network="testnet", copayers=keys)
    cs = [w.as_copayer(service, i) for i in range(n)]
    if funded:
        await fund(cs[0], litecoind, "0.1")
    t = await cs[0].create_tx({"outputs": [{"toAddress": litecoind.new_address(), "amount": amount}],
                               "message": "msg", "feePerKb": 10_000})
    t = await cs[0].publish_tx({"txProposalId": t["id"], "proposalSignature": proposal_signature(t, keys[0])})
    return w, cs, keys, t


# -- case 47 / 55 ---------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_reject_flow(chain_service, litecoind):
    w, (a, b, c), keys, t = await published(chain_service, litecoind)
    r1 = await b.reject_tx({"txProposalId": t["id"], "reason": "too much"})
    assert r1["status"] == "pending" and r1["actions"][0]["comment"] == "too much"
    assert r1["actions"][0]["type"] == "reject" and [p["id"] for p in await a.get_pending_txs({})] == [t["id"]]
    # answers are decorated like the reference's fetchTx (_completeTxData): names and strategy
    assert t["creatorName"] == "copayer 1" and t["derivationStrategy"] == "BIP44"
    assert r1["creatorName"] == "copayer 1" and r1["actions"][0]["copayerName"] == "copayer 2"
    r2 = await c.reject_tx({"txProposalId": t["id"]})
    assert r2["status"] == "rejected" and await a.get_pending_txs({}) == []
    assert (await err(a.reject_tx({"txProposalId": t["id"]}))).code == "TX_NOT_PENDING"
    assert (await err(b.reject_tx({"txProposalId": t["id"]}))).code == "COPAYER_VOTED"
    # case 49: signing a rejected proposal
    e = await err(a.sign_tx({"txProposalId": t["id"], "signatures": sign_txp(t, keys[0])}))
    assert e.code == "TX_NOT_PENDING"
    ns = await notifications(chain_service, w.id, {"TxProposalRejectedBy", "TxProposalFinallyRejected"})
    assert [n["type"] for n in ns] == ["TxProposalRejectedBy", "TxProposalRejectedBy", "TxProposalFinallyRejected"]
    assert ns[0]["data"]["copayerId"] == w.copayer_ids[1]
    assert ns[2]["data"]["rejectedBy"] == [w.copayer_ids[1], w.copayer_ids[2]]


# -- case 49 -----------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_sign_errors(chain_service, litecoind):
    w, (a, b, c), keys, t = await published(chain_service, litecoind)
    good_b = sign_txp(t, keys[1])
    for sigs in (sign_txp(t, keys[2]), ["3045" + "00" * 60], good_b + good_b, [], "x"):
        e = await err(b.sign_tx({"txProposalId": t["id"], "signatures": sigs}))
        assert (e.code, e.message) == ("BAD_SIGNATURES", "Bad signatures")
    assert (await err(b.sign_tx({"txProposalId": t["id"]}))).message == "Required argument signatures missing."
    assert (await err(b.sign_tx({"txProposalId": "x", "signatures": []}))).code == "TX_NOT_FOUND"
    await c.reject_tx({"txProposalId": t["id"]})
    e = await err(c.sign_tx({"txProposalId": t["id"], "signatures": sign_txp(t, keys[2])}))
    assert e.code == "COPAYER_VOTED"  # sign after reject
    await b.sign_tx({"txProposalId": t["id"], "signatures": good_b})
    assert (await err(b.reject_tx({"txProposalId": t["id"]}))).code == "COPAYER_VOTED"  # reject after sign
    # case 50: not accepted yet
    assert (await err(a.broadcast_tx({"txProposalId": t["id"]}))).code == "TX_NOT_ACCEPTED"


# -- case 56 --------------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_remove_pending(storage, node_explorer, litecoind):
    clock = Clock()
    service = make_service(storage, {("btc", "testnet"): node_explorer}, clock=clock)
    w, (a, b, c), keys, t = await published(service, litecoind, amount=1_000_000)
    assert (await err(b.remove_pending_tx({"txProposalId": t["id"]}))).code == "TX_CANNOT_REMOVE"
    [p] = await b.get_pending_txs({})
    assert 0 < p["deleteLockTime"] <= 600
    await c.reject_tx({"txProposalId": t["id"]})  # another copayer's rejection does not block the creator
    assert (await a.remove_pending_tx({"txProposalId": t["id"]})) == {"success": True}
    assert await a.get_pending_txs({}) == []
    [n] = await notifications(service, w.id, {"TxProposalRemoved"})
    assert n["data"]["txProposalId"] == t["id"]

    # another signer blocks the creator; after DELETE_LOCKTIME anyone may remove
    t2 = await a.create_tx({"outputs": [{"toAddress": litecoind.new_address(), "amount": 2_000_000}]})
    assert (await err(a.remove_pending_tx({"txProposalId": t2["id"]}))).code == "TX_NOT_PENDING"  # temporary
    await a.publish_tx({"txProposalId": t2["id"], "proposalSignature": proposal_signature(t2, keys[0])})
    await b.sign_tx({"txProposalId": t2["id"], "signatures": sign_txp(t2, keys[1])})
    assert (await err(a.remove_pending_tx({"txProposalId": t2["id"]}))).code == "TX_CANNOT_REMOVE"
    clock.advance(601)
    assert (await c.remove_pending_tx({"txProposalId": t2["id"]})) == {"success": True}

    # creator alone (even after self-signing) may remove at once
    t3 = await a.create_tx({"outputs": [{"toAddress": litecoind.new_address(), "amount": 3_000_000}]})
    await a.publish_tx({"txProposalId": t3["id"], "proposalSignature": proposal_signature(t3, keys[0])})
    await a.sign_tx({"txProposalId": t3["id"], "signatures": sign_txp(t3, keys[0])})
    assert (await a.remove_pending_tx({"txProposalId": t3["id"]})) == {"success": True}


# -- case 51 (third party broadcasts) and §4.21, on the node ---------------------------------------


@pytest_twisted.ensureDeferred
async def test_third_party_broadcast_detected(chain_service, litecoind):
    w, (a, b), keys, t = await published(chain_service, litecoind, m=1, n=2)
    acc = await b.sign_tx({"txProposalId": t["id"], "signatures": sign_txp(t, keys[1])})
    assert acc["status"] == "accepted" and acc["actions"][0]["copayerName"] == "copayer 2"
    # someone pushes the raw tx directly: broadcast_raw answers the txid
    txid = await a.broadcast_raw_tx({"network": "testnet", "rawTx": acc["raw"]})
    assert txid == acc["txid"]
    # the node answers a re-sent mempool tx with its txid: our broadcast succeeds
    done = await b.broadcast_tx({"txProposalId": t["id"]})
    assert done["status"] == "broadcasted" and done["txid"] == txid and done["creatorName"] == "copayer 1"
    assert [n["data"]["txid"] for n in await notifications(chain_service, w.id, {"NewOutgoingTx"})] == [txid]

    # pending listing: an accepted proposal already on chain is marked and dropped
    t2 = await a.create_tx({"outputs": [{"toAddress": litecoind.new_address(), "amount": 500_000}]})
    t2 = await a.publish_tx({"txProposalId": t2["id"], "proposalSignature": proposal_signature(t2, keys[0])})
    acc2 = await a.sign_tx({"txProposalId": t2["id"], "signatures": sign_txp(t2, keys[0])})
    await b.broadcast_raw_tx({"network": "testnet", "rawTx": acc2["raw"], "coin": "btc"})
    assert await b.get_pending_txs({}) == []
    got = await b.get_tx({"txProposalId": t2["id"]})
    assert got["status"] == "broadcasted" and isinstance(got["broadcastedOn"], int)
    [n] = await notifications(chain_service, w.id, {"NewOutgoingTxByThirdParty"})
    assert n["data"]["txid"] == acc2["txid"] and n["data"]["txProposalId"] == t2["id"]
    assert (await err(a.broadcast_tx({"txProposalId": t2["id"]}))).code == "TX_ALREADY_BROADCASTED"

    # not a transaction: refused before the node (issue 15 finding 12: the node's "TX decode
    # failed" was a 500); a well-formed one the node refuses is the node's verdict, a 500
    assert (await err(a.broadcast_raw_tx({"network": "testnet", "rawTx": "00"}))).message == "Invalid rawTx"
    spends_nothing = ("01000000" "01" + "ab" * 32 + "00000000" "00" "ffffffff"
                      "01" "e803000000000000" "00" "00000000")
    with pytest.raises(ServerError):
        await a.broadcast_raw_tx({"network": "testnet", "rawTx": spends_nothing})
    for opts, msg in (({"rawTx": "00"}, "Required argument network missing."),
                      ({"network": "x", "rawTx": "00"}, "Invalid network"),
                      ({"network": "testnet", "rawTx": "00", "coin": "doge"}, "Invalid coin")):
        assert (await err(a.broadcast_raw_tx(opts))).message == msg


# -- case 51 (explorer failures) ------------------------------------------------------------------


async def accepted_with_fake(storage, fake):
    """A 1-of-1 testnet wallet on ``fake`` with one accepted proposal."""
    service = make_service(storage, {("btc", "testnet"): fake})
    k = CopayerKeys.random("testnet")
    w = await create_and_join(service, 1, 1, network="testnet", copayers=[k])
    me = w.as_copayer(service)
    a = await me.create_address({})
    fake.utxos = [{"txid": "aa" * 32, "vout": 1, "address": a["address"],
                   "scriptPubKey": script_for_address(a["address"], "btc"), "satoshis": 10_000_000, "confirmations": 3}]
    t = await me.create_tx({"outputs": [{"toAddress": a["address"], "amount": 1_000_000}], "feePerKb": 10_000})
    await me.publish_tx({"txProposalId": t["id"], "proposalSignature": proposal_signature(t, k)})
    t = await me.sign_tx({"txProposalId": t["id"], "signatures": sign_txp(t, k)})
    assert t["status"] == "accepted"
    return service, w, me, t


@pytest_twisted.ensureDeferred
async def test_broadcast_failures(storage):
    fake = FakeExplorer(fail={"broadcast": explorer_error("bad-txns-inputs-missingorspent")})
    service, w, me, t = await accepted_with_fake(storage, fake)
    # error and tx unknown: the broadcast error, status stays accepted
    with pytest.raises(ServerError) as ei:
        await me.broadcast_tx({"txProposalId": t["id"]})
    assert ei.value.to_body() == {"error": "bad-txns-inputs-missingorspent"}
    assert (await me.get_tx({"txProposalId": t["id"]}))["status"] == "accepted"
    # lookup error: that error
    fake.fail["get_transaction"] = explorer_error("lookup failed")
    with pytest.raises(ServerError) as ei:
        await me.broadcast_tx({"txProposalId": t["id"]})
    assert ei.value.message == "lookup failed"
    # Q7: the pending list survives explorer errors
    assert [p["id"] for p in await me.get_pending_txs({})] == [t["id"]]
    # error but tx found: broadcast by a third party
    del fake.fail["get_transaction"]
    fake.known[t["txid"]] = {"txid": t["txid"]}
    done = await me.broadcast_tx({"txProposalId": t["id"]})
    assert done["status"] == "broadcasted"
    types = [n["type"] for n in await notifications(service, w.id)]
    assert types[-4:] == ["NewTxProposal", "TxProposalAcceptedBy", "TxProposalFinallyAccepted",
                          "NewOutgoingTxByThirdParty"]
    assert (await err(me.broadcast_tx({"txProposalId": t["id"]}))).code == "TX_ALREADY_BROADCASTED"


@pytest_twisted.ensureDeferred
async def test_broadcast_ok_with_fake_and_history_soft_reset(storage):
    fake = FakeExplorer()
    service, w, me, t = await accepted_with_fake(storage, fake)
    await storage.cache.set(w.id, "historyCacheStatus", None, {"totalItems": 1, "isUpdated": True})
    done = await me.broadcast_tx({"txProposalId": t["id"]})
    assert done["status"] == "broadcasted" and fake.broadcasted == [t["raw"]]
    assert (await storage.cache.get(w.id, "historyCacheStatus", None))["isUpdated"] is False
    last = (await notifications(service, w.id))[-1]
    assert last["type"] == "NewOutgoingTx" and last["creatorId"] == w.copayer_ids[0]
    assert (last["data"]["txid"], last["data"]["amount"], last["data"]["txProposalId"]) == (t["txid"], 1_000_000, t["id"])


# -- issue 16: typed chain functions ----------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_accepted_proposal_stored_without_raw_is_answered_with_raw(storage):
    """docs/spec/api.md §5.4: ``raw`` is recomputed on read for accepted proposals. A
    proposal accepted and stored without ``raw`` (by an older server) comes back with
    the fully signed transaction rebuilt from its accept actions (review §2.7, bug 2:
    the rebuild used to fail inside a swallowed exception)."""
    fake = FakeExplorer()
    service, w, me, t = await accepted_with_fake(storage, fake)
    doc = await storage.proposals.fetch(w.id, t["id"])
    raw = doc.pop("raw")
    assert raw == t["raw"]
    await storage.proposals.store(doc)
    assert "raw" not in await storage.proposals.fetch(w.id, t["id"])
    assert (await me.get_tx({"txProposalId": t["id"]}))["raw"] == raw
    (pending,) = await me.get_pending_txs({})
    assert pending["id"] == t["id"] and pending["raw"] == raw
    # stored data that cannot be rebuilt (a signature that no longer verifies) still
    # reads: the proposal is listed without raw, so the copayers can see and remove it
    doc["actions"][0]["signatures"] = [s[:-2] + ("00" if s[-2:] != "00" else "01")
                                       for s in doc["actions"][0]["signatures"]]
    await storage.proposals.store(doc)
    got = await me.get_tx({"txProposalId": t["id"]})
    assert got["status"] == "accepted" and "raw" not in got
    assert [p["id"] for p in await me.get_pending_txs({})] == [t["id"]]


@pytest_twisted.ensureDeferred
async def test_quorum_signature_builds_the_transaction_once(storage, monkeypatch):
    """Review §2.9: the signature check returns the signed build, and the quorum
    signature takes ``raw``/``txid`` from it instead of building and signing again."""
    import bws.chains.txbuild as txbuild

    fake = FakeExplorer()
    service = make_service(storage, {("btc", "testnet"): fake})
    keys = [CopayerKeys.random("testnet") for _ in range(2)]
    w = await create_and_join(service, 2, 2, network="testnet", copayers=keys)
    a, b = (w.as_copayer(service, i) for i in range(2))
    addr = await a.create_address({})
    fake.utxos = [{"txid": "ab" * 32, "vout": 0, "address": addr["address"],
                   "scriptPubKey": script_for_address(addr["address"], "btc"), "satoshis": 10_000_000,
                   "confirmations": 3}]
    t = await a.create_tx({"outputs": [{"toAddress": addr["address"], "amount": 1_000_000}], "feePerKb": 10_000})
    t = await a.publish_tx({"txProposalId": t["id"], "proposalSignature": proposal_signature(t, keys[0])})
    sigs = [sign_txp(t, k) for k in keys]
    assert (await a.sign_tx({"txProposalId": t["id"], "signatures": sigs[0]}))["status"] == "pending"

    builds = []
    real_build = txbuild.build_tx

    def counting_build(txp):
        builds.append(txp)
        return real_build(txp)

    monkeypatch.setattr(txbuild, "build_tx", counting_build)
    done = await b.sign_tx({"txProposalId": t["id"], "signatures": sigs[1]})
    assert done["status"] == "accepted" and len(builds) == 1
    # the one build carries both copayers' signatures (hashtype 01) and names the txid
    assert all(s + "01" in done["raw"] for s in sigs[0] + sigs[1])
    assert done["txid"] == txbuild.txid_of(done["raw"])
