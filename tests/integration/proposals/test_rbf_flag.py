"""``enableRBF`` on proposals (issue 18, first slice; docs/spec/protocol-bwc11.md
§7.1 step 3, §7.5): accepted on ``POST /v3/txproposals/`` and
``POST /v2/txproposals/`` when a boolean (else 400 naming it), stored and
answered as ``enableRBF``, and every input of the unsigned serialisation --
what ``proposalSignature`` signs -- and of the broadcast transaction has
nSequence 0xfffffffd (BIP125 signalling) instead of 0xffffffff.
``replaceTxByFee: true`` stays a 400 naming it.  Over HTTP with our signed
client on litecoind regtest.  Mines 1 block."""

from __future__ import annotations

import pytest
import pytest_twisted
from bitcoin.core import CTransaction

from bws.chains.txbuild import unsigned_raw
from bws.model import TxProposal
from tests.helpers.fixtures import api  # noqa: F401
from tests.helpers.keys import CopayerKeys
from tests.helpers.proposals import (  # noqa: F401
    chain_service,
    eventually,
    module_watch_wallet,
    node_explorer,
    proposal_signature,
    sign_txp,
)
from tests.helpers.wallets import create_and_join

pytestmark = pytest.mark.timeout(180)

#: what 11.5.2's createTxProposal sends besides the outputs (api.ts _getCreateTxProposalArgs)
CLIENT_NULLS = {"payProUrl": None, "isTokenSwap": None, "replaceTxByFee": None, "message": None}
RBF = 0xFFFFFFFD
FINAL = 0xFFFFFFFF


@pytest.fixture
def service(chain_service):  # the `api` fixture serves this one
    return chain_service


async def _funded(api, litecoind, m=1, n=1, fundings=("0.3", "0.3")):
    """A wallet funded by one node payment per ``fundings`` entry (so a
    proposal can spend several inputs)."""
    keys = [CopayerKeys.random("testnet") for _ in range(n)]
    w = await create_and_join(api.service, m, n, network="testnet", copayers=keys)
    c = api.client
    addr = (await c.post("/v4/addresses/", {}, keys[0])).json
    total = 0
    for btc in fundings:
        litecoind.fund(addr["address"], btc)
        total += int(round(float(btc) * 1e8))
    await eventually(lambda: c.get("/v1/balance/", keys[0]), lambda r: r.json["totalAmount"] == total)
    return w, keys, addr


def _sequences(raw_hex: str) -> list[int]:
    return [i.nSequence for i in CTransaction.deserialize(bytes.fromhex(raw_hex)).vin]


@pytest_twisted.ensureDeferred
async def test_v3_enable_rbf_stored_signalled_and_broadcast(api, litecoind):
    w, (a, b), _ = await _funded(api, litecoind, 2, 2)
    c = api.client
    to = litecoind.new_address()
    # 0.5 BTC out of two 0.3 BTC inputs: both are spent
    body = {"outputs": [{"toAddress": to, "amount": "50000000", "message": None}], "feePerKb": 10_000,
            "enableRBF": True, "txpVersion": 3, "chain": "BTC", **CLIENT_NULLS}
    r = await c.post("/v3/txproposals/", body, a)
    assert r.status == 200, r.text
    txp = r.json
    assert txp["enableRBF"] is True and len(txp["inputs"]) == 2
    stored = await api.service.storage.proposals.fetch(w.id, txp["id"])
    assert stored["enableRBF"] is True

    # the unsigned serialisation the proposal signature covers signals on every input
    raw = unsigned_raw(TxProposal.from_dict(txp))
    assert _sequences(raw) == [RBF, RBF]
    # a signature over the ffffffff form is refused: the server checks it over the signalling bytes
    plain = TxProposal.from_dict({**txp, "enableRBF": False})
    r = await c.post(f"/v2/txproposals/{txp['id']}/publish/",
                     {"proposalSignature": a.sign(unsigned_raw(plain))}, a)
    assert r.status == 400 and "Invalid proposal signature" in r.json["message"], r.text
    r = await c.post(f"/v2/txproposals/{txp['id']}/publish/", {"proposalSignature": proposal_signature(txp, a)}, a)
    assert r.status == 200 and r.json["status"] == "pending" and r.json["enableRBF"] is True, r.text
    [pending] = (await c.get("/v2/txproposals/", b)).json
    assert pending["enableRBF"] is True

    for k, status in ((b, "pending"), (a, "accepted")):
        r = await c.post(f"/v2/txproposals/{txp['id']}/signatures/", {"signatures": sign_txp(txp, k)}, k)
        assert r.status == 200 and r.json["status"] == status, r.text
    txid = r.json["txid"]
    r = await c.post(f"/v1/txproposals/{txp['id']}/broadcast/", {}, a)
    assert r.status == 200 and r.json["status"] == "broadcasted", r.text

    # the node accepted the signed tx; it signals BIP125 on every input
    node_tx = litecoind.rpc("getrawtransaction", txid, True)
    assert [v["sequence"] for v in node_tx["vin"]] == [RBF, RBF]
    entry = litecoind.rpc("getmempoolentry", txid)
    assert entry.get("bip125-replaceable") is True
    litecoind.mine(1)
    r = await eventually(lambda: c.get("/v1/txhistory/", a),
                         lambda r: any(t["txid"] == txid and t.get("confirmations", 0) >= 1 for t in r.json))
    [sent] = [t for t in r.json if t["txid"] == txid]
    assert sent["action"] == "sent" and sent["confirmations"] >= 1


@pytest_twisted.ensureDeferred
async def test_without_enable_rbf_inputs_are_final_and_bad_values_refused(api, litecoind):
    w, (k,), _ = await _funded(api, litecoind, fundings=("0.3",))
    c = api.client
    to = litecoind.new_address()
    base = {"outputs": [{"toAddress": to, "amount": 10_000, "message": None}], "feePerKb": 10_000}

    for route, extra in (("/v3/txproposals/", {**CLIENT_NULLS}), ("/v3/txproposals/", {"enableRBF": False}),
                         ("/v3/txproposals/", {"enableRBF": None}), ("/v2/txproposals/", {})):
        r = await c.post(route, {**base, **extra, "dryRun": True}, k)
        assert r.status == 200, (route, extra, r.text)
        assert r.json["enableRBF"] is False
        assert _sequences(unsigned_raw(TxProposal.from_dict(r.json))) == [FINAL]

    # the v2 route (bwc 6.x/8.x) takes it too
    r = await c.post("/v2/txproposals/", {**base, "enableRBF": True, "dryRun": True}, k)
    assert r.status == 200 and r.json["enableRBF"] is True, r.text
    assert _sequences(unsigned_raw(TxProposal.from_dict(r.json))) == [RBF]

    refused = [
        ("/v3/txproposals/", {**CLIENT_NULLS, "enableRBF": "true"}, "enableRBF"),
        ("/v3/txproposals/", {**CLIENT_NULLS, "enableRBF": 1}, "enableRBF"),
        ("/v2/txproposals/", {"enableRBF": "yes"}, "enableRBF"),
        ("/v2/txproposals/", {"enableRBF": 0}, "enableRBF"),
        ("/v3/txproposals/", {**CLIENT_NULLS, "replaceTxByFee": True}, "replaceTxByFee"),
        ("/v3/txproposals/", {**CLIENT_NULLS, "enableRBF": True, "replaceTxByFee": True}, "replaceTxByFee"),
    ]
    for route, extra, word in refused:
        r = await c.post(route, {**base, **extra}, k)
        assert r.status == 400, (route, extra, r.text)
        assert r.json["code"] == "BADREQUEST" and word in r.json["message"], (route, extra, r.json)
    assert await api.service.storage.proposals.fetch_last(w.id, w.copayer_ids[0]) == []
