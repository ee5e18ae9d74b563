"""ETH/Tri/TRY pieces without a chain: address vectors (spec §11.3), copayer
ids (§11.2), raw-tx decoding/verification (bws.chains.evm), fee levels from
fee history, big ints in storage, the pending-status validation."""

from __future__ import annotations

import pytest
import pytest_twisted
from eth_account import Account
from twisted.internet import reactor

from bws.chains.address import derive_address
from bws.chains.evm import (
    decode_erc20_transfer,
    decode_raw_tx,
    erc20_transfer_data,
    raw_from_signatures,
    tx_hash,
    verify_raw_tx,
)
from bws.crypto import copayer_id
from bws.errors import ClientError
from bws.adapters.explorers.web3 import _levels_from_history, pseudo_utxo
from bws.config import explorer_opts
from bws.runtime import make_explorer
from tests.helpers.fixtures import make_service

XPUB = "xpub6DVmxcjRgZdHNSEcXSiFtweVwMSTc3TMwRJ45nJYvyqvLbK1poPerupqh87rSoz27wvckb1CKnGZoLmLXSZyNGZtVd7neqSvdwJL6fceQpe"
KEY = "0x" + "11" * 32
ME = Account.from_key(KEY).address
TO = "0x" + "22" * 20
TOKEN = "0x" + "44" * 20


@pytest.mark.parametrize(
    "path,address",
    [
        ("m/0/0", "0xE299d49C2cf9BfaFb7C6E861E80bb8c83f961622"),
        ("m/0/1", "0x42501258a5aF89A39E8efB5223c81E242A3c1fEd"),
        ("m/0/2", "0x22C23381408944dC57AB3B949F8b6a7B416c1fe8"),
        ("m/1/0", "0x2b4117EE8dDE47A030bC3024918ddd870cfA6f12"),
    ],
)
@pytest.mark.parametrize("coin", ["eth", "try", "tri"])
def test_address_vectors(coin, path, address):
    d = derive_address([XPUB], path, coin, "livenet", "P2PKH", 1)
    assert d["address"] == address and d["network"] == "livenet" and d["type"] == "P2PKH"


def test_copayer_ids():
    assert copayer_id("eth", XPUB) == "1e6f690ac07050b9c3badadbdc32e2a9aaf6936509889893eeca42dbec3a2d74"
    assert copayer_id("try", XPUB) == "8baa971d536c2d5a1f36e1f070c40efb430cf6f66ca3f9c9afc208b30718e5a8"


def sign(**tx):
    base = {"nonce": 4, "gasPrice": 10**9, "gas": 21000, "to": TO, "value": 10**18, "data": b"", "chainId": 1337}
    base.update(tx)
    base = {k: v for k, v in base.items() if v is not None}
    return bytes(Account.from_key(KEY).sign_transaction(base).raw_transaction).hex()


def check(raw, **kw):
    args = dict(coin="eth", sender=ME, to_address=TO, amount=10**18, chain_id=1337, nonce=4)
    args.update(kw)
    return verify_raw_tx(raw, **args)


def test_verify_native_legacy_and_typed():
    raw = sign()
    tx = check(raw)
    assert tx.chain_id == 1337 and tx.type == 0 and tx.hash == tx_hash(raw) == tx_hash("0x" + raw)
    assert check("0x" + raw, sender=ME.lower(), to_address=TO.upper().replace("0X", "0x")).nonce == 4
    eip1559 = sign(type=2, gasPrice=None, maxFeePerGas=3 * 10**9, maxPriorityFeePerGas=10**9)
    tx = check(eip1559)
    assert tx.type == 2 and tx.gas_price == 3 * 10**9 and tx.max_fee == 63000 * 10**9
    assert check(sign(type=1, accessList=[])).type == 1
    assert check(raw, nonce=None).nonce == 4


@pytest.mark.parametrize(
    "raw_kw,check_kw,needle",
    [
        ({"to": "0x" + "33" * 20}, {}, "recipient"),
        ({"value": 1}, {}, "value"),
        ({"nonce": 5}, {}, "nonce"),
        ({"chainId": 1}, {}, "chain id 1 "),
        ({"chainId": None}, {}, "pre-EIP-155"),
        ({"data": b"\x00"}, {}, "call data"),
        ({}, {"sender": TO}, "signed by"),
        ({"type": 2, "gasPrice": None, "maxFeePerGas": 1, "maxPriorityFeePerGas": 1, "chainId": 31337}, {}, "chain id"),
    ],
)
def test_verify_native_mismatch(raw_kw, check_kw, needle):
    with pytest.raises(ClientError) as ei:
        check(sign(**raw_kw), **check_kw)
    assert ei.value.code == "INVALID_RAW_TX" and needle in ei.value.message


def test_verify_token_transfer():
    data = erc20_transfer_data(TO, 5 * 10**18)
    assert decode_erc20_transfer(data) == (TO, 5 * 10**18)
    assert decode_erc20_transfer(data + b"\0") is None
    raw = sign(to=TOKEN, value=0, data=data, chainId=None, gas=500000)
    kw = dict(coin="try", amount=5 * 10**18, token_address=TOKEN)
    assert check(raw, allow_unprotected=True, **kw).chain_id is None
    with pytest.raises(ClientError, match="pre-EIP-155"):
        check(raw, **kw)
    assert check(sign(to=TOKEN, value=0, data=data), **kw).chain_id == 1337
    for bad, needle in (
        (sign(to=TOKEN, value=0, data=erc20_transfer_data(TOKEN, 5 * 10**18)), "transfers to"),
        (sign(to=TOKEN, value=0, data=erc20_transfer_data(TO, 6 * 10**18)), "transfers 6"),
        (sign(to=TOKEN, value=1, data=data), "ETH value"),
        (sign(to=TO, value=0, data=data), "token contract"),
        (sign(to=TOKEN, value=0, data=data[:-1]), "not an ERC20 transfer"),
    ):
        with pytest.raises(ClientError) as ei:
            check(bad, **kw)
        assert ei.value.code == "INVALID_RAW_TX" and needle in ei.value.message, ei.value.message


def test_bad_signatures_shapes():
    raw = sign()
    for shape in ([[{"signature": raw, "sigtype": 1}]], [{"signature": raw}], [raw]):
        assert raw_from_signatures(shape) == raw
    for bad in ([], [[]], [[{"signature": 5}]], [[{"signature": "xyz"}]], "abc", None, [[{}]]):
        with pytest.raises(ClientError) as ei:
            raw_from_signatures(bad)
        assert ei.value.code == "BAD_SIGNATURES"
    for junk in ("f86b", "00", "02c0", raw[:-4]):
        with pytest.raises(ClientError) as ei:
            decode_raw_tx(junk)
        assert ei.value.code == "BAD_SIGNATURES"


def test_pseudo_utxo_and_fee_history_levels():
    u = pseudo_utxo("0xE299d49C2cf9BfaFb7C6E861E80bb8c83f961622", 1234 * 10**15)
    assert u["txid"] == "E299d49C2cf9BfaFb7C6E861E80bb8c83f961622" and u["amount"] == "1.234000000000000000"
    assert u["satoshis"] == 1234 * 10**15 and u["vout"] == 0 and u["confirmations"] == 10
    hist = {"baseFeePerGas": [10, 20, 100], "reward": [[1, 2, 3, 4, 5], [0, 0, 0, 0, 0], [3, 4, 5, 6, 7]]}
    assert _levels_from_history(hist) == {"urgent": 207, "priority": 156, "normal": 130, "economy": 116, "superEconomy": 103}
    assert _levels_from_history({"baseFeePerGas": [], "reward": []}) is None


def test_make_explorer_options():
    ex = make_explorer("tri", "livenet", explorer_opts({"provider": "web3", "url": "http://127.0.0.1:1", "chainId": 31337}), storage=None, reactor=reactor)
    assert ex.coin == "tri" and ex.collection == "tri_txs" and ex.configured_chain_id == 31337 and not ex.allow_unprotected
    ex = make_explorer("try", "livenet", explorer_opts({"provider": "erc20", "url": "http://x", "tokenAddress": TOKEN.lower()}), storage=None, reactor=reactor)
    assert ex.collection == "try_txs" and ex.token_address == TOKEN and ex.allow_unprotected
    ex = make_explorer("try", "livenet", explorer_opts({"provider": "erc20", "url": "http://x", "tokenAddress": TOKEN,
                                         "allowUnprotectedTx": False}), storage=None, reactor=reactor)  # fmt: skip
    assert not ex.allow_unprotected
    with pytest.raises(ValueError):
        make_explorer("try", "livenet", explorer_opts({"provider": "erc20", "url": "http://x"}), storage=None, reactor=reactor)
    with pytest.raises(ValueError):
        make_explorer("btc", "livenet", explorer_opts({"provider": "web3", "url": "http://x"}), storage=None, reactor=reactor)


@pytest_twisted.ensureDeferred
async def test_storage_keeps_big_ints_exact(storage):
    big = 10**27 + 12345
    await storage.proposals.store({"walletId": "w", "id": "t", "amount": big, "outputs": [{"amount": big}], "small": 7})
    doc = await storage.proposals.fetch("w", "t")
    assert doc["amount"] == big and doc["outputs"][0]["amount"] == big and doc["small"] == 7
    assert isinstance(doc["amount"], int)


@pytest_twisted.ensureDeferred
async def test_pending_status_validation_and_missing_explorer(storage):
    s = make_service(storage, {})
    cases = [
        ({}, {"code": 1, "message": "can not find coin param"}),
        ({"coin": "LTC"}, {"code": 1, "message": "coin param not supported: ltc"}),
        ({"coin": "Tri"}, {"code": 1, "message": "can not find network param"}),
        ({"coin": "btc", "network": "regtest"}, {"code": 1, "message": "network param not supported: regtest"}),
        ({"coin": "try", "network": "TESTNET"}, {"code": 1, "message": "can not find txid param"}),
        ({"coin": "eth", "network": "livenet", "txid": "0xAB"},
         {"code": 1, "message": "Could not get blockchain explorer instance"}),
    ]  # fmt: skip
    for opts, expected in cases:
        assert await s.get_transaction_pending_status(opts) == expected
    levels = await s.get_fee_levels({"coin": "tri"})
    assert levels[2] == {"level": "normal", "feePerKb": 5 * 10**9, "nbBlocks": 3}
