"""The chain fixtures start real nodes that really answer."""

from decimal import Decimal

import pytest
from bitcoin.core import Hash160
from bitcoin.core.script import OP_EQUAL, OP_HASH160, CScript
from eth_account import Account

from devtools.ganache import CHAIN_IDS, try_token_contract
from devtools.litecoind import INITIAL_HEIGHT, MAX_HEIGHT, RegtestNode
from devtools.process import free_port


def _btc_testnet_p2sh(script_hash: bytes) -> str:
    """Bitcoin testnet/regtest P2SH address (``2…``, version 0xc4) for a hash160."""
    from bitcoin.base58 import CBase58Data

    return str(CBase58Data.from_bytes(script_hash, 0xC4))


def test_session_node_is_funded(litecoind):
    assert litecoind.height() >= INITIAL_HEIGHT
    assert litecoind.balance() > 0
    info = litecoind.rpc("getblockchaininfo")
    assert info["chain"] == "regtest"


def test_fresh_node_starts_at_101_and_restarts_idempotently(tmp_path):
    node = RegtestNode(tmp_path / "ltc", free_port(), free_port())
    with node:
        node.ensure_funded()
        assert node.rpc("getblockcount") == 101
        assert node.balance() == Decimal("50")  # exactly one mature coinbase
        tip = node.rpc("getbestblockhash")
    # Same datadir again (what start.sh --dev does on every start): nothing is re-mined.
    with RegtestNode(tmp_path / "ltc", free_port(), free_port()) as again:
        again.ensure_funded()
        assert again.rpc("getbestblockhash") == tip
        assert again.balance() == Decimal("50")


def test_fund_and_mine_confirms_a_payment_to_a_bitcoin_p2sh_address(litecoind):
    # A Bitcoin-format 2… P2SH address; litecoind accepts it but shows it as Q….
    redeem = CScript([b"\x01" * 33, 0x51])
    script_hash = Hash160(redeem)
    address = _btc_testnet_p2sh(script_hash)
    assert address.startswith("2")
    expected_spk = CScript([OP_HASH160, script_hash, OP_EQUAL]).hex()

    txid = litecoind.fund(address, "0.25")
    [block_hash] = litecoind.mine(1)

    tx = litecoind.rpc("getrawtransaction", txid, True)
    assert tx["blockhash"] == block_hash
    assert tx["confirmations"] == 1
    [out] = [o for o in tx["vout"] if o["scriptPubKey"]["hex"] == expected_spk]
    assert out["value"] == Decimal("0.25")
    assert out["scriptPubKey"]["addresses"][0].startswith("Q")  # re-encoded, see RegtestNode doc


def test_mine_refuses_to_reach_mweb_activation(litecoind):
    height = litecoind.height()
    with pytest.raises(ValueError, match="MWEB"):
        litecoind.mine(MAX_HEIGHT - height + 1)
    assert litecoind.height() == height


def test_ganache_chains_have_distinct_ids(ganache_eth, ganache_tri):
    assert ganache_eth.w3.eth.chain_id == CHAIN_IDS["eth"] == ganache_eth.chain_id
    assert ganache_tri.w3.eth.chain_id == CHAIN_IDS["tri"] == ganache_tri.chain_id
    assert ganache_eth.chain_id != ganache_tri.chain_id
    assert ganache_eth.port != ganache_tri.port
    assert len(ganache_tri.accounts) == 10


def test_locally_signed_transfer_on_tri(ganache_tri):
    w3 = ganache_tri.w3
    sender = Account.from_key(ganache_tri.private_key(1))
    assert sender.address == ganache_tri.accounts[1]
    to = Account.create().address
    tx = {
        "to": to,
        "value": 10**15,
        "gas": 21000,
        "gasPrice": w3.eth.gas_price,
        "nonce": w3.eth.get_transaction_count(sender.address),
        "chainId": ganache_tri.chain_id,
    }
    signed = sender.sign_transaction(tx)
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction))
    assert receipt["status"] == 1
    assert w3.eth.get_balance(to) == 10**15


def test_try_token_metadata_and_transfer(ganache_eth, try_token):
    token = try_token_contract(ganache_eth, try_token)
    assert token.functions.symbol().call() == "TRY"
    assert token.functions.name().call() == "Trias Token"
    assert token.functions.decimals().call() == 18

    owner = ganache_eth.accounts[0]
    to = Account.create().address
    amount = 12 * 10**18 + 5 * 10**17  # 12.5 TRY
    before = token.functions.balanceOf(owner).call()
    tx_hash = token.functions.transfer(to, amount).transact({"from": owner})
    receipt = ganache_eth.w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    assert token.functions.balanceOf(to).call() == amount
    assert token.functions.balanceOf(owner).call() == before - amount
    [event] = token.events.Transfer().process_receipt(receipt)
    assert (event["args"]["from"], event["args"]["to"], event["args"]["value"]) == (owner, to, amount)


def test_missing_litecoind_fails_loudly(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no litecoind anywhere on PATH
    with pytest.raises(RuntimeError, match=r"run \./setup\.sh"):
        RegtestNode(tmp_path / "ltc", free_port(), free_port()).start()
