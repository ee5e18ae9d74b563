"""bws.adapters.explorers.bitcoind against the real litecoind regtest fixture (spec/api.md §6.20).

Addresses are Bitcoin-testnet (bit): P2PKH ``m/n…`` and a 2-of-3 P2SH ``2…``
that litecoind re-encodes as ``Q…`` -- the explorer must hand back our ``2…``.
The node is shared by the whole session and must stay below height 432: these
tests mine 3 blocks in total.
"""

from __future__ import annotations

import time
import uuid

import pytest
import pytest_twisted
from bit import MultiSigTestnet, PrivateKeyTestnet
from bit.network.meta import Unspent
from bitcoin import segwit_addr
from twisted.internet import defer, protocol, reactor, task

from bws.adapters.bitcoind_rpc import RpcError
from bws.adapters.errors import ExplorerError
from bws.adapters.explorers.bitcoind import BitcoindExplorer
from bws.chains.address import script_for_address
from bws.chains.history import normalize_tx
from bws.chains.script import descriptor_with_checksum, segwit_address
from bws.config import explorer_opts
from bws.errors import ServerError
from bws.runtime import make_explorer

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def explorer(litecoind):
    # A watch wallet of our own: other tests may use the default "bws-watch".
    ex = make_explorer("btc", "testnet", explorer_opts({"provider": "bitcoind", "url": f"{litecoind.rpc_url}/wallet/bws-test-{uuid.uuid4().hex[:8]}"}), storage=None, reactor=reactor)
    yield ex
    pytest_twisted.blockon(ex.close())


async def eventually(fn, check, timeout=10.0):
    """Await ``fn()`` until ``check(result)``: the watch wallet learns mempool txs
    through the node's validation queue, a moment after sendtoaddress returns."""
    deadline = time.monotonic() + timeout
    while True:
        result = await fn()
        if check(result) or time.monotonic() > deadline:
            return result
        await task.deferLater(reactor, 0.1, lambda: None)


def p2pkh():
    key = PrivateKeyTestnet()
    return key, key.address


def multisig():
    keys = [PrivateKeyTestnet() for _ in range(3)]
    ms = MultiSigTestnet(keys[0], [k.public_key for k in keys], 2)
    return ms.address


# -- pure helpers ------------------------------------------------------------


def test_descriptor_checksum_matches_node(litecoind):
    spk = script_for_address(multisig(), "btc")
    desc = f"raw({spk})"
    assert f"{desc}#{litecoind.rpc('getdescriptorinfo', desc)['checksum']}" == descriptor_with_checksum(desc)


def test_segwit_encoding_vectors():
    prog = "751e76e8199196d454941c45d1b3a323f1433bd6"
    assert segwit_address("bc", "0014" + prog) == "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
    assert segwit_addr.decode("tb", segwit_address("tb", "0014" + prog)) == (0, list(bytes.fromhex(prog)))
    # BIP350 vector (bech32m for witness v1)
    x = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    assert segwit_address("bc", "5120" + x) == "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"
    assert segwit_address("bc", "76a914" + prog + "88ac") is None  # P2PKH is no witness program


def test_factory_and_errors():
    ex = make_explorer("btc", "livenet", explorer_opts({"provider": "bitcoind", "url": "http://u:p%40ss@10.0.0.1:8332"}), storage=None, reactor=reactor)
    assert isinstance(ex, BitcoindExplorer)
    assert ex.wallet == "bws-watch" and ex.where == "10.0.0.1:8332" and ex.rpc._auth == ("u", "p@ss")
    ex = make_explorer("btc", "testnet", explorer_opts({"url": "http://u:p@h:1/wallet/w%201"}), storage=None, reactor=reactor)
    assert ex.wallet == "w 1"
    with pytest.raises(ValueError):
        make_explorer("btc", "livenet", explorer_opts({"provider": "nope", "url": "http://h:1"}), storage=None, reactor=reactor)
    with pytest.raises(ValueError):
        make_explorer("btc", "livenet", explorer_opts({"provider": "bitcoind", "url": ""}), storage=None, reactor=reactor)
    err = RpcError(-22, "TX decode failed", "sendrawtransaction")
    assert isinstance(err, ExplorerError) and isinstance(err, ServerError)
    assert err.http_status() == 500 and err.to_body() == {"error": "TX decode failed"}


# -- against the node ------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_receive_history_broadcast(litecoind, explorer):
    key, a_pkh = p2pkh()
    a_ms = multisig()
    s_pkh, s_ms = script_for_address(a_pkh, "btc"), script_for_address(a_ms, "btc")
    assert await explorer.register_addresses([{"address": a_pkh, "scriptPubKey": s_pkh}, {"address": a_ms}]) == 2
    assert await explorer.get_utxos([a_pkh, a_ms]) == []
    assert await explorer.get_transactions([a_pkh, a_ms], 0, 10) == ([], 0)
    assert await explorer.get_address_activity(a_ms) is False

    t_ms = litecoind.fund(a_ms, "1.5")
    t1 = litecoind.fund(a_pkh, "0.7")
    t2 = litecoind.fund(a_pkh, "0.3")

    # Mempool: confirmations 0, our own "2…" string back (the node says "Q…").
    utxos = await eventually(lambda: explorer.get_utxos([a_pkh, a_ms]), lambda u: len(u) == 3)
    by_tx = {u["txid"]: u for u in utxos}
    assert set(by_tx) == {t_ms, t1, t2}
    assert by_tx[t_ms]["address"] == a_ms and a_ms.startswith("2")
    assert by_tx[t_ms]["scriptPubKey"] == s_ms and by_tx[t_ms]["satoshis"] == 150_000_000
    assert by_tx[t1]["address"] == a_pkh and by_tx[t1]["scriptPubKey"] == s_pkh
    assert by_tx[t1]["satoshis"] == 70_000_000 and by_tx[t2]["satoshis"] == 30_000_000
    assert all(u["confirmations"] == 0 and isinstance(u["satoshis"], int) for u in utxos)
    assert await explorer.get_utxos([a_ms]) == [by_tx[t_ms]]
    assert await explorer.get_address_activity(a_ms) is True

    page, total = await explorer.get_transactions([a_pkh, a_ms], 0, 10)
    assert total == 3 and {t["txid"] for t in page} == {t_ms, t1, t2}
    assert all(t["confirmations"] == 0 and t["blockheight"] == -1 and t["firstSeenTs"] for t in page)

    height = await explorer.get_blockchain_height()
    assert height == litecoind.height()
    (block,) = litecoind.mine(1)
    assert await explorer.get_blockchain_height() == height + 1
    assert set(await explorer.get_block_txids(block)) >= {t_ms, t1, t2}

    utxos = await eventually(lambda: explorer.get_utxos([a_pkh, a_ms]),
                             lambda u: all(x["confirmations"] >= 1 for x in u))
    assert len(utxos) == 3 and all(u["confirmations"] == 1 for u in utxos)

    # Paging: newest first, skip/limit, stable total.
    page, total = await explorer.get_transactions([a_pkh, a_ms], 0, 10)
    assert total == 3
    ms_tx = next(t for t in page if t["txid"] == t_ms)
    assert ms_tx["blockheight"] == height + 1 and ms_tx["confirmations"] == 1 and ms_tx["blocktime"]
    ours = [o for o in ms_tx["vout"] if o["scriptPubKey"]["hex"] == s_ms]
    assert ours[0]["scriptPubKey"]["addresses"] == [a_ms] and ours[0]["value"] == 1.5
    assert ms_tx["vin"] and all(v["addr"] and isinstance(v["valueSat"], int) for v in ms_tx["vin"])
    paid = sum(v["valueSat"] for v in ms_tx["vin"]) - sum(o["valueSat"] for o in ms_tx["vout"])
    assert 0 < paid < 100_000 and round(ms_tx["fees"] * 1e8) == paid
    norm = normalize_tx(ms_tx, now=0)  # blocktime wins
    assert {"address": a_ms, "amount": 150_000_000} in norm["outputs"] and norm["fees"] == paid
    assert norm["time"] == ms_tx["blocktime"]
    first, t = await explorer.get_transactions([a_pkh, a_ms], 0, 2)
    rest, t2_total = await explorer.get_transactions([a_pkh, a_ms], 2, 4)
    assert t == t2_total == 3 and len(first) == 2 and len(rest) == 1
    assert [x["txid"] for x in first + rest] == [x["txid"] for x in page]
    assert await explorer.get_transactions([a_pkh, a_ms], 5, 10) == ([], 3)
    only_ms, n = await explorer.get_transactions([a_ms], 0, 10)
    assert n == 1 and only_ms[0]["txid"] == t_ms

    # Spend the 0.7 output of the P2PKH key (signed with bit) to the multisig, change back.
    u1 = by_tx[t1]
    raw = key.create_transaction(
        [(a_ms, 50_000_000, "satoshi")], fee=10_000, absolute_fee=True, leftover=a_pkh,
        unspents=[Unspent(u1["satoshis"], 1, u1["scriptPubKey"], u1["txid"], u1["vout"])],
    )
    spend = await explorer.broadcast(raw)
    assert len(spend) == 64
    tx = await explorer.get_transaction(spend)
    assert tx["txid"] == spend and tx["confirmations"] == 0 and tx["blockheight"] == -1
    assert tx["vin"][0]["addr"] == a_pkh and tx["vin"][0]["valueSat"] == 70_000_000
    assert round(tx["fees"] * 1e8) == 10_000

    utxos = await eventually(lambda: explorer.get_utxos([a_pkh, a_ms]),
                             lambda u: spend in {x["txid"] for x in u})
    assert (t1, u1["vout"]) not in {(x["txid"], x["vout"]) for x in utxos}
    new = sorted(x["satoshis"] for x in utxos if x["txid"] == spend)
    assert new == [19_990_000, 50_000_000]
    page, total = await explorer.get_transactions([a_pkh, a_ms], 0, 10)
    assert total == 4 and page[0]["txid"] == spend  # mempool first
    assert {o["scriptPubKey"]["addresses"][0] for o in page[0]["vout"]} == {a_ms, a_pkh}
    # A spend-only view: the P2PKH address alone still sees the spend (by its input).
    _, n = await explorer.get_transactions([a_pkh], 0, 10)
    assert n == 3

    litecoind.mine(1)
    tx = await explorer.get_transaction(spend)
    assert tx["confirmations"] == 1 and tx["blockheight"] == height + 2 and tx["blockhash"]


@pytest_twisted.ensureDeferred
async def test_unregistered_address_is_imported_with_rescan(litecoind, explorer):
    # Funds confirmed *before* anybody told the explorer: the first query imports
    # with a rescan. (A rescan reads blocks only: a still-unconfirmed payment to a
    # never-registered address shows up once mined -- documented caveat.)
    _, addr = p2pkh()
    txid = litecoind.fund(addr, "0.25")
    litecoind.mine(1)
    utxos = await explorer.get_utxos([addr])
    assert [(u["txid"], u["satoshis"], u["address"], u["confirmations"]) for u in utxos] == [
        (txid, 25_000_000, addr, 1)
    ]
    assert await explorer.get_address_activity(addr) is True
    _, fresh = p2pkh()
    assert await explorer.get_address_activity(fresh) is False


@pytest_twisted.ensureDeferred
async def test_not_found_and_node_errors(litecoind, explorer):
    assert await explorer.get_transaction("00" * 32) is None
    assert await explorer.get_transaction("zz") is None
    with pytest.raises(ExplorerError) as info:
        await explorer.broadcast("deadbeef")
    assert "TX decode failed" in info.value.message and info.value.code == -22
    with pytest.raises(ExplorerError):
        await explorer.get_utxos(["not-an-address"])
    fees = await explorer.estimate_fee([1, 2, 3, 4, 6, 24])
    # the session node estimates once earlier tests have mined enough payments: compare
    # with what it answers itself (-1 when it has no feerate, else its coin/kB)
    expected = {}
    for n in (1, 2, 3, 4, 6, 24):
        rate = litecoind.rpc("estimatesmartfee", n).get("feerate")
        expected[n] = float(rate) if rate is not None and rate > 0 else -1
    assert fees == expected


@pytest_twisted.ensureDeferred
async def test_wallet_reloaded_after_unload(litecoind, explorer):
    _, addr = p2pkh()
    await explorer.register_addresses([addr])
    litecoind.rpc("unloadwallet", explorer.wallet)
    assert await explorer.get_utxos([addr]) == []
    assert explorer.wallet in litecoind.rpc("listwallets")


@pytest_twisted.ensureDeferred
async def test_transport_errors(litecoind):
    bad_auth = BitcoindExplorer("btc", "testnet", f"http://bws:wrong@127.0.0.1:{litecoind.rpc_port}", reactor)
    with pytest.raises(ExplorerError, match="credentials") as info:
        await bad_auth.get_blockchain_height()
    assert "wrong" not in info.value.message

    # A server that accepts connections and never answers -> timeout.
    port = reactor.listenTCP(0, protocol.Factory.forProtocol(protocol.Protocol), interface="127.0.0.1")
    try:
        url = f"http://u:secret@127.0.0.1:{port.getHost().port}"
        silent = BitcoindExplorer("btc", "testnet", url, reactor, timeout=0.3)
        with pytest.raises(ExplorerError, match="did not answer getblockcount within 0.3 s") as info:
            await silent.get_blockchain_height()
        assert "secret" not in info.value.message
        await silent.close()
    finally:
        await defer.maybeDeferred(port.stopListening)
    # Nothing listening there any more.
    gone = BitcoindExplorer("btc", "testnet", url, reactor, timeout=5)
    with pytest.raises(ExplorerError, match="unreachable"):
        await gone.get_blockchain_height()
    await bad_auth.close()
