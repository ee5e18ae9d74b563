"""ETH / Tri / TRY wallets end to end on ganache, driven over HTTP with
requests shaped and signed like the Trias fork's client (spec api.md §9.6):
the client fetches the nonce, signs the Ethereum transaction itself with the
key at ``inputs[0].path`` and sends the raw tx as
``signatures = [[{publicKey, prevTxId, outputIndex, inputIndex, signature, sigtype}]]``.
"""

from __future__ import annotations

import pytest
import pytest_twisted
from eth_account import Account
from twisted.internet import reactor
from twisted.web.server import Site
from web3 import AsyncWeb3

from bcmonitor.evm import EvmMonitor
from bcmonitor.notify import MonitorNotices
from bws.model import NotificationIds
from bws.services.notifier import Notifier
from bws.aio import as_deferred
from bws.adapters.broker.local import LocalBroker
from bws.http.app import BwsApi
from bws.adapters.broker.local import LocalBroker
from bws.adapters.lock.local import LocalLock
from bws.services.broadcasts import BroadcastMarks
from bws.chains.evm import erc20_transfer_data
from devtools.ganache import try_token_contract
from bws.config import explorer_opts
from bws.runtime import make_explorer
from tests.helpers.client import TestClient
from tests.helpers.fixtures import make_service
from tests.helpers.keys import CopayerKeys
from tests.helpers.wallets import create_and_join

ETH = 10**18
GWEI = 10**9


class Env:
    def __init__(self, service, base, chains, token):
        self.service = service
        self.base = base
        self.chains = chains  # coin -> GanacheChain (try -> the eth chain)
        self.token = token
        self.clients: list[TestClient] = []

    def client(self, coin: str) -> TestClient:
        c = TestClient(self.base, coin=coin)
        self.clients.append(c)
        return c


@pytest_twisted.async_yield_fixture
async def env(storage, ganache_eth, ganache_tri, try_token):
    explorers = {
        ("eth", "livenet"): make_explorer("eth", "livenet", explorer_opts({"provider": "web3", "url": ganache_eth.url, "chainId": 1337}), storage=storage, reactor=reactor),
        ("tri", "livenet"): make_explorer("tri", "livenet", explorer_opts({"provider": "web3", "url": ganache_tri.url, "chainId": 31337}), storage=storage, reactor=reactor),
        ("try", "livenet"): make_explorer("try", "livenet", explorer_opts({"provider": "erc20", "url": ganache_eth.url, "chainId": 1337, "tokenAddress": try_token}), storage=storage, reactor=reactor),
    }
    service = make_service(storage, explorers)
    site = Site(BwsApi(service).resource())
    site.noisy = False
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    e = Env(service, f"http://127.0.0.1:{port.getHost().port}/bws/api",
            {"eth": ganache_eth, "tri": ganache_tri, "try": ganache_eth}, try_token)  # fmt: skip
    yield e
    for c in e.clients:
        await c.close()
    for ex in explorers.values():
        await ex.close()
    await port.stopListening()


MONITORS = []


@pytest.fixture(autouse=True)
def _close_monitors():
    yield
    while MONITORS:
        pytest_twisted.blockon(as_deferred(MONITORS.pop().provider.disconnect()))


def monitor(storage, chain, coin, token=None):
    w3 = AsyncWeb3(AsyncWeb3.AsyncHTTPProvider(chain.url))
    MONITORS.append(w3)
    notifier = Notifier(storage, LocalBroker(), NotificationIds())
    return EvmMonitor(
        storage, MonitorNotices(notifier), w3, reactor, coin=coin,
        token_coin="try" if token else None, token_address=token,
        broadcasts=BroadcastMarks(storage, notifier, LocalLock(reactor), reactor),
    )  # fmt: skip


def fund_eth(chain, to, wei, sender=0):
    w3 = chain.w3
    h = w3.eth.send_transaction({"from": chain.accounts[sender], "to": to, "value": wei})
    w3.eth.wait_for_transaction_receipt(h)
    return "0x" + bytes(h).hex()


def fund_try(chain, token, to, units):
    c = try_token_contract(chain, token)
    h = c.functions.transfer(to, units).transact({"from": chain.accounts[0]})
    chain.w3.eth.wait_for_transaction_receipt(h)


def private_key(copayer: CopayerKeys, path: str) -> bytes:
    """Key of a wallet address: BIP44 account m/44'/0'/0' (coin type 0, as the fork) + m/a/b."""
    return copayer.root.get_privkey_from_path("m/44'/0'/0'/" + path[2:])


def fork_signatures(copayer, txp, nonce, /, *, chain_id=None, token=None, **override):
    """What the fork's client sends to /signatures for an eth/tri (EIP-155, chain id)
    or try (pre-EIP-155, 5 gwei x 500000 gas, to = the contract) proposal."""
    inp, out = txp["inputs"][0], txp["outputs"][0]
    key = override.pop("key", None) or private_key(copayer, inp["path"])
    if token:
        tx = {"nonce": nonce, "gasPrice": 5 * GWEI, "gas": 500000, "to": token, "value": 0,
              "data": erc20_transfer_data(out["toAddress"], out["amount"])}  # fmt: skip
    else:
        tx = {"nonce": nonce, "gasPrice": txp["fee"] // 21000, "gas": 21000, "to": out["toAddress"],
              "value": out["amount"], "data": b"", "chainId": chain_id}  # fmt: skip
    tx.update(override)
    if tx.get("chainId") is None:
        tx.pop("chainId", None)
    signed = Account.from_key(key).sign_transaction(tx)
    raw = bytes(signed.raw_transaction).hex()
    raw = "0x" + raw if token else raw  # ETH without 0x / TRY with 0x (§9.6)
    return {"signatures": [[{"publicKey": inp["publicKeys"][0], "prevTxId": inp["txid"], "outputIndex": 0,
                             "inputIndex": 0, "signature": raw, "sigtype": 1}]]}  # fmt: skip


async def new_wallet(env, coin):
    w = await create_and_join(env.service, coin=coin)
    c = env.client(coin)
    me = w.copayers[0]
    r = await c.post("/v3/addresses/", {}, me)
    assert r.status == 200, r.text
    return w, c, me, r.json["address"]


async def propose(c, me, to, amount, **extra):
    r = await c.post("/v2/txproposals/", {"outputs": [{"toAddress": to, "amount": amount}], **extra}, me)
    assert r.status == 200, r.text
    txp = r.json
    r = await c.post(f"/v1/txproposals/{txp['id']}/publish/", {"proposalSignature": "3045" + "00" * 68}, me)
    assert r.status == 200, r.text
    assert r.json["status"] == "pending"
    return r.json


async def nonce_of(c, me, coin, address):
    r = await c.get(f"/v1/{coin}/address_nonce/{address}", me)
    assert r.status == 200, r.text
    return r.json["nonce"]


# ------------------------------------------------------------------------ eth / tri


@pytest.mark.parametrize("coin", ["eth", "tri"])
@pytest_twisted.ensureDeferred
async def test_native_receive_send_history(env, storage, coin):
    chain = env.chains[coin]
    mon = monitor(storage, chain, coin)
    await mon.start()
    w, c, me, address = await new_wallet(env, coin)
    assert address == chain.w3.to_checksum_address(address)
    assert Account.from_key(private_key(me, "m/0/0")).address == address  # derivation as the fork (coin type 0')
    funding = fund_eth(chain, address, 2 * ETH)
    await mon.poll_once()

    r = await c.get("/v1/balance/", me)
    assert r.status == 200, r.text
    assert r.json["totalAmount"] == 2 * ETH and r.json["availableAmount"] == 2 * ETH
    r = await c.get(f"/v2/feelevels/?coin={coin}")
    levels = r.json
    assert [lv["level"] for lv in levels] == ["urgent", "priority", "normal", "economy", "superEconomy"]
    assert all(isinstance(lv["feePerKb"], int) and lv["feePerKb"] > 0 for lv in levels)
    assert all(a["feePerKb"] >= b["feePerKb"] for a, b in zip(levels, levels[1:]))

    dest = Account.create().address
    txp = await propose(c, me, dest.lower(), ETH // 10, feeLevel="normal")
    assert txp["inputs"][0]["address"] == address and txp["outputs"][0]["toAddress"] == dest
    normal = next(lv["feePerKb"] for lv in levels if lv["level"] == "normal")
    assert txp["feePerKb"] == normal and txp["fee"] == normal * 21000
    r = await c.get("/v1/balance/", me)
    assert r.json["lockedAmount"] == 2 * ETH  # the pending proposal locks its source address

    nonce = await nonce_of(c, me, coin, address)
    assert nonce == 0
    r = await c.post(f"/v1/txproposals/{txp['id']}/signatures/", fork_signatures(me, txp, nonce, chain_id=chain.chain_id), me)
    assert r.status == 200, r.text
    assert r.json["status"] == "accepted" and r.json["txid"].startswith("0x")
    txid = r.json["txid"]
    r = await c.post(f"/v1/txproposals/{txp['id']}/broadcast/", {}, me)
    assert r.status == 200, r.text
    assert r.json["status"] == "broadcasted" and r.json["txid"] == txid
    assert chain.w3.eth.get_balance(dest) == ETH // 10
    receipt = chain.w3.eth.get_transaction_receipt(txid)
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]

    # history before the monitor saw the send: the broadcast entered the index
    r = await c.get("/v1/txhistory/", me)
    assert r.status == 200, r.text
    by_id = {h["txid"]: h for h in r.json}
    assert by_id[txid]["action"] == "sent" and by_id[txid]["fees"] == fee
    assert by_id[txid]["amount"] == ETH // 10 + fee  # the reference's convention: sent includes the fee
    assert by_id[txid]["proposalId"] == txp["id"] and by_id[txid]["addressTo"] == dest
    assert by_id[txid]["confirmations"] >= 1
    assert by_id[funding]["action"] == "received" and by_id[funding]["amount"] == 2 * ETH
    assert r.json[0]["txid"] == txid  # newest first
    await mon.poll_once()
    r = await c.get("/v1/txhistory/?limit=1", me)
    assert [h["txid"] for h in r.json] == [txid]
    r = await c.get("/v1/balance/", me)
    assert r.json["totalAmount"] == 2 * ETH - ETH // 10 - fee and r.json["lockedAmount"] == 0

    r = await c.get(f"/v1/get_transaction_pending_status?coin={coin.upper()}&network=LIVENET&txid=0x{txid[2:].upper()}")
    assert r.status == 200 and r.json == {"code": 0, "status": "confirmed"}


@pytest_twisted.ensureDeferred
async def test_raw_tx_mismatch_refused_and_not_broadcast(env, storage):
    chain = env.chains["eth"]
    w, c, me, address = await new_wallet(env, "eth")
    fund_eth(chain, address, ETH)
    dest = Account.create().address
    txp = await propose(c, me, dest, ETH // 100)
    url = f"/v1/txproposals/{txp['id']}/signatures/"
    bad = {
        "recipient": dict(to=Account.create().address),
        "value": dict(value=ETH // 100 + 1),
        "nonce": dict(nonce=1),
        "chain id": dict(chainId=31337),
        "no chain id (pre-EIP-155)": dict(chainId=None),
        "signer": dict(key=Account.create().key),
        "call data": dict(data=b"\x01"),
    }
    for what, override in bad.items():
        r = await c.post(url, fork_signatures(me, txp, 0, chain_id=1337, **override), me)
        assert r.status == 400, (what, r.text)
        assert r.json["code"] == "INVALID_RAW_TX", (what, r.json)
    for body in ({"signatures": [[{"signature": "zz"}]]}, {"signatures": [[{"signature": "f86b"}]]}, {"signatures": []}):
        r = await c.post(url, body, me)
        assert r.status == 400 and r.json["code"] == "BAD_SIGNATURES", r.text
    assert chain.w3.eth.get_transaction_count(address, "pending") == 0  # nothing reached the node
    assert chain.w3.eth.get_balance(address) == ETH
    r = await c.get(f"/v1/txproposals/{txp['id']}/", me)
    assert r.json["status"] == "pending" and r.json["actions"] == []
    r = await c.post(f"/v1/txproposals/{txp['id']}/broadcast/", {}, me)
    assert r.status == 400 and r.json["code"] == "TX_NOT_ACCEPTED"

    # a correct one still goes through; a nonce consumed meanwhile is caught before broadcast
    r = await c.post(url, fork_signatures(me, txp, 0, chain_id=1337), me)
    assert r.status == 200 and r.json["status"] == "accepted", r.text
    acct = Account.from_key(private_key(me, "m/0/0"))
    other = acct.sign_transaction({"nonce": 0, "gasPrice": 2 * GWEI, "gas": 21000, "to": dest, "value": 1, "chainId": 1337})
    chain.w3.eth.wait_for_transaction_receipt(chain.w3.eth.send_raw_transaction(other.raw_transaction))
    r = await c.post(f"/v1/txproposals/{txp['id']}/broadcast/", {}, me)
    assert r.status == 400 and r.json["code"] == "INVALID_RAW_TX" and "nonce" in r.json["message"], r.text
    assert chain.w3.eth.get_transaction_count(address) == 1


# ------------------------------------------------------------------------ try


@pytest_twisted.ensureDeferred
async def test_try_transfer_moves_tokens_and_spends_eth_gas(env, storage):
    chain, token = env.chains["try"], env.token
    contract = try_token_contract(chain, token)
    mon = monitor(storage, chain, "eth", token=token)
    await mon.start()
    w, c, me, address = await new_wallet(env, "try")
    fund_try(chain, token, address, 1000 * ETH)
    fund_eth(chain, address, ETH // 100)
    await mon.poll_once()
    r = await c.get("/v1/balance/", me)
    assert r.json["totalAmount"] == 1000 * ETH, r.text

    dest = Account.create().address
    txp = await propose(c, me, dest, 250 * ETH)
    assert txp["inputs"][0]["address"] == address
    nonce = await nonce_of(c, me, "try", address)
    r = await c.post(f"/v1/txproposals/{txp['id']}/signatures/", fork_signatures(me, txp, nonce, token=token), me)
    assert r.status == 200 and r.json["status"] == "accepted", r.text
    assert r.json["raw"].startswith("0x")
    eth_before = chain.w3.eth.get_balance(address)
    r = await c.post(f"/v1/txproposals/{txp['id']}/broadcast/", {}, me)
    assert r.status == 200 and r.json["status"] == "broadcasted", r.text
    txid = r.json["txid"]
    assert contract.functions.balanceOf(dest).call() == 250 * ETH
    assert contract.functions.balanceOf(address).call() == 750 * ETH
    receipt = chain.w3.eth.get_transaction_receipt(txid)
    assert chain.w3.eth.get_balance(address) == eth_before - receipt["gasUsed"] * receipt["effectiveGasPrice"]
    r = await c.get("/v1/balance/", me)
    assert r.json["totalAmount"] == 750 * ETH

    r = await c.get("/v1/txhistory/", me)
    items = {h["txid"]: h for h in r.json}
    assert items[txid]["action"] == "sent" and items[txid]["amount"] == 250 * ETH and items[txid]["fees"] == 0
    assert any(h["action"] == "received" and h["amount"] == 1000 * ETH for h in r.json)
    await mon.poll_once()  # the monitor indexes the same Transfer: no duplicate
    r = await c.get("/v1/txhistory/", me)
    assert [h["txid"] for h in r.json].count(txid) == 1


@pytest_twisted.ensureDeferred
async def test_try_without_eth_for_gas(env, storage):
    chain, token = env.chains["try"], env.token
    w, c, me, address = await new_wallet(env, "try")
    fund_try(chain, token, address, 10 * ETH)
    txp = await propose(c, me, Account.create().address, 5 * ETH)
    r = await c.post(f"/v1/txproposals/{txp['id']}/signatures/", fork_signatures(me, txp, 0, token=token), me)
    assert r.status == 200, r.text
    r = await c.post(f"/v1/txproposals/{txp['id']}/broadcast/", {}, me)
    assert r.status == 500
    assert r.json == {"error": "INSUFFICIENT_ETH_FOR_FEE"}
    r = await c.get(f"/v1/txproposals/{txp['id']}/", me)
    assert r.json["status"] == "accepted"
    assert chain.w3.eth.get_transaction_count(address, "pending") == 0


# ------------------------------------------------------------------------ odds and ends


@pytest_twisted.ensureDeferred
async def test_send_max_nonce_and_status_routes(env, storage):
    chain = env.chains["eth"]
    w, c, me, address = await new_wallet(env, "eth")
    fund_eth(chain, address, ETH)
    r = await c.get("/v1/sendmaxinfo/?feeLevel=normal&returnInputs=1", me)
    assert r.status == 200, r.text
    info = r.json
    assert info["amount"] == ETH - info["fee"] and info["fee"] == info["feePerKb"] * 21000
    assert info["inputs"][0]["address"] == address
    r = await c.post("/v2/txproposals/", {"outputs": [{"toAddress": Account.create().address}], "sendMax": True,
                                         "feeLevel": "normal", "dryRun": True}, me)  # fmt: skip
    assert r.status == 200 and r.json["amount"] == info["amount"], r.text
    r = await c.post("/v2/txproposals/", {"outputs": [{"toAddress": Account.create().address, "amount": ETH}]}, me)
    assert r.status == 400 and r.json["code"] == "INSUFFICIENT_FUNDS"
    r = await c.post("/v2/txproposals/", {"outputs": [{"toAddress": "0x" + "AB" * 19 + "aB", "amount": 10**6}]}, me)
    assert r.status == 400 and r.json["code"] == "INVALID_ADDRESS"
    r = await c.get(f"/v1/utxos/?addresses={address}", me)
    assert r.status == 200 and r.json[0]["satoshis"] == ETH and r.json[0]["txid"] == address[2:]

    r = await c.get("/v1/eth/address_nonce/not-an-address", me)
    assert r.status == 400 and r.json == {"code": "BADREQUEST", "message": "Invalid address"}
    r = await c.get(f"/v1/tri/address_nonce/{address}", me)  # no funds there: nonce 0
    assert r.status == 200 and r.json == {"nonce": 0}
    r = await c.get(f"/v1/eth/address_nonce/{address}")
    assert r.status in (400, 401)  # signed route
    q = "/v1/get_transaction_pending_status"
    assert (await c.get(q)).json == {"code": 1, "message": "can not find coin param"}
    assert (await c.get(q + "?coin=DOGE")).json == {"code": 1, "message": "coin param not supported: doge"}
    assert (await c.get(q + "?coin=eth")).json == {"code": 1, "message": "can not find network param"}
    assert (await c.get(q + "?coin=eth&network=x")).json == {"code": 1, "message": "network param not supported: x"}
    assert (await c.get(q + "?coin=eth&network=testnet")).json == {"code": 1, "message": "can not find txid param"}
    r = await c.get(q + "?coin=eth&network=livenet&txid=0x" + "12" * 32)
    assert r.status == 200 and r.json == {"code": 0, "status": "pending"}

    r = await c.post("/v2/wallets/", {"name": "x", "m": 1, "n": 2, "pubKey": me.request_pub, "coin": "eth"})
    assert r.status == 400 and r.json["code"] == "BADREQUEST"


@pytest_twisted.ensureDeferred
async def test_accepted_tx_broadcast_elsewhere_is_detected(env, storage):
    chain = env.chains["tri"]
    w, c, me, address = await new_wallet(env, "tri")
    fund_eth(chain, address, ETH)
    txp = await propose(c, me, Account.create().address, 12345678)
    body = fork_signatures(me, txp, await nonce_of(c, me, "tri", address), chain_id=chain.chain_id)
    r = await c.post(f"/v1/txproposals/{txp['id']}/signatures/", body, me)
    assert r.status == 200 and r.json["status"] == "accepted", r.text
    txid = r.json["txid"]
    # the client (or anyone) pushes the raw tx itself
    chain.w3.eth.send_raw_transaction(bytes.fromhex(r.json["raw"]))
    r = await c.get("/v1/txproposals/", me)
    assert r.status == 200 and r.json == []  # accepted + known to the node -> broadcast by a third party
    r = await c.get(f"/v1/txproposals/{txp['id']}/", me)
    assert r.json["status"] == "broadcasted" and r.json["txid"] == txid
    r = await c.post(f"/v1/txproposals/{txp['id']}/broadcast/", {}, me)
    assert r.status == 400 and r.json["code"] == "TX_ALREADY_BROADCASTED"
    r = await c.get(f"/v1/get_transaction_pending_status?coin=tri&network=livenet&txid={txid}")
    assert r.json == {"code": 0, "status": "confirmed"}


@pytest_twisted.ensureDeferred
async def test_enable_rbf_refused_on_an_eth_wallet(env, storage):
    """BIP125 signalling means nothing on an account chain: the v2 create route (which does
    not run the v3 option check) refuses it by name instead of ignoring it; false is fine."""
    w, c, me, address = await new_wallet(env, "eth")
    to = Account.create().address
    r = await c.post("/v2/txproposals/", {"outputs": [{"toAddress": to, "amount": 1}], "enableRBF": True}, me)
    assert r.status == 400 and r.json["message"] == "enableRBF is not supported for eth", r.text
    assert await storage.proposals.fetch_last(w.id, w.copayer_ids[0]) == []
    r = await c.post("/v2/txproposals/", {"outputs": [{"toAddress": to, "amount": 1}], "enableRBF": False}, me)
    assert r.status != 400 or "enableRBF" not in r.text, r.text
