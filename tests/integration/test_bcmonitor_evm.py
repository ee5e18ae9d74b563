"""ETH / Tri / TRY-token polling monitor against ganache."""

from __future__ import annotations

import time
import uuid

import pytest
import pytest_twisted
from eth_account import Account
from twisted.internet import reactor
from twisted.internet.task import deferLater
from web3 import AsyncWeb3

from bcmonitor.evm import EvmMonitor
from bcmonitor.notify import MonitorNotices
from bws.model import NotificationIds
from bws.services.notifier import Notifier
from bcmonitor.runner import EvmRunner
from bws.adapters.broker.local import LocalBroker
from bws.adapters.lock.local import LocalLock
from bws.services.broadcasts import BroadcastMarks
from devtools.ganache import GanacheChain, try_token_contract
from devtools.process import free_port
from bws.model import TxConfirmationSub

ETH = 10**18


def sleep(seconds):
    return deferLater(reactor, seconds, lambda: None)


async def wait_for(predicate, timeout=10.0, step=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in %.1f s" % timeout)
        await sleep(step)


async def notes(storage, type_=None, wallet_id=None):
    q = await storage.notifications.fetch_after("", limit=10_000)
    return [n for n in q if (type_ is None or n["type"] == type_) and (wallet_id is None or n["walletId"] == wallet_id)]


async def add_address(storage, address, coin):
    wallet_id = str(uuid.uuid4())
    doc = {
        "version": "1.0.0", "createdOn": int(time.time()), "address": address, "walletId": wallet_id,
        "isChange": False, "path": "m/0/0", "publicKeys": [], "coin": coin, "network": "livenet",
    }  # fmt: skip
    await storage.addresses.store_with_wallet({"id": wallet_id, "name": coin}, [doc])
    return wallet_id


def monitor_for(storage, chain, coin, broker, token=None, confirmations=0):
    w3 = AsyncWeb3(AsyncWeb3.AsyncHTTPProvider(chain.url))
    notifier = Notifier(storage, broker, NotificationIds())
    return EvmMonitor(
        storage, MonitorNotices(notifier), w3, reactor, coin=coin,
        network="livenet",
        token_coin="try" if token else None, token_address=token, confirmations=confirmations,
        broadcasts=BroadcastMarks(storage, notifier, LocalLock(reactor), reactor),
    )  # fmt: skip


def send_eth(chain, frm, to, wei):
    h = chain.w3.eth.send_transaction({"from": frm, "to": to, "value": wei})
    chain.w3.eth.wait_for_transaction_receipt(h)
    return "0x" + bytes(h).hex()


def send_signed(chain, key, to, wei):
    acct = Account.from_key(key)
    w3 = chain.w3
    tx = {
        "to": to, "value": wei, "gas": 21000, "gasPrice": w3.eth.gas_price, "chainId": chain.chain_id,
        "nonce": w3.eth.get_transaction_count(acct.address),
    }  # fmt: skip
    h = w3.eth.send_raw_transaction(acct.sign_transaction(tx).raw_transaction)
    w3.eth.wait_for_transaction_receipt(h)
    return "0x" + bytes(h).hex()


@pytest_twisted.ensureDeferred
async def test_eth_and_try_incoming_restart(storage, ganache_eth, try_token):
    broker = LocalBroker()
    chain = ganache_eth
    acct = Account.create()
    w_eth = await add_address(storage, acct.address, "eth")
    w_try = await add_address(storage, acct.address, "try")
    monitor = monitor_for(storage, chain, "eth", broker, token=try_token)
    await monitor.start()

    eth_txid = send_eth(chain, chain.accounts[1], acct.address, 1_250_000_000_000_000_000)
    token = try_token_contract(chain, try_token)
    h = token.functions.transfer(acct.address, 5 * ETH).transact({"from": chain.accounts[0]})
    chain.w3.eth.wait_for_transaction_receipt(h)
    try_txid = "0x" + bytes(h).hex()
    # an outgoing payment from the wallet address must not look incoming
    out_txid = send_signed(chain, acct.key, chain.accounts[2], ETH // 10)
    tip = chain.w3.eth.block_number

    assert await monitor.poll_once() == 3
    assert await monitor.poll_once() == 0  # nothing twice

    [n_eth] = await notes(storage, "NewIncomingTx", w_eth)
    assert n_eth["data"] == {"txid": eth_txid, "address": acct.address, "amount": 1_250_000_000_000_000_000}
    assert isinstance(n_eth["data"]["amount"], int)
    [n_try] = await notes(storage, "NewIncomingTx", w_try)
    assert n_try["data"] == {"txid": try_txid, "address": acct.address, "amount": 5 * ETH}
    assert len(await notes(storage, "NewIncomingTx")) == 2  # no NewIncomingTx for out_txid
    assert [n["data"]["coin"] for n in await notes(storage, "NewBlock")] == ["eth"] * 3
    stored = {t["hash"]: t for t in await storage.chain_index.fetch("eth_txs", [acct.address])}
    assert set(stored) == {eth_txid, out_txid}
    assert stored[eth_txid]["value"] == "1250000000000000000"
    [t] = await storage.chain_index.fetch("try_txs", [acct.address])
    assert (t["hash"], t["value"], t["blockNumber"]) == (try_txid, str(5 * ETH), tip - 1)
    cursor = await storage.chain_index.get_cursor("eth", "livenet")
    assert cursor["height"] == tip

    # restart: a new monitor resumes from the cursor, through the runner's poll loop
    again_txid = send_eth(chain, chain.accounts[1], acct.address, 7)
    runner = EvmRunner(monitor_for(storage, chain, "eth", broker, token=try_token), reactor, interval=0.2)
    await runner.start()
    try:
        async def two():
            found = await notes(storage, "NewIncomingTx", w_eth)
            return found if len(found) == 2 else None

        found = await wait_for(two)
    finally:
        await runner.stop()
    assert found[1]["data"] == {"txid": again_txid, "address": acct.address, "amount": 7}
    assert len(await notes(storage, "NewIncomingTx")) == 3


@pytest_twisted.ensureDeferred
async def test_tri_native_incoming_and_confirmation(storage, ganache_tri):
    broker = LocalBroker()
    chain = ganache_tri
    acct = Account.create()
    wid = await add_address(storage, acct.address.lower(), "tri")  # lower-case stored form still matches
    monitor = monitor_for(storage, chain, "tri", broker)
    await monitor.start()
    txid = send_eth(chain, chain.accounts[3], acct.address, 3 * ETH)
    await storage.subscriptions.store_confirmation_sub(TxConfirmationSub.create(wid, "c-tri", txid).to_storage())
    assert await monitor.poll_once() == 1
    [n] = await notes(storage, "NewIncomingTx", wid)
    assert n["data"] == {"txid": txid, "address": acct.address.lower(), "amount": 3 * ETH}
    [c] = await notes(storage, "TxConfirmation")
    assert (c["walletId"], c["creatorId"], c["data"]) == (wid, "c-tri", {"txid": txid, "coin": "tri", "network": "livenet"})
    [b] = await notes(storage, "NewBlock")
    assert b["walletId"] == "livenet" and b["data"]["coin"] == "tri"


@pytest_twisted.ensureDeferred
async def test_wei_amount_beyond_int64_is_stored_and_read_back_as_int(storage, mongo_uri, ganache_eth, try_token):
    """A token amount above 2**63 (10 TRY = 10**19 units) in a monitor notification
    is stored by the storage as Decimal128 and read back as the same int (no
    decimal string), and the broker wake-up carries that same int."""
    from bson.decimal128 import Decimal128
    from pymongo import MongoClient

    broker = LocalBroker()
    chain = ganache_eth
    acct = Account.create()
    wid = await add_address(storage, acct.address, "try")
    monitor = monitor_for(storage, chain, "eth", broker, token=try_token)
    await monitor.start()
    amount = 10 * ETH
    assert amount > 2**63
    token = try_token_contract(chain, try_token)
    h = token.functions.transfer(acct.address, amount).transact({"from": chain.accounts[0]})
    chain.w3.eth.wait_for_transaction_receipt(h)
    assert await monitor.poll_once() >= 1
    [n] = await notes(storage, "NewIncomingTx", wid)
    assert n["data"]["amount"] == amount and type(n["data"]["amount"]) is int
    assert (await storage.notifications.fetch_by_id(n["id"]))["data"]["amount"] == amount
    [polled] = [x for x in await storage.notifications.fetch([wid], None, 0) if x["type"] == "NewIncomingTx"]
    assert polled["data"]["amount"] == amount and type(polled["data"]["amount"]) is int
    with MongoClient(mongo_uri) as c:  # the raw document: Decimal128, not a string
        raw = c.get_default_database().notifications.find_one({"id": n["id"]})
    assert raw["data"]["amount"] == Decimal128(str(amount))
    [published] = [m for m in broker.published if m["id"] == n["id"]]
    assert published["data"]["amount"] == amount and type(published["data"]["amount"]) is int


@pytest.fixture(scope="module")
def own_chain(tmp_path_factory):
    chain = GanacheChain("reorg", free_port(), tmp_path_factory.mktemp("ganache-reorg"), chain_id=4242)
    chain.start()
    yield chain
    chain.stop()


@pytest_twisted.ensureDeferred
async def test_evm_reorg_undoes_orphaned_blocks(storage, own_chain):
    broker = LocalBroker()
    chain = own_chain
    acct = Account.create()
    wid = await add_address(storage, acct.address, "eth")
    monitor = monitor_for(storage, chain, "eth", broker)
    await monitor.start()
    snap = chain.rpc("evm_snapshot")
    txid = send_eth(chain, chain.accounts[1], acct.address, ETH)
    await storage.subscriptions.store_confirmation_sub(TxConfirmationSub.create(wid, "c-evm", txid).to_storage())
    assert await monitor.poll_once() == 1
    assert len(await notes(storage, "TxConfirmation")) == 1
    orphan_height = chain.w3.eth.block_number

    assert chain.rpc("evm_revert", snap) is True  # the payment's block disappears
    chain.mine(2)  # a longer branch without it
    assert await monitor.poll_once() == 2
    cursor = await storage.chain_index.get_cursor("eth", "livenet")
    assert cursor["height"] == orphan_height + 1
    assert cursor["hash"] == "0x" + bytes(chain.w3.eth.get_block(orphan_height + 1)["hash"]).hex()
    assert len(await notes(storage, "TxConfirmation")) == 1  # no phantom confirmation
    [sub] = await storage.subscriptions.fetch_active_confirmation_subs(txids=[txid])  # waiting again
    assert await storage.chain_index.fetch("eth_txs", [acct.address]) == []  # orphaned history removed
    assert len(await notes(storage, "NewBlock")) == 3


@pytest_twisted.ensureDeferred
async def test_process_python_m_bcmonitor_eth(storage, ganache_eth, try_token, mongo_uri, tmp_path):
    import json
    import signal
    import subprocess
    import sys

    chain = ganache_eth
    cfg = {
        "storageOpts": {"mongoDb": {"uri": mongo_uri}},
        "messageBrokerOpts": {"mode": "local"},
        "blockchainExplorerOpts": {
            "eth": {"livenet": {"provider": "web3", "url": chain.url, "chainId": chain.chain_id, "pollInterval": 0.2}},
            "try": {"livenet": {"provider": "erc20", "url": chain.url, "tokenAddress": try_token}},
        },
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    acct = Account.create()
    w_try = await add_address(storage, acct.address, "try")
    log_path = tmp_path / "bcmonitor.log"
    with open(log_path, "w") as logf:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bcmonitor", "eth", "--config", str(path)], stdout=logf, stderr=subprocess.STDOUT
        )
    try:
        await wait_for(lambda: storage.chain_index.get_cursor("eth", "livenet"), timeout=15)
        token = try_token_contract(chain, try_token)
        h = token.functions.transfer(acct.address, 42).transact({"from": chain.accounts[0]})
        chain.w3.eth.wait_for_transaction_receipt(h)
        [n] = await wait_for(lambda: notes(storage, "NewIncomingTx", w_try), timeout=10)
        assert n["data"] == {"txid": "0x" + bytes(h).hex(), "address": acct.address, "amount": 42}
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(15)
    assert rc == 0, log_path.read_text()
