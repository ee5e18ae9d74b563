"""createTx / publishTx / sendMaxInfo against litecoind regtest (spec §4.9,
§4.10, §4.19, §6.7–§6.10, §6.13, §6.22; §12 cases 31–34, 36–43, 45, 46).
Wallets are funded by the node (unconfirmed, except where noted); no block
is mined here."""

from __future__ import annotations

import pytest
import pytest_twisted

from bws.chains.txbuild import build_tx
from bws.errors import ClientError, ServerError
from bws.model import TxProposal
from tests.helpers import db
from tests.helpers.fixtures import clock, make_service  # noqa: F401
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

LIVENET_ADDR = "1L3z9LPd861FWQhf3vDn89Fnc9dkdBo2CG"


async def wallet(service, m=1, n=1, **kw):
    keys = [CopayerKeys.random("testnet") for _ in range(n)]
    w = await create_and_join(service, m, n, network="testnet", copayers=keys, **kw)
    return w, [w.as_copayer(service, i) for i in range(n)], keys


async def err(coro) -> ClientError:
    with pytest.raises(ClientError) as ei:
        await coro
    return ei.value


async def level_rate(me, name: str) -> int:
    """Current rate of a level (regtest estimates appear once blocks with txs were mined)."""
    levels = await me.get_fee_levels({"coin": "btc", "network": "testnet"})
    return next(lv["feePerKb"] for lv in levels if lv["level"] == name)


def out(to, amount=1_000_000, **kw):
    return {"outputs": [{"toAddress": to, "amount": amount}], **kw}


# -- case 31 / 37 --------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_create_temporary_and_fresh_change(chain_service, litecoind):
    w, [me], keys = await wallet(chain_service)
    await fund(me, litecoind, "0.5")
    to = litecoind.new_address()
    t = await me.create_tx(out(to, 1_000_000, feePerKb=20000))
    assert t["status"] == "temporary" and t["amount"] == 1_000_000 and t["feePerKb"] == 20000
    assert "feeLevel" not in t and (t["walletM"], t["walletN"]) == (1, 1)
    assert (t["requiredSignatures"], t["requiredRejections"]) == (1, 1)
    assert await me.get_pending_txs({}) == []
    t2 = await me.create_tx(out(to, 1_000_000, feeLevel="economy"))
    assert t2["feeLevel"] == "economy" and t2["feePerKb"] == await level_rate(me, "economy")
    assert [t["changeAddress"]["path"], t2["changeAddress"]["path"]] == ["m/1/0", "m/1/1"]
    stored = [a for a in await chain_service.storage.addresses.fetch(w.id) if a["isChange"]]
    assert [a["path"] for a in stored] == ["m/1/0", "m/1/1"]
    wallet_doc = await chain_service.storage.wallets.fetch(w.id)
    assert wallet_doc["addressManager"]["changeAddressIndex"] == 2


# -- case 32 --------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_create_validation(chain_service, litecoind):
    w, [me], _ = await wallet(chain_service)
    to = litecoind.new_address()
    cases = [
        ({}, "BADREQUEST", "No outputs were specified"),
        ({"outputs": []}, "BADREQUEST", "No outputs were specified"),
        ({"outputs": [{"toAddress": to}]}, "BADREQUEST", "Argument missing in output #1."),
        (out("invalid"), "INVALID_ADDRESS", "Invalid address"),
        (out(LIVENET_ADDR), "INCORRECT_ADDRESS_NETWORK", "Incorrect address network"),
        (out(to, 0), "BADREQUEST", "Invalid amount"),
        (out(to, "12"), "BADREQUEST", "Invalid amount"),
        (out(to, 2000), "DUST_AMOUNT", "Amount below dust threshold"),
        (out(to, feeLevel="normal", feePerKb=1000), "BADREQUEST", "Only one of feeLevel/feePerKb/fee can be specified"),
        (out(to, feeLevel="madness"), "BADREQUEST",
         "Invalid fee level. Valid values are urgent, priority, normal, economy, superEconomy"),
        (out(to, feePerKb=10_000_001), "BADREQUEST", "Invalid fee per KB"),
        (out(to, fee=1000), "BADREQUEST", "fee can only be set when inputs are specified"),
        ({"outputs": [{"toAddress": to}, {"toAddress": to}], "sendMax": True}, "BADREQUEST",
         "Only one output allowed when sendMax is specified"),
        ({"outputs": [{"toAddress": to, "amount": 1}], "sendMax": True}, "BADREQUEST",
         "Amount is not allowed when sendMax is specified"),
        (out(to, utxosToExclude="x"), "BADREQUEST", "Invalid utxosToExclude"),
        (out(to, inputs=[{"txid": 1}]), "BADREQUEST", "Invalid inputs"),
    ]
    for opts, code, message in cases:
        e = await err(me.create_tx(opts))
        assert (e.code, e.message) == (code, message), opts
    assert db.find(chain_service.storage, "txs", {"walletId": w.id}, sort=[("createdOn", -1)]) == []


# -- case 33 ---------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_explicit_inputs_fee_and_change_address(chain_service, litecoind):
    w, [me], _ = await wallet(chain_service)
    a0, _ = await fund(me, litecoind, "0.5")
    a1, _ = await fund(me, litecoind, "0.7")
    to = litecoind.new_address()
    utxos = await me.get_utxos({})
    small = next(u for u in utxos if u["satoshis"] == 50_000_000)
    t = await me.create_tx(out(to, 10_000_000, inputs=[small], fee=12_345, changeAddress=a1["address"]))
    assert [i["txid"] for i in t["inputs"]] == [small["txid"]] and t["fee"] == 12_345 and "feePerKb" not in t
    assert t["changeAddress"]["address"] == a1["address"]
    built = build_tx(TxProposal.from_dict(t))
    change = [o.nValue for o in built.tx.vout if o.nValue != 10_000_000]
    assert change == [50_000_000 - 10_000_000 - 12_345]
    # case 37: an exact amount (inputs - fee) has no change output
    exact = await me.create_tx(out(to, 50_000_000 - 10_000, inputs=[small], fee=10_000))
    assert len(build_tx(TxProposal.from_dict(exact)).tx.vout) == 1
    # Q10: the user-supplied change address is not duplicated
    assert len([a for a in await chain_service.storage.addresses.fetch(w.id) if a["address"] == a1["address"]]) == 1
    e = await err(me.create_tx(out(to, 10_000_000, changeAddress=litecoind.new_address())))
    assert e.code == "INVALID_CHANGE_ADDRESS"


# -- case 34 / 35 / 36 ---------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_foreign_id_publish_and_failures(chain_service, litecoind):
    w, [a, b], keys = await wallet(chain_service, 1, 2)
    await fund(a, litecoind, "0.3")
    to = litecoind.new_address()
    t = await a.create_tx(out(to, 5_000_000, txProposalId="my-id-1"))
    assert t["id"] == "my-id-1"
    assert (await a.create_tx(out(to, 7_000_000, txProposalId="my-id-1")))["amount"] == 5_000_000
    dry = await a.create_tx(out(to, 5_000_000, dryRun=True))
    assert (await err(a.publish_tx({"txProposalId": dry["id"], "proposalSignature": "00"}))).code == "TX_NOT_FOUND"
    e = await err(a.publish_tx({"txProposalId": t["id"]}))
    assert e.message == "Required argument proposalSignature missing."
    for sig in ("garbage", proposal_signature(t, keys[1])):
        e = await err(a.publish_tx({"txProposalId": t["id"], "proposalSignature": sig}))
        assert (e.code, e.message) == ("BADREQUEST", "Invalid proposal signature")
    pub = await a.publish_tx({"txProposalId": t["id"], "proposalSignature": proposal_signature(t, keys[0])})
    assert pub["status"] == "pending" and pub["proposalSignature"]
    again = await a.create_tx(out(to, 7_000_000, txProposalId="my-id-1"))
    assert again["status"] == "pending" and len(db.find(chain_service.storage, "txs", {"walletId": w.id}, sort=[("createdOn", -1)])) == 1
    # idempotent publish
    assert (await b.publish_tx({"txProposalId": t["id"], "proposalSignature": "x"}))["status"] == "pending"
    [n] = await notifications(chain_service, w.id, {"NewTxProposal"})
    assert n["data"]["txProposalId"] == t["id"] and n["creatorId"] == w.copayer_ids[0]


@pytest_twisted.ensureDeferred
async def test_unavailable_utxos_locked_and_spent(chain_service, litecoind):
    w, [me], [k] = await wallet(chain_service)
    await fund(me, litecoind, "0.3")
    to = litecoind.new_address()
    t1 = await me.create_tx(out(to, 1_000_000))
    t2 = await me.create_tx(out(to, 2_000_000))
    t3 = await me.create_tx(out(to, 3_000_000))
    await me.publish_tx({"txProposalId": t1["id"], "proposalSignature": proposal_signature(t1, k)})
    e = await err(me.publish_tx({"txProposalId": t2["id"], "proposalSignature": proposal_signature(t2, k)}))
    assert e.code == "UNAVAILABLE_UTXOS"
    # case 38: the only UTXO is locked -> LOCKED_FUNDS (INSUFFICIENT_FUNDS beyond the total)
    assert (await err(me.create_tx(out(to, 1_000_000)))).code == "LOCKED_FUNDS"
    assert (await err(me.create_tx(out(to, 40_000_000)))).code == "INSUFFICIENT_FUNDS"
    await me.sign_tx({"txProposalId": t1["id"], "signatures": sign_txp(t1, k)})
    await me.broadcast_tx({"txProposalId": t1["id"]})
    # spent by a broadcast proposal (and not reused by selection, case 43)
    e = await err(me.publish_tx({"txProposalId": t3["id"], "proposalSignature": proposal_signature(t3, k)}))
    assert e.code == "UNAVAILABLE_UTXOS"


# -- case 38 (error propagation) -----------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_create_error_propagation(storage):
    ex = FakeExplorer(fail={"get_utxos": explorer_error("dummy error")})
    service = make_service(storage, {("btc", "testnet"): ex})
    w, [me], _ = await wallet(service)
    a = await me.create_address({})
    with pytest.raises(ServerError) as ei:
        await me.create_tx(out(a["address"], 10_000))
    assert ei.value.to_body() == {"error": "dummy error"}
    # many tiny UTXOs: the selection exceeds the maximum size
    ex.fail.clear()
    ex.utxos = [{"txid": f"{i:064x}", "vout": 0, "address": a["address"], "scriptPubKey": "76a914" + "00" * 20 + "88ac",
                 "satoshis": 20_000, "confirmations": 10} for i in range(1000)]
    e = await err(me.create_tx(out(a["address"], 19_000_000, feePerKb=1000)))
    assert e.code == "TX_MAX_SIZE_EXCEEDED"


# -- case 39 / 40 -----------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_dust_change_folded_and_send_max(chain_service, litecoind):
    w, [me], _ = await wallet(chain_service)
    await fund(me, litecoind, "1.0")
    to = litecoind.new_address()
    t = await me.create_tx(out(to, 100_000_000 - 4100, feePerKb=10_000))
    assert t["fee"] == 4100 and len(build_tx(TxProposal.from_dict(t)).tx.vout) == 1

    info = await me.get_send_max_info({"feePerKb": 10_000, "returnInputs": True})
    assert info["amount"] == 100_000_000 - info["fee"] and info["size"] > 0 and len(info["inputs"]) == 1
    sm = await me.create_tx({"outputs": [{"toAddress": to}], "sendMax": True, "feePerKb": 10_000,
                             "noShuffleOutputs": True})
    assert sm["amount"] == info["amount"] and sm["fee"] == info["fee"] and "changeAddress" not in sm
    assert sm["outputOrder"] == [0, 1] and len(build_tx(TxProposal.from_dict(sm)).tx.vout) == 1
    e = await err(me.create_tx({"outputs": [{"toAddress": to}], "sendMax": True, "fee": 1000}))
    assert e.message == "fee can only be set when inputs are specified"  # checked first (§6.9 order)
    utxos = await me.get_utxos({})
    e = await err(me.create_tx({"outputs": [{"toAddress": to}], "sendMax": True, "fee": 1000, "inputs": utxos}))
    assert e.message == "Fee is not allowed when sendMax is specified (use feeLevel/feePerKb instead)"
    # Q11: sendMax + feeLevel uses the requested level for the amount too
    smx = await me.create_tx({"outputs": [{"toAddress": to}], "sendMax": True, "feeLevel": "economy"})
    assert smx["feePerKb"] == await level_rate(me, "economy") and smx["amount"] + smx["fee"] == 100_000_000


# -- case 41 -------------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_backoff_after_rejections(chain_service, litecoind):
    w, [me], _ = await wallet(chain_service)
    to = litecoind.new_address()
    now = me.now_s()
    for i in range(11):
        t = TxProposal.create(w.id, "btc", "testnet", 1, 1, outputs=[{"toAddress": to, "amount": 10_000}],
                              creatorId=w.copayer_ids[0], now=now - 100 + i)
        t.status = "rejected"
        await chain_service.storage.proposals.store(t.to_dict(for_storage=True))
    assert (await err(me.create_tx(out(to)))).code == "TX_CANNOT_CREATE"
    # once BACKOFF_TIME passed since the newest rejection, creation is allowed again
    for doc in db.find(chain_service.storage, "txs", {"walletId": w.id}, sort=[("createdOn", -1)]):
        doc["createdOn"] -= 601
        await chain_service.storage.proposals.store(doc)
    assert (await err(me.create_tx(out(to)))).code == "INSUFFICIENT_FUNDS"


# -- case 42 -------------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_selection_options(chain_service, litecoind):
    w, [me], _ = await wallet(chain_service)
    await fund(me, litecoind, "0.2")
    await fund(me, litecoind, "0.05")
    to = litecoind.new_address()
    e = await err(me.create_tx(out(to, 1_000_000, excludeUnconfirmedUtxos=True)))
    assert e.code == "INSUFFICIENT_FUNDS"
    utxos = await me.get_utxos({})
    big = next(u for u in utxos if u["satoshis"] == 20_000_000)
    small = next(u for u in utxos if u["satoshis"] == 5_000_000)
    # a single small-enough UTXO is preferred
    t = await me.create_tx(out(to, 1_000_000))
    assert [i["txid"] for i in t["inputs"]] == [small["txid"]]
    t = await me.create_tx(out(to, 1_000_000, utxosToExclude=[f"{small['txid']}:{small['vout']}"]))
    assert [i["txid"] for i in t["inputs"]] == [big["txid"]]
    t = await me.create_tx(out(to, 22_000_000))
    assert sorted(i["satoshis"] for i in t["inputs"]) == [5_000_000, 20_000_000]


# -- case 45 -------------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_single_address_change(chain_service, litecoind):
    w, [me], _ = await wallet(chain_service, single_address=True)
    addr, _ = await fund(me, litecoind, "0.1", address=await me.create_address({}))
    to = litecoind.new_address()
    t = await me.create_tx(out(to, 1_000_000))
    assert t["changeAddress"]["address"] == addr["address"]
    assert len(await chain_service.storage.addresses.fetch(w.id)) == 1
    e = await err(me.create_tx(out(to, 1_000_000, changeAddress=addr["address"])))
    assert e.message == "Cannot specify change address on single-address wallet"


# -- case 46 -------------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_send_max_info(chain_service, litecoind):
    w, [me], [k] = await wallet(chain_service)
    zero = await me.get_send_max_info({})
    assert zero == {"size": 0, "amount": 0, "fee": 0, "feePerKb": 0, "inputs": [], "utxosBelowFee": 0,
                    "amountBelowFee": 0, "utxosAboveMaxSize": 0, "amountAboveMaxSize": 0}
    await fund(me, litecoind, "0.1")
    await fund(me, litecoind, "0.2")
    await fund(me, litecoind, "0.001")  # 100 000 sat: below the per-input fee (147 000) at 1 000 000 sat/kB
    info = await me.get_send_max_info({"feePerKb": 1_000_000})
    # P2PKH: (26 + 147*2 + 34*2) * 1.02 = 395.76 -> 396 bytes
    assert (info["size"], info["fee"], info["amount"]) == (396, 396_000, 30_000_000 - 396_000)
    assert (info["utxosBelowFee"], info["amountBelowFee"], info["inputs"]) == (1, 100_000, [])
    assert (await me.get_send_max_info({}))["feePerKb"] == await level_rate(me, "normal")  # default level
    e = await err(me.get_send_max_info({"feeLevel": "normal", "feePerKb": 1000}))
    assert e.message == "Only one of feeLevel/feePerKb can be specified"
    assert (await err(me.get_send_max_info({"feeLevel": "x"}))).message.startswith("Invalid fee level")
    # locked inputs are excluded; unconfirmed ones too when asked
    to = litecoind.new_address()
    t = await me.create_tx(out(to, 15_000_000, feePerKb=10_000))
    await me.publish_tx({"txProposalId": t["id"], "proposalSignature": proposal_signature(t, k)})
    info = await me.get_send_max_info({"feePerKb": 1_000_000, "returnInputs": True})
    assert [i["satoshis"] for i in info["inputs"]] == [10_000_000]
    assert (await me.get_send_max_info({"excludeUnconfirmedUtxos": True}))["amount"] == 0
