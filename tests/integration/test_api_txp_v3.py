"""The proposal routes of bitcore-wallet-client 10.x / 11.x over HTTP with our own
signed client, on litecoind regtest (docs/spec/protocol-bwc11.md §3.3):
``POST /v3/txproposals/`` (the new request fields: accepted when they do not
change the meaning, else 400 naming them), ``GET /v2/txproposals/``,
``POST /v2/txproposals/:id/{publish,signatures}/``,
``GET /v1/txproposalsbyhash/:txid/`` (scoped to the caller's wallet, unlike
upstream §9) and ``GET /v1/txcoins/``.  Mines 1 block."""

from __future__ import annotations

import pytest
import pytest_twisted

from tests.helpers.fixtures import api  # noqa: F401
from tests.helpers.keys import CopayerKeys
from tests.helpers.proposals import (  # noqa: F401
    chain_service,
    eventually,
    module_watch_wallet,
    node_explorer,
    notifications,
    proposal_signature,
    sign_txp,
)
from tests.helpers.wallets import create_and_join

pytestmark = pytest.mark.timeout(180)

#: what 11.5.2's createTxProposal sends besides the outputs (api.ts _getCreateTxProposalArgs)
CLIENT_NULLS = {"payProUrl": None, "isTokenSwap": None, "replaceTxByFee": None, "message": None}


@pytest.fixture
def service(chain_service):  # the `api` fixture serves this one
    return chain_service


async def _funded(api, litecoind, m=1, n=1, btc="1.0"):
    keys = [CopayerKeys.random("testnet") for _ in range(n)]
    w = await create_and_join(api.service, m, n, network="testnet", copayers=keys)
    c = api.client
    addr = (await c.post("/v4/addresses/", {}, keys[0])).json
    txid = litecoind.fund(addr["address"], btc)
    sat = int(round(float(btc) * 1e8))
    await eventually(lambda: c.get("/v1/balance/", keys[0]), lambda r: r.json["totalAmount"] == sat)
    return w, keys, addr, txid


@pytest_twisted.ensureDeferred
async def test_v3_create_refuses_what_it_does_not_implement(api, litecoind):
    w, (k,), _, _ = await _funded(api, litecoind)
    c = api.client
    to = litecoind.new_address()
    base = {"outputs": [{"toAddress": to, "amount": 10_000, "message": None}], "feePerKb": 10_000}
    refused = [
        ({"enableRBF": "true"}, "BADREQUEST", "enableRBF"),  # must be a boolean (true is supported)
        ({"replaceTxByFee": True}, "BADREQUEST", "replaceTxByFee"),
        ({"isTokenSwap": True}, "BADREQUEST", "isTokenSwap"),
        ({"tokenAddress": "0xabc"}, "BADREQUEST", "tokenAddress"),
        ({"multiSendContractAddress": "0xabc"}, "BADREQUEST", "multiSendContractAddress"),
        ({"instantAcceptanceEscrow": 1000}, "BADREQUEST", "instantAcceptanceEscrow"),
        ({"signingMethod": "schnorr"}, "WRONG_SIGNING_METHOD", "signingMethod"),
        ({"txpVersion": 4}, "BADREQUEST", "txpVersion"),
        ({"chain": "bch"}, "BADREQUEST", "chain"),
        ({"chain": 5}, "BADREQUEST", "chain"),
    ]
    for extra, code, word in refused:
        r = await c.post("/v3/txproposals/", {**base, **CLIENT_NULLS, **extra}, k)
        assert r.status == 400, (extra, r.text)
        assert r.json["code"] == code and word in r.json["message"], (extra, r.json)
    r = await c.post("/v3/txproposals/?numberFormat=hex", {**base, **CLIENT_NULLS}, k)
    assert r.status == 400 and "numberFormat" in r.json["message"]
    r = await c.post("/v3/txproposals/?numberFormat=octal", {**base, **CLIENT_NULLS}, k)
    assert (r.status, r.json["code"]) == (400, "INVALID_NUMBER_FORMAT")
    # nothing was created by the refusals
    assert await api.service.storage.proposals.fetch_last(w.id, w.copayer_ids[0]) == []

    # the defaults are accepted: nulls, false, ecdsa, version 3, the wallet's chain, a BigInt amount as text
    ok = {**CLIENT_NULLS, "enableRBF": False, "signingMethod": "ecdsa", "txpVersion": 3, "chain": "BTC",
          "tokenAddress": None, "multiSendContractAddress": None, "instantAcceptanceEscrow": None,
          "noShuffleOutputs": True, "outputs": [{"toAddress": to, "amount": "10000", "message": None}],
          "feePerKb": 10_000}
    r = await c.post("/v3/txproposals/?numberFormat=number", ok, k)
    assert r.status == 200, r.text
    txp = r.json
    assert txp["version"] == 3 and txp["status"] == "temporary" and txp["outputs"][0]["amount"] == 10_000
    assert not txp.get("payProUrl") and not txp.get("message")
    assert "enableRBF" not in txp or not txp["enableRBF"]


@pytest_twisted.ensureDeferred
async def test_v3_insufficient_funds_is_a_client_error_without_a_trace(api, litecoind):
    w, (k,), _, _ = await _funded(api, litecoind, btc="0.001")
    to = litecoind.new_address()
    r = await api.client.post("/v3/txproposals/", {"outputs": [{"toAddress": to, "amount": 10**9}],
                                                   **CLIENT_NULLS}, k)
    assert r.status == 400 and r.json["code"] == "INSUFFICIENT_FUNDS", r.text
    assert await api.service.storage.proposals.fetch_last(w.id, w.copayer_ids[0]) == []
    # the change address a failed create derived is not kept
    assert [a["path"] for a in (await api.client.get("/v2/addresses", k)).json] == ["m/0/0"]


@pytest_twisted.ensureDeferred
async def test_v2_lifecycle_by_hash_and_coins(api, litecoind):
    w, keys, addr, fund_txid = await _funded(api, litecoind, 2, 2)
    a, b = keys
    c = api.client
    to = litecoind.new_address()
    r = await c.post("/v3/txproposals/", {"outputs": [{"toAddress": to, "amount": 20_000_000, "message": None}],
                                          "feePerKb": 10_000, **CLIENT_NULLS}, a)
    assert r.status == 200, r.text
    txp = r.json
    assert (await c.get("/v2/txproposals/", a)).json == []

    r = await c.post(f"/v2/txproposals/{txp['id']}/publish/", {"proposalSignature": "00"}, a)
    assert r.status == 400 and "Invalid proposal signature" in r.json["message"]
    r = await c.post(f"/v2/txproposals/{txp['id']}/publish/", {"proposalSignature": proposal_signature(txp, a)}, a)
    assert r.status == 200 and r.json["status"] == "pending", r.text
    r = await c.post("/v2/txproposals/nope/publish/", {"proposalSignature": proposal_signature(txp, a)}, a)
    assert (r.status, r.json["code"]) == (400, "TX_NOT_FOUND")
    [pending] = (await c.get("/v2/txproposals/", b)).json
    assert pending["id"] == txp["id"] and pending["creatorName"] == "copayer 1"
    r = await c.get("/v2/txproposals/?numberFormat=string", b)
    assert r.status == 400 and "numberFormat" in r.json["message"]

    r = await c.post(f"/v2/txproposals/{txp['id']}/signatures/", {"signatures": ["3044"]}, b)
    assert (r.status, r.json["code"]) == (400, "BAD_SIGNATURES")
    r = await c.post(f"/v2/txproposals/{txp['id']}/signatures/", {"signatures": sign_txp(txp, b)}, b)
    assert r.status == 200 and r.json["status"] == "pending", r.text
    r = await c.post(f"/v2/txproposals/{txp['id']}/signatures/", {"signatures": sign_txp(txp, b)}, b)
    assert (r.status, r.json["code"]) == (400, "COPAYER_VOTED")
    r = await c.post(f"/v2/txproposals/{txp['id']}/signatures/", {"signatures": sign_txp(txp, a)}, a)
    assert r.status == 200 and r.json["status"] == "accepted" and r.json["txid"], r.text
    txid = r.json["txid"]

    # by hash: not before the broadcast is known? The txid is set once accepted (as upstream's fetchTxByHash)
    r = await c.post(f"/v1/txproposals/{txp['id']}/broadcast/", {}, a)
    assert r.status == 200 and r.json["status"] == "broadcasted", r.text
    assert (await c.put(f"/v1/txnotes/{txid}/", {"body": "rent"}, b)).status == 200
    r = await c.get(f"/v1/txproposalsbyhash/{txid}/", a)
    assert r.status == 200, r.text
    assert r.json["id"] == txp["id"] and r.json["txid"] == txid and r.json["note"]["body"] == "rent"
    assert r.json["creatorName"] == "copayer 1"
    r = await c.get(f"/v1/txproposalsbyhash/{txid.upper()}", b)
    assert r.status == 200 and r.json["id"] == txp["id"]
    # another wallet's copayer cannot read it (upstream can, §9)
    other, (ko,), _, _ = await _funded(api, litecoind, btc="0.01")
    r = await c.get(f"/v1/txproposalsbyhash/{txid}/", ko)
    assert (r.status, r.json["code"]) == (400, "TX_NOT_FOUND")
    r = await c.get(f"/v1/txproposalsbyhash/{fund_txid}/", a)  # a real tx, but no proposal of the wallet
    assert (r.status, r.json["code"]) == (400, "TX_NOT_FOUND")
    r = await c.get("/v1/txproposalsbyhash/xyz/", a)
    assert (r.status, r.json["code"]) == (400, "BADREQUEST") and "txid" in r.json["message"]

    # coins of the spend: its input is the funding output, its outputs the payment and the change
    litecoind.mine(1)
    r = await c.get(f"/v1/txcoins/?coin=btc&network=testnet&txId={txid}", a)
    assert r.status == 200, r.text
    coins = r.json
    [inp] = coins["inputs"]
    assert inp["mintTxid"] == fund_txid and inp["spentTxid"] == txid and inp["address"] == addr["address"]
    assert inp["value"] == 100_000_000
    outs = {o["address"]: o for o in coins["outputs"]}
    assert outs[to]["value"] == 20_000_000 and outs[to]["mintTxid"] == txid and outs[to]["mintHeight"] > 0
    change = txp["changeAddress"]["address"]
    assert outs[change]["value"] == 100_000_000 - 20_000_000 - txp["fee"]
    assert sorted(o["mintIndex"] for o in coins["outputs"]) == [0, 1]
    bad = [
        ("coin=bch&network=testnet&txId=" + txid, "coin"),
        ("chain=eth&network=testnet&txId=" + txid, "chain"),
        ("coin=btc&network=livenet&txId=" + txid, "network"),
        ("coin=btc&network=testnet", "txId"),
        ("coin=btc&network=testnet&txId=zz", "txid"),
    ]
    for q, word in bad:
        r = await c.get(f"/v1/txcoins/?{q}", a)
        assert r.status == 400 and word in r.json["message"], (q, r.text)
    r = await c.get(f"/v1/txcoins/?txId={'ab' * 32}", a)
    assert (r.status, r.json["code"]) == (400, "TX_NOT_FOUND")

    types = [n["type"] for n in await notifications(api.service, w.id, None) if "Tx" in n["type"]]
    assert types[:4] == ["NewTxProposal", "TxProposalAcceptedBy", "TxProposalAcceptedBy", "TxProposalFinallyAccepted"]
