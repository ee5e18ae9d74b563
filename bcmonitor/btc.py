"""BtcMonitor: the feed handler of the push-based Bitcoin monitor (docs/spec/services.md §3.0, §3.1).

Plain object, no sockets: the P2P connection (:mod:`bcmonitor.p2p`) calls
:meth:`BtcMonitor.p2p_tx` / :meth:`BtcMonitor.p2p_block`; tests may call
:meth:`on_tx` / :meth:`on_block` directly. Every event runs under one lock, so a
tx, a block, a back-fill and a reorg never interleave.

* tx -> outputs matched to wallet addresses **by scriptPubKey**; one
  ``NewIncomingTx {txid, address, amount}`` per (wallet, txid, address) (change
  addresses skipped; several outputs of one tx to one address are summed); an
  accepted proposal with this txid -> after ``third_party_delay`` seconds (gives
  bws's own broadcast time to mark it) still accepted -> ``broadcasted`` +
  ``NewOutgoingTxByThirdParty`` under the txp's walletId, by the API's own rule
  (bws/services/broadcasts.py: under the wallet lock, one payload).
* block -> the txs as above (a tx first seen in a block is notified then),
  ``NewBlock {hash, coin, network}`` (walletId = network), ``TxConfirmation`` for
  each active subscription of a txid in the block (creatorId = subscriber; the
  sub is deactivated and remembers ``confirmedBlock``), then the cursor
  (height + hash) moves in MongoDB.
* a block whose parent is not the cursor, a (re)connect, or start -> :meth:`sync`
  over RPC: walk back from the cursor while the node says the block is off the
  main chain (``getblockheader`` confirmations == -1), undoing each (subs fired by
  it are re-activated), then apply every main-chain block up to the tip.

Matching is done in memory (issue 11: a 4,000-tx block against 100,000 addresses
in < 1 s): the monitor keeps the set of watched scriptPubKeys (addresses of its
coin/network, see :meth:`BtcMonitor._refresh_watched`) and only outputs found in
it cost a database query; a block costs one query for the address records of its
matched scripts and one ``$in`` query for proposals with its txids, whatever its
size. Change addresses are left out of the set (they are never notified). The
set only grows (a deleted wallet's scripts stay: a false positive costs
one query, never a wrong notification) and it is refreshed before every block.
Mempool txs arrive one at a time and are matched by one database query on their
outputs, so a payment to a just-created address is notified at once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Optional

from bitcoin.core import CBlock, CTransaction, b2lx
from twisted.internet.defer import DeferredLock

from bws.adapters.bitcoind_rpc import RpcError
from bws.aio import run_coroutine


log = logging.getLogger("bcmonitor.btc")

SATS = Decimal(100_000_000)
#: Litecoin regtest activates MWEB here; raw RPC blocks from then on carry an extension.
MWEB_HEIGHT = 432

#: (walletId, address, satoshis) of one incoming payment
Payment = tuple[str, str, int]


@dataclass
class TxView:
    txid: str
    outputs: list[tuple[str, int]]  # (scriptPubKey hex, satoshis)

    @classmethod
    def from_ctx(cls, tx: CTransaction) -> "TxView":
        return cls(b2lx(tx.GetTxid()), [(o.scriptPubKey.hex(), int(o.nValue)) for o in tx.vout])

    @classmethod
    def from_json(cls, tx: dict) -> "TxView":
        outs = [(o["scriptPubKey"]["hex"], int(Decimal(str(o["value"])) * SATS)) for o in tx.get("vout", [])]
        return cls(tx["txid"], outs)


@dataclass
class BlockView:
    hash: str
    prev: str
    txs: list[TxView] = field(default_factory=list)

    @classmethod
    def from_cblock(cls, block: CBlock) -> "BlockView":
        return cls(b2lx(block.GetHash()), b2lx(block.hashPrevBlock), [TxView.from_ctx(t) for t in block.vtx])

    @classmethod
    def from_json(cls, block: dict) -> "BlockView":
        return cls(block["hash"], block.get("previousblockhash") or "00" * 32, [TxView.from_json(t) for t in block["tx"]])


class BtcMonitor:
    """``storage``: bws Storage; ``notifier``: bcmonitor/notify.py MonitorNotices; ``rpc``: BitcoindRpc
    (``await rpc.call(method, *params)``); ``clock``: IReactorTime (its ``seconds()``
    is compared with address ``createdOn``, unix s, written by the API processes).

    ``broadcasts``: :class:`bws.services.broadcasts.BroadcastMarks` (marks
    accepted proposals seen on the network broadcast, as the API does).

    ``address_margin`` (s): how late an address record may be stored after its
    ``createdOn`` (clock skew between hosts + time createAddress spends between
    deriving and storing: the explorer registration) and still be picked up by
    the incremental refresh; scans, which store addresses long after their
    ``createdOn``, are handled separately (see :meth:`_refresh_watched`)."""

    def __init__(
        self,
        storage,
        notifier,
        rpc,
        clock,
        coin: str = "btc",
        network: str = "testnet",
        third_party_delay: float = 20.0,
        address_margin: float = 600.0,
        *,
        broadcasts,
    ):
        self.storage = storage
        self.broadcasts = broadcasts
        self.notifier = notifier
        self.rpc = rpc
        self.clock = clock
        self.coin = coin
        self.network = network
        self.third_party_delay = third_party_delay
        self.lock = DeferredLock()
        self.cursor: Optional[dict] = None
        self._third_party_pending: dict[str, Any] = {}
        self._busy: set = set()  # Deferreds in flight (tests wait on them)
        #: txid -> clock time its P2P ``tx`` message arrived (last 1000; latency checks)
        self.p2p_seen: dict[str, float] = {}
        self.address_margin = address_margin
        #: scriptPubKeys (hex) of the receive addresses of this coin/network; None until loaded
        self.watched: Optional[set[str]] = None
        self._watched_at: float = 0.0  # clock time the last refresh started
        self._scanning: set[str] = set()  # wallets whose scan was running at the last refresh

    # -- entry points ----------------------------------------------------------

    async def start(self, scan_mempool: bool = True) -> None:
        """Load the watched scripts and the cursor (first run: the node's tip, no
        back-fill), catch up over RPC, then look at the mempool once (payments made
        while we were down)."""
        await self.refresh_watched()
        self.cursor = await self.storage.chain_index.get_cursor(self.coin, self.network)
        if self.cursor is None:
            height = await self.rpc.call("getblockcount")
            block_hash = await self.rpc.call("getblockhash", height)
            await self._set_cursor(height, block_hash)
            log.info("btc: first start, cursor at the tip %d %s", height, block_hash)
        else:
            log.info("btc: resuming from cursor %d %s", self.cursor["height"], self.cursor["hash"])
        await self.sync()
        if scan_mempool:
            await self.scan_mempool()

    async def on_tx(self, tx: CTransaction | TxView) -> None:
        view = tx if isinstance(tx, TxView) else TxView.from_ctx(tx)
        await self._locked(self._handle_tx, view)

    async def on_block(self, block: CBlock | BlockView) -> None:
        view = block if isinstance(block, BlockView) else BlockView.from_cblock(block)
        await self._locked(self._handle_block, view)

    async def sync(self) -> None:
        """Catch up with the node over RPC (back-fill and reorgs)."""
        await self._locked(self._sync)

    async def refresh_watched(self) -> None:
        """Load (first call) or update the watched scripts now; :meth:`start` and
        every block do it themselves (benchmarks call it to time loading apart)."""
        await self._locked(self._refresh_watched)

    async def scan_mempool(self) -> None:
        txids = await self.rpc.call("getrawmempool")
        for txid in txids:
            try:
                raw = await self.rpc.call("getrawtransaction", txid)
            except RpcError:
                continue  # mined or evicted meanwhile
            await self.on_tx(CTransaction.deserialize(bytes.fromhex(raw)))

    # P2P handler interface (bcmonitor.p2p.BitcoinP2PProtocol)
    def p2p_connected(self, proto) -> None:
        log.info("btc: p2p handshake done (peer version %s)", proto.peer_version)
        self._spawn(self.sync())

    def p2p_tx(self, tx: CTransaction) -> None:
        view = TxView.from_ctx(tx)
        self.p2p_seen[view.txid] = self.clock.seconds()
        while len(self.p2p_seen) > 1000:
            self.p2p_seen.pop(next(iter(self.p2p_seen)))
        self._spawn(self.on_tx(view))

    def p2p_block(self, block: CBlock) -> None:
        self._spawn(self.on_block(block))

    def p2p_disconnected(self, reason) -> None:
        log.info("btc: p2p disconnected")

    def _spawn(self, coro) -> None:
        d = run_coroutine(coro)
        self._busy.add(d)

        def done(result):
            self._busy.discard(d)
            if hasattr(result, "getTraceback"):
                log.error("btc: event failed: %s", result.getTraceback())
            return None

        d.addBoth(done)

    async def _locked(self, fn, *args):
        await self.lock.acquire()
        try:
            return await fn(*args)
        finally:
            self.lock.release()

    # -- transactions ------------------------------------------------------------

    async def _handle_tx(self, tx: TxView) -> None:
        log.info("btc: tx %s", tx.txid)
        # A mempool tx is matched against the database itself (one query for its
        # outputs; mempool txs come one at a time): an address created a moment
        # before it was paid is notified now, whatever the in-memory set knows.
        by_script = await self._address_docs({spk for spk, _ in tx.outputs})
        if self.watched is not None:
            self.watched.update(spk for spk, docs in by_script.items() if any(self._watch(d) for d in docs))
        payments = await self._unnotified({tx.txid: self._payments(tx, by_script)})
        await self._before_incoming(payments)
        await self._notify_incoming(tx.txid, payments.get(tx.txid, []))
        await self._third_party(tx.txid, await self.storage.proposals.fetch_by_txid(tx.txid))

    # -- watched scripts -------------------------------------------------------------

    def _ours(self, doc: dict) -> bool:
        return doc.get("coin", "btc") == self.coin and doc.get("network", self.network) == self.network

    def _watch(self, doc: dict) -> bool:
        return not doc.get("isChange") and self._ours(doc)

    async def _refresh_watched(self) -> None:
        """Bring :attr:`watched` up to date with the ``addresses`` collection.

        First call: every address record (only scriptPubKey/coin/network/isChange
        are read). Later calls, indexed queries:

        1. the wallets whose scan is running now (``scanStatus``);
        2. the records with ``createdOn >=`` (start of the previous refresh −
           ``address_margin``): everything createAddress stored since (it derives
           the address, registers it with the explorer, then stores it: stored
           late by at most that explorer call);
        3. every record of the wallets that were scanning at the previous refresh
           or are now. A scan derives a branch's addresses with ``createdOn`` = the
           branch's start and stores them when the branch is done (minutes later),
           after marking the wallet ``running``: such a record is either created
           after the previous refresh started (caught by 2) or its wallet was seen
           running then (caught here), whatever the scan's duration.

        So a receive address stored before a refresh starts is in :attr:`watched`
        after it, as long as API and monitor clocks plus createAddress's
        derive-to-store time stay within ``address_margin`` (createTx stores only
        change addresses, which are not watched). Records written by other means
        while the monitor runs (a restore, a migration adding ``scriptPubKey``)
        need a monitor restart. Every record created in the last
        ``address_margin`` seconds is read again at each refresh (~45 µs each on
        SecantusDB).
        """
        started = self.clock.seconds()
        scanning = set(await self.storage.wallets.fetch_scanning_ids())
        if self.watched is None:
            t0 = time.monotonic()
            docs = await self.storage.addresses.fetch_scripts()
            watched: set[str] = set()
            log.info("btc: %d watched scripts loaded in %.1f s", len(docs), time.monotonic() - t0)
        else:
            docs = await self.storage.addresses.fetch_scripts(since=int(self._watched_at - self.address_margin))
            recheck = scanning | self._scanning
            if recheck:
                docs += await self.storage.addresses.fetch_scripts(wallet_ids=sorted(recheck))
            watched = self.watched
        watched.update(d["scriptPubKey"] for d in docs if self._watch(d))
        self.watched = watched
        self._scanning = scanning
        self._watched_at = started

    def _matched(self, txs: list[TxView]) -> set[str]:
        """The output scripts of ``txs`` that are watched."""
        watched = self.watched or set()
        return {spk for tx in txs for spk, _ in tx.outputs if spk in watched}

    async def _address_docs(self, scripts: set[str]) -> dict[str, list[dict]]:
        """scriptPubKey -> the address records of this coin/network with it (one query)."""
        by_script: dict[str, list[dict]] = {}
        if not scripts:
            return by_script
        for d in await self.storage.addresses.fetch_by_scripts(scripts):
            if self._ours(d):
                by_script.setdefault(d["scriptPubKey"], []).append(d)
        return by_script

    # -- incoming payments / third-party broadcasts -------------------------------------

    def _payments(self, tx: TxView, by_script: dict[str, list[dict]]) -> list[Payment]:
        """``[(walletId, address, satoshis)]`` paid by ``tx`` to the receive records in
        ``by_script`` (scriptPubKey -> records, as from :meth:`_address_docs`); several
        outputs to one address are summed; in output order."""
        amounts: dict[tuple[str, str], int] = {}
        for spk, value in tx.outputs:
            for d in by_script.get(spk, ()):
                if d.get("isChange"):
                    continue
                key = (d["walletId"], d["address"])
                amounts[key] = amounts.get(key, 0) + value
        return [(w, a, amount) for (w, a), amount in amounts.items()]

    async def _unnotified(self, payments: dict[str, list[Payment]]) -> dict[str, list[Payment]]:
        """``payments`` (txid -> payments) without those already notified as
        ``NewIncomingTx`` (same wallet, txid and address); one query."""
        payments = {txid: p for txid, p in payments.items() if p}
        if not payments:
            return {}
        wallets = sorted({w for p in payments.values() for w, _, _ in p})
        seen = {
            (n["walletId"], (n.get("data") or {}).get("txid"), (n.get("data") or {}).get("address"))
            for n in await self.storage.notifications.fetch_for_txids("NewIncomingTx", wallets, list(payments))
        }
        fresh = {txid: [x for x in p if (x[0], txid, x[1]) not in seen] for txid, p in payments.items()}
        return {txid: p for txid, p in fresh.items() if p}

    async def _before_incoming(self, payments: dict[str, list[Payment]]) -> None:
        """What precedes the NewIncomingTx notifications of ``payments``: the wallets'
        history caches marked stale and the addresses added to their
        ``addressesWithBalance`` cache (one read and one write for all wallets)."""
        added: dict[str, list[str]] = {}
        for p in payments.values():
            for w, a, _ in p:
                added.setdefault(w, [])
                if a not in added[w]:
                    added[w].append(a)
        if not added:
            return
        await self.storage.cache.soft_reset(*sorted(added))
        caches = await self.storage.cache.get_many(sorted(added), "addressesWithBalance", None)
        updates: dict[str, dict] = {}
        for w, new in added.items():
            addresses = list((caches.get(w) or {}).get("addresses") or [])
            missing = [a for a in new if a not in addresses]
            if missing:
                updates[w] = {"addresses": addresses + missing}
        await self.storage.cache.set_many("addressesWithBalance", None, updates)

    async def _notify_incoming(self, txid: str, payments: list[Payment]) -> None:
        for wallet_id, address, amount in payments:
            await self.notifier.notify(
                "NewIncomingTx", {"txid": txid, "address": address, "amount": amount}, wallet_id
            )

    async def _third_party(self, txid: str, txp: Optional[dict]) -> None:
        """``txp``: the proposal with this txid (:meth:`bws.storage.proposals.ProposalsRepo.fetch_by_txid`) or None."""
        if not txp or txp.get("status") != "accepted" or txid in self._third_party_pending:
            return
        log.info("btc: accepted proposal %s seen on the network as %s", txp.get("id"), txid)
        if self.third_party_delay <= 0:
            await self._mark_third_party(txid)
            return

        def later():
            self._third_party_pending.pop(txid, None)
            self._spawn(self._locked(self._mark_third_party, txid))

        self._third_party_pending[txid] = self.clock.callLater(self.third_party_delay, later)

    async def _mark_third_party(self, txid: str) -> None:
        await self.broadcasts.mark_txid_seen_on_chain(txid)

    # -- blocks --------------------------------------------------------------------

    async def _handle_block(self, block: BlockView) -> None:
        cur = self.cursor
        if cur is not None and block.hash == cur["hash"]:
            return
        if cur is not None and block.prev == cur["hash"]:
            await self._apply(block, cur["height"] + 1)
        else:
            log.info("btc: block %s does not extend the cursor; syncing over RPC", block.hash)
            await self._sync()

    async def _apply(self, block: BlockView, height: int) -> None:
        log.info("btc: block %d %s (%d txs)", height, block.hash, len(block.txs))
        # every tx as on_tx would handle it, with a fixed number of queries per block
        await self._refresh_watched()
        by_script = await self._address_docs(self._matched(block.txs))
        paid = [tx for tx in block.txs if any(spk in by_script for spk, _ in tx.outputs)]
        payments = await self._unnotified({tx.txid: self._payments(tx, by_script) for tx in paid})
        await self._before_incoming(payments)
        accepted = {d["txid"]: d for d in await self.storage.proposals.fetch_accepted() if d.get("txid")}
        for tx in block.txs:  # notifications in block order, as one tx at a time
            if tx.txid in payments:
                await self._notify_incoming(tx.txid, payments[tx.txid])
            if tx.txid in accepted:
                await self._third_party(tx.txid, accepted[tx.txid])
        await self.storage.cache.soft_reset(all_wallets=True)
        await self.notifier.notify(
            "NewBlock", {"hash": block.hash, "coin": self.coin, "network": self.network}, self.network
        )
        txids = [t.txid for t in block.txs]
        for sub in await self.storage.subscriptions.fetch_active_confirmation_subs(txids=txids):
            sub["isActive"] = False
            sub["confirmedBlock"] = block.hash
            sub["confirmedHeight"] = height
            await self.storage.subscriptions.store_confirmation_sub(sub)
            await self.notifier.notify(
                "TxConfirmation",
                {"txid": sub["txid"], "coin": self.coin, "network": self.network},
                sub["walletId"],
                creator_id=sub["copayerId"],
            )
        await self._set_cursor(height, block.hash)

    async def _undo(self, block_hash: str, height: int) -> None:
        """Forget what an orphaned block recorded: its confirmations fired too early."""
        log.info("btc: undo orphaned block %d %s", height, block_hash)
        for sub in await self.storage.subscriptions.fetch_confirmation_subs_by_block([block_hash]):
            sub["isActive"] = True
            sub.pop("confirmedBlock", None)
            sub.pop("confirmedHeight", None)
            await self.storage.subscriptions.store_confirmation_sub(sub)

    async def _set_cursor(self, height: int, block_hash: str) -> None:
        await self.storage.chain_index.set_cursor(
            self.coin, self.network, height, block_hash, now=int(self.clock.seconds())
        )
        self.cursor = {"coin": self.coin, "network": self.network, "height": height, "hash": block_hash}

    async def _fetch_block(self, block_hash: str, height: int) -> BlockView:
        if height < MWEB_HEIGHT:
            raw = await self.rpc.call("getblock", block_hash, 0)
            try:
                return BlockView.from_cblock(CBlock.deserialize(bytes.fromhex(raw)))
            except Exception:  # extension data (MWEB) or unknown format: use the JSON form
                pass
        return BlockView.from_json(await self.rpc.call("getblock", block_hash, 2))

    async def _sync(self) -> None:
        # 1. walk back from the cursor to the main chain, undoing orphaned blocks
        while True:
            cur = self.cursor
            try:
                header = await self.rpc.call("getblockheader", cur["hash"])
            except RpcError as e:
                log.error("btc: the node does not know the cursor block %s (%s); re-anchoring at the tip", cur["hash"], e)
                height = await self.rpc.call("getblockcount")
                await self._set_cursor(height, await self.rpc.call("getblockhash", height))
                return
            if header["confirmations"] >= 0:
                break
            await self._undo(cur["hash"], cur["height"])
            prev = header["previousblockhash"]
            await self._set_cursor(cur["height"] - 1, prev)
        # 2. apply the main chain forward
        while True:
            tip = await self.rpc.call("getblockcount")
            height = self.cursor["height"] + 1
            if height > tip:
                return
            block_hash = await self.rpc.call("getblockhash", height)
            block = await self._fetch_block(block_hash, height)
            if block.prev != self.cursor["hash"]:
                log.info("btc: chain moved during sync; walking back again")
                return await self._sync()
            await self._apply(block, height)
