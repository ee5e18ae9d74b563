"""Fee levels, balance and a UTXO proposal (bws/services/fees.py, balance.py,
proposals.py + proposals_utxo.py) against the fake explorer's UTXOs and fee
samples: totals, locked inputs of a published proposal, INSUFFICIENT_FUNDS."""

from __future__ import annotations

import pytest
import pytest_twisted

from bws.chains.txbuild import unsigned_raw
from bws.errors import ClientError
from bws.model import TxProposal
from tests.fakes import utxo

#: a livenet P2PKH address outside the wallet (the genesis coinbase's)
PAYEE = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"


async def funded_wallet(world, *amounts):
    """A 1-of-1 wallet with one address per amount, each holding one confirmed UTXO of it."""
    w = await world.create_wallet(1, 1)
    for i, sat in enumerate(amounts):
        a = await world.services.addresses.create_address(w.caller(), {"ignoreMaxGap": True})
        world.explorer.utxos.append(utxo(a["address"], sat, vout=i))
    return w


def proposal_signature(w, txp: dict) -> str:
    """What bwc sends to publish: the unsigned raw tx signed with the request key."""
    return w.copayers[0].sign(unsigned_raw(TxProposal.from_dict(txp)))


@pytest_twisted.ensureDeferred
async def test_fee_levels_come_from_the_estimator_and_are_cached_for_five_minutes(world):
    world.explorer.fee_samples = {3: 0.0002}
    fees = world.services.fees
    levels = {lv["level"]: lv for lv in await fees.get_fee_levels(None, {})}
    assert levels["normal"] == {"level": "normal", "feePerKb": 20_000, "nbBlocks": 3}
    assert levels["economy"]["nbBlocks"] is None  # no sample: the default, capped by the level above
    world.explorer.fee_samples = {3: 0.0005}
    world.clock.advance(299)
    assert {lv["level"]: lv["feePerKb"] for lv in await fees.get_fee_levels(None, {})}["normal"] == 20_000
    assert world.explorer.called("estimate_fee") == 1
    world.clock.advance(2)
    assert {lv["level"]: lv["feePerKb"] for lv in await fees.get_fee_levels(None, {})}["normal"] == 50_000
    assert world.explorer.called("estimate_fee") == 2


@pytest_twisted.ensureDeferred
async def test_evm_fee_levels_are_the_nodes_gas_prices_else_the_static_table(world):
    world.evm.fee_levels = [{"level": "normal", "feePerKb": 7 * 10**9, "nbBlocks": 3}]
    assert await world.services.fees.get_fee_levels(None, {"coin": "eth"}) == world.evm.fee_levels
    world.evm.fail["get_fee_levels"] = RuntimeError("node down")
    levels = {lv["level"]: lv["feePerKb"] for lv in await world.services.fees.get_fee_levels(None, {"coin": "eth"})}
    assert levels["normal"] == 5 * 10**9  # the reference's static table, never an error
    assert world.explorer.calls == []  # the btc explorer was not asked


@pytest_twisted.ensureDeferred
async def test_balance_totals_the_explorer_utxos_by_address(world):
    w = await funded_wallet(world, 100_000, 250_000)
    world.explorer.utxos[1]["confirmations"] = 0
    world.explorer.utxos.append(utxo(PAYEE, 999_999))  # not the wallet's: never counted
    bal = await world.services.balance.get_balance(w.caller(), {})
    assert bal["totalAmount"] == 350_000
    assert bal["totalConfirmedAmount"] == 100_000
    assert bal["lockedAmount"] == 0 and bal["availableAmount"] == 350_000
    assert sorted(b["amount"] for b in bal["byAddress"]) == [100_000, 250_000]


@pytest_twisted.ensureDeferred
async def test_create_and_publish_a_proposal_locks_its_inputs(world):
    world.explorer.fee_samples = {3: 0.0002}
    w = await funded_wallet(world, 1_000_000)
    world.broker.published.clear()
    txp = await world.services.proposals.create_tx(
        w.caller(), {"outputs": [{"toAddress": PAYEE, "amount": 300_000}], "feeLevel": "normal"}
    )
    assert txp["status"] == "temporary" and txp["feePerKb"] == 20_000
    assert [i["satoshis"] for i in txp["inputs"]] == [1_000_000]
    assert txp["changeAddress"]["path"] == "m/1/0"
    assert 0 < txp["fee"] < 20_000
    assert world.broker.published == []  # a temporary proposal is not announced
    assert (await world.services.balance.get_balance(w.caller(), {}))["lockedAmount"] == 0

    published = await world.services.proposals.publish_tx(
        w.caller(), {"txProposalId": txp["id"], "proposalSignature": proposal_signature(w, txp)}
    )
    assert published["status"] == "pending"
    assert world.broker.types() == ["NewTxProposal"]
    bal = await world.services.balance.get_balance(w.caller(), {})
    assert (bal["lockedAmount"], bal["availableAmount"]) == (1_000_000, 0)
    pending = await world.services.proposals.get_pending_txs(w.caller(), {})
    assert [p["id"] for p in pending] == [txp["id"]]


@pytest_twisted.ensureDeferred
async def test_publish_with_a_wrong_signature_changes_nothing(world):
    w = await funded_wallet(world, 1_000_000)
    txp = await world.services.proposals.create_tx(
        w.caller(), {"outputs": [{"toAddress": PAYEE, "amount": 300_000}], "feePerKb": 10_000}
    )
    other = w.copayers[0].random()
    bad = other.sign(unsigned_raw(TxProposal.from_dict(txp)))
    with pytest.raises(ClientError, match="Invalid proposal signature"):
        await world.services.proposals.publish_tx(w.caller(), {"txProposalId": txp["id"], "proposalSignature": bad})
    assert (await world.storage.proposals.fetch(w.id, txp["id"]))["status"] == "temporary"
    assert world.broker.types()[-1] != "NewTxProposal"


@pytest_twisted.ensureDeferred
async def test_more_than_the_wallet_holds_is_insufficient_funds(world):
    w = await funded_wallet(world, 100_000, 50_000)
    with pytest.raises(ClientError) as e:
        await world.services.proposals.create_tx(
            w.caller(), {"outputs": [{"toAddress": PAYEE, "amount": 150_001}], "feePerKb": 10_000}
        )
    assert e.value.code == "INSUFFICIENT_FUNDS"
    assert world.storage.proposals.txs == {}


@pytest_twisted.ensureDeferred
async def test_inputs_locked_by_a_pending_proposal_are_not_spent_twice(world):
    w = await funded_wallet(world, 1_000_000)
    opts = {"outputs": [{"toAddress": PAYEE, "amount": 300_000}], "feePerKb": 10_000}
    first = await world.services.proposals.create_tx(w.caller(), opts)
    await world.services.proposals.publish_tx(
        w.caller(), {"txProposalId": first["id"], "proposalSignature": proposal_signature(w, first)}
    )
    with pytest.raises(ClientError) as e:
        await world.services.proposals.create_tx(w.caller(), opts)
    assert e.value.code == "LOCKED_FUNDS"
