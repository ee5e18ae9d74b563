"""End-to-end spends on litecoind regtest (spec §4.9–§4.15, §4.22, §6.9–§6.11,
§6.14; §12 cases 18, 35, 48, 50, 52, 55, 57): a 1-of-1 wallet over HTTP with
Python-signed requests and a 2-of-3 P2SH wallet through the service, both
funded by the node, signed in Python, broadcast to the node, mined, and seen
as ``sent`` in the history with the balance down by amount + fee.
Mines 2 blocks."""

from __future__ import annotations

import pytest
import pytest_twisted

from bws.errors import ClientError
from tests.helpers.fixtures import api, make_service  # noqa: F401
from tests.helpers.keys import CopayerKeys
from tests.helpers.wallets import create_and_join
from tests.helpers.proposals import (  # noqa: F401
    chain_service,
    eventually,
    fund,
    module_watch_wallet,
    node_explorer,
    notifications,
    proposal_signature,
    sign_txp,
)

pytestmark = pytest.mark.timeout(180)

TYPES = {
    "NewTxProposal",
    "TxProposalAcceptedBy",
    "TxProposalFinallyAccepted",
    "TxProposalRejectedBy",
    "TxProposalFinallyRejected",
    "NewOutgoingTx",
    "NewOutgoingTxByThirdParty",
}


@pytest.fixture
def service(chain_service):  # the `api` fixture serves this one
    return chain_service


@pytest_twisted.ensureDeferred
async def test_1of1_send_over_http(api, litecoind):
    service = api.service
    w = await create_and_join(service, 1, 1, network="testnet")
    k = w.copayers[0]
    c = api.client

    r = await c.post("/v3/addresses/", {}, k)
    assert r.status == 200, r.text
    addr = r.json
    litecoind.fund(addr["address"], "1.0")
    bal = await eventually(lambda: c.get("/v1/balance/?r=1", k), lambda r: r.json["totalAmount"] == 100_000_000)
    assert bal.json["totalAmount"] == 100_000_000

    levels = (await c.get("/v2/feelevels/?coin=btc&network=testnet")).json
    assert [lv["level"] for lv in levels] == ["urgent", "priority", "normal", "economy", "superEconomy"]

    to = litecoind.new_address()
    body = {"outputs": [{"toAddress": to, "amount": 30_000_000, "message": None}], "feePerKb": 10000,
            "message": "rent", "customData": {"x": 1}}
    dry = await c.post("/v2/txproposals/", {**body, "dryRun": True}, k)
    assert dry.status == 200, dry.text
    assert dry.json["status"] == "temporary" and dry.json["changeAddress"]["path"] == "m/1/0"
    assert await service.storage.proposals.fetch(w.id, dry.json["id"]) is None
    assert len(await service.storage.addresses.fetch(w.id)) == 1  # dry run stored no change address

    r = await c.post("/v2/txproposals/", body, k)
    assert r.status == 200, r.text
    txp = r.json
    assert txp["changeAddress"]["path"] == "m/1/0" and txp["fee"] == 2430 and "feeLevel" not in txp
    assert txp["feePerKb"] == 10000 and txp["customData"] == {"x": 1} and txp["message"] == "rent"
    assert (await c.get("/v1/txproposals/?r=2", k)).json == []
    assert not await notifications(service, w.id, {"NewTxProposal"})

    r = await c.post(f"/v1/txproposals/{txp['id']}/publish/", {"proposalSignature": proposal_signature(txp, k)}, k)
    assert r.status == 200 and r.json["status"] == "pending", r.text
    [n] = await notifications(service, w.id, {"NewTxProposal"})
    assert n["data"] == {"txProposalId": txp["id"], "creatorId": w.copayer_ids[0], "amount": 30_000_000,
                         "message": "rent"}
    # case 18: the published proposal locks its inputs
    bal = (await c.get("/v1/balance/?r=3", k)).json
    assert bal["lockedAmount"] == sum(i["satoshis"] for i in txp["inputs"]) == 100_000_000
    assert bal["availableAmount"] == 0

    r = await c.post(f"/v1/txproposals/{txp['id']}/signatures/", {"signatures": sign_txp(txp, k)}, k)
    assert r.status == 200, r.text
    signed = r.json
    assert signed["status"] == "accepted" and signed["txid"] and signed["raw"]
    sig0 = signed["actions"][0]["signatures"][0]
    assert sig0 in signed["raw"]
    [pending] = (await c.get("/v1/txproposals/?r=4", k)).json
    assert pending["raw"] == signed["raw"] and pending["deleteLockTime"] == 0
    assert pending["creatorName"] == "copayer 1" and pending["actions"][0]["copayerName"] == "copayer 1"

    r = await c.post(f"/v1/txproposals/{txp['id']}/broadcast/", {}, k)
    assert r.status == 200, r.text
    done = r.json
    assert done["status"] == "broadcasted" and isinstance(done["broadcastedOn"], int)
    assert done["txid"] == signed["txid"]
    assert signed["txid"] in litecoind.rpc("getrawmempool")
    again = await c.post(f"/v1/txproposals/{txp['id']}/broadcast/", {}, k)
    assert (again.status, again.json["code"]) == (400, "TX_ALREADY_BROADCASTED")
    assert (await c.put(f"/v1/txnotes/{done['txid']}/", {"body": "paid"}, k)).status == 200

    litecoind.mine(1)

    async def history():
        return (await c.get("/v1/txhistory/?skip=0&limit=10", k)).json

    items = await eventually(history, lambda h: any(i["txid"] == done["txid"] and i["confirmations"] >= 1 for i in h))
    item = next(i for i in items if i["txid"] == done["txid"])
    assert item["action"] == "sent" and item["amount"] == 30_000_000 and item["fees"] == 2430
    assert item["confirmations"] >= 1 and item["addressTo"] == to
    assert item["proposalId"] == txp["id"] and item["message"] == "rent" and item["customData"] == {"x": 1}
    assert item["note"]["body"] == "paid" and item["note"]["editedByName"] == "copayer 1"
    assert item["actions"][0]["copayerName"] == "copayer 1" and item["actions"][0]["type"] == "accept"
    outs = {o["address"]: o for o in item["outputs"]}
    assert outs[to]["isMine"] is False and outs[txp["changeAddress"]["address"]]["isMine"] is True
    received = next(i for i in items if i["txid"] != done["txid"])
    assert received["action"] == "received" and received["amount"] == 100_000_000

    bal = await eventually(lambda: c.get("/v1/balance/?r=5", k), lambda r: r.json["totalConfirmedAmount"] > 0)
    assert bal.json["totalAmount"] == 100_000_000 - 30_000_000 - 2430
    assert bal.json["lockedAmount"] == 0

    got = (await c.get(f"/v1/txproposals/{txp['id']}", k)).json
    assert got["note"]["body"] == "paid" and got["status"] == "broadcasted"
    types = [n["type"] for n in await notifications(service, w.id, TYPES)]
    assert types == ["NewTxProposal", "TxProposalAcceptedBy", "TxProposalFinallyAccepted", "NewOutgoingTx"]


@pytest_twisted.ensureDeferred
async def test_2of3_p2sh_two_signers(chain_service, litecoind):
    service = chain_service
    keys = [CopayerKeys.random("testnet") for _ in range(3)]
    w = await create_and_join(service, 2, 3, network="testnet", copayers=keys)
    a, b, c = (w.as_copayer(service, i) for i in range(3))
    addr, _ = await fund(a, litecoind, "1.0")
    assert addr["type"] == "P2SH"

    to = litecoind.new_address()
    txp = await a.create_tx({"outputs": [{"toAddress": to, "amount": 40_000_000}], "message": "m"})
    # case 37: default level normal, echoed with its rate
    levels = await a.get_fee_levels({"coin": "btc", "network": "testnet"})
    assert txp["feeLevel"] == "normal" and txp["feePerKb"] == levels[2]["feePerKb"]
    assert txp["requiredSignatures"] == 2 and txp["requiredRejections"] == 2
    assert (txp["walletM"], txp["walletN"], txp["addressType"]) == (2, 3, "P2SH")
    await a.publish_tx({"txProposalId": txp["id"], "proposalSignature": proposal_signature(txp, keys[0])})

    # case 52: pending after the first signature, accepted after the second
    t1 = await b.sign_tx({"txProposalId": txp["id"], "signatures": sign_txp(txp, keys[1])})
    assert t1["status"] == "pending" and "raw" not in t1
    t2 = await a.sign_tx({"txProposalId": txp["id"], "signatures": sign_txp(txp, keys[0])})
    assert t2["status"] == "accepted" and t2["txid"]
    finals = await notifications(service, w.id, {"TxProposalFinallyAccepted"})
    assert [n["creatorId"] for n in finals] == [w.copayer_ids[0]]
    # Q24: a third signature on an accepted 2-of-3 is refused; it can no longer be rejected
    with pytest.raises(ClientError) as ei:
        await c.sign_tx({"txProposalId": txp["id"], "signatures": sign_txp(txp, keys[2])})
    assert ei.value.code == "BAD_SIGNATURES"
    with pytest.raises(ClientError) as ei:
        await c.reject_tx({"txProposalId": txp["id"]})
    assert ei.value.code == "TX_NOT_PENDING"

    with pytest.raises(ClientError) as ei:
        await b.broadcast_tx({"txProposalId": "nope"})
    assert ei.value.code == "TX_NOT_FOUND"
    done = await c.broadcast_tx({"txProposalId": txp["id"]})
    assert done["status"] == "broadcasted" and done["txid"] == t2["txid"]
    litecoind.mine(1)

    items = await eventually(lambda: b.get_tx_history({}),
                             lambda h: any(i["txid"] == done["txid"] and i["confirmations"] >= 1 for i in h))
    item = next(i for i in items if i["txid"] == done["txid"])
    assert item["action"] == "sent" and item["amount"] == 40_000_000 and item["fees"] == txp["fee"]
    assert [x["copayerName"] for x in item["actions"]] == ["copayer 2", "copayer 1"]
    bal = await eventually(lambda: c.get_balance({}), lambda x: x["totalConfirmedAmount"] > 0)
    assert bal["totalAmount"] == 100_000_000 - 40_000_000 - txp["fee"]
    types = [n["type"] for n in await notifications(service, w.id, TYPES)]
    assert types == ["NewTxProposal", "TxProposalAcceptedBy", "TxProposalAcceptedBy",
                     "TxProposalFinallyAccepted", "NewOutgoingTx"]
