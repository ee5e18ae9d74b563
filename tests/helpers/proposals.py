"""Shared helpers for the transaction-area tests (no tests here).

* ``chain_service`` fixture: the services over real storage whose
  ("btc", "testnet") explorer is the Bitcoin Core RPC explorer on the session
  litecoind (own watch wallet per test module).
* ``sign_txp(txp, keys)``: what bwc does to sign a proposal: one DER
  signature per input, with the copayer's private key at ``inputPaths[i]``
  below its BIP44/BIP45 base key, over the input's sighash.
* ``proposal_signature(txp, keys)``: ``sign(unsignedRawHex, requestPrivKey)``.
* ``FakeExplorer``: a tiny object implementing *our* explorer interface with
  canned answers or injected errors (error paths only).
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Optional

import pytest
from coincurve import PrivateKey
from twisted.internet import reactor, task

from bws.chains.txbuild import build_tx, unsigned_raw
from bws.adapters.errors import ExplorerError
from bws.adapters.explorers.bitcoind import BitcoindExplorer
from bws.model import TxProposal
from tests.helpers.fixtures import make_service
from tests.helpers.keys import CopayerKeys


def sign_txp(txp: dict, keys: CopayerKeys) -> list[str]:
    """DER hex signatures of every input of ``txp`` (the proposal as the API
    answers it) by copayer ``keys``."""
    built = build_tx(TxProposal.from_dict(txp))
    paths = txp.get("inputPaths") or [i["path"] for i in txp["inputs"]]
    sigs = []
    for i, path in enumerate(paths):
        priv = keys.root.get_privkey_from_path(keys.base_path + path[1:])
        sigs.append(PrivateKey(priv).sign(built.sighash(i), hasher=None).hex())
    return sigs


def proposal_signature(txp: dict, keys: CopayerKeys) -> str:
    """``proposalSignature`` of ``txp`` (the proposal as the API answers it)."""
    return keys.sign(unsigned_raw(TxProposal.from_dict(txp)))


async def sleep(seconds: float) -> None:
    await task.deferLater(reactor, seconds, lambda: None)


async def eventually(fn, check, timeout: float = 15.0, interval: float = 0.1):
    """Await ``fn()`` until ``check(result)`` (the watch wallet learns mempool
    txs a moment after the node accepted them); returns the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = await fn()
        if check(result) or time.monotonic() > deadline:
            return result
        await sleep(interval)


async def notifications(service, wallet_id: str, types: Optional[set] = None) -> list[dict]:
    ns = await service.storage.notifications.fetch([wallet_id], None, 0)
    return [n for n in ns if types is None or n["type"] in types]


async def fund(me, litecoind, btc: str, address: Optional[dict] = None) -> tuple[dict, str]:
    """Pay ``btc`` from the node to (a new) wallet address; wait until the
    wallet sees it.  Returns (address, txid)."""
    address = address or await me.create_address({"ignoreMaxGap": True})
    before = (await me.get_balance({}))["totalAmount"]
    txid = litecoind.fund(address["address"], btc)
    sat = int(round(float(btc) * 1e8))
    bal = await eventually(lambda: me.get_balance({}), lambda b: b["totalAmount"] >= before + sat)
    assert bal["totalAmount"] >= before + sat, "funds never showed up"
    return address, txid


class FakeExplorer:
    """Our explorer interface with canned data; ``fail`` maps a method name to
    an exception to raise.  Records calls in ``calls``."""

    def __init__(self, utxos=None, txs=None, fee_samples=None, fail=None, known=None, height=500):
        self.utxos = list(utxos or [])
        self.txs = list(txs or [])
        self.fee_samples = fee_samples
        self.fail = dict(fail or {})
        self.known = dict(known or {})
        self.height = height
        self.broadcasted: list[str] = []
        self.calls: list[tuple] = []

    def _maybe_fail(self, name):
        self.calls.append((name,))
        if name in self.fail:
            raise self.fail[name]

    async def get_utxos(self, addresses):
        self._maybe_fail("get_utxos")
        wanted = {a if isinstance(a, str) else a["address"] for a in addresses}
        return [dict(u) for u in self.utxos if u["address"] in wanted]

    async def get_transactions(self, addresses, from_=0, to=None):
        self._maybe_fail("get_transactions")
        return [dict(t) for t in self.txs[from_:to]], len(self.txs)

    async def get_transaction(self, txid):
        self._maybe_fail("get_transaction")
        return self.known.get(txid)

    async def get_address_activity(self, address):
        self._maybe_fail("get_address_activity")
        return False

    async def estimate_fee(self, points):
        self._maybe_fail("estimate_fee")
        samples = self.fee_samples or {}
        return {n: samples.get(n, -1) for n in points}

    async def get_blockchain_height(self):
        self._maybe_fail("get_blockchain_height")
        return self.height

    async def broadcast(self, raw):
        self._maybe_fail("broadcast")
        self.broadcasted.append(raw)
        return "ab" * 32


def explorer_error(msg: str = "Error querying the blockchain") -> ExplorerError:
    return ExplorerError(msg)


@pytest.fixture(scope="module")
def module_watch_wallet():
    return f"bws-txp-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def node_explorer(litecoind, module_watch_wallet):
    import pytest_twisted

    ex = BitcoindExplorer("btc", "testnet", f"{litecoind.rpc_url}/wallet/{module_watch_wallet}", reactor)
    yield ex
    pytest_twisted.blockon(ex.close())


@pytest.fixture
def chain_service(storage, node_explorer):
    """The services on a fresh database with the node explorer for btc/testnet."""
    return make_service(storage, {("btc", "testnet"): node_explorer})


__all__ = [
    "sign_txp",
    "proposal_signature",
    "eventually",
    "sleep",
    "notifications",
    "fund",
    "FakeExplorer",
    "explorer_error",
    "node_explorer",
    "chain_service",
    "module_watch_wallet",
]
