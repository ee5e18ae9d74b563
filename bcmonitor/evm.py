"""EvmMonitor: polling monitor for Ethereum-compatible chains (``eth``, ``tri``) and the
TRY ERC20 token (docs/spec/services.md §3.3, §3.4, with the listed defects fixed).

Each :meth:`poll_once` (the runner calls it every ``pollInterval`` seconds):

1. ``target = eth_blockNumber - confirmations``;
2. reorg check: the cursor remembers the hash of the last ``KEEP_HASHES``
   applied heights; if the node's hash at the cursor height differs, walk back
   to the newest height whose hash still matches, undoing every orphaned block
   (TxConfirmation subs it fired are re-activated, its stored eth/try txs removed);
3. apply every block ``cursor+1 .. target`` (at most ``max_blocks`` per poll):
   * native transfers: the tx is stored (``eth_txs``, coin eth only) when ``from``
     or ``to`` is a wallet address; ``NewIncomingTx {txid: tx hash, address,
     amount: wei int}`` only for ``to`` matches with value > 0 (never the sender);
   * token ``Transfer`` logs of ``token_address`` (``eth_getLogs`` for the block):
     stored in ``try_txs`` upserted by (hash, logIndex) with ``blockNumber``;
     ``NewIncomingTx`` with token base units for ``to`` matches;
   * accepted proposals whose txid is in the block -> broadcasted +
     ``NewOutgoingTxByThirdParty`` (under the proposal's own walletId), by the
     API's own rule (bws/services/broadcasts.py: under the wallet lock, one payload);
   * ``NewBlock {hash, coin, network}`` (walletId = network) and ``TxConfirmation``
     for active subscriptions of the block's tx hashes;
   * cursor (height, hash, recent hashes) saved last.

One NewIncomingTx per (wallet, txid, address), checked against the stored
notifications, so re-applying a block (crash, reorg, restart) never repeats one.
Amounts are Python ints; stored values are decimal strings (wei exceeds int64).
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from eth_utils import to_checksum_address
from twisted.internet.defer import DeferredLock

from bws.aio import as_deferred


log = logging.getLogger("bcmonitor.evm")

TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
KEEP_HASHES = 128


def _hex(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    s = str(value).lower()
    return s if s.startswith("0x") else "0x" + s


def _addr(value: Any) -> Optional[str]:
    return to_checksum_address(value) if value else None


class EvmMonitor:
    """``w3``: ``web3.AsyncWeb3``; ``coin``: native coin key (``eth``/``tri``);
    ``token_coin``/``token_address``: the ERC20 watched on this chain (``try``) or None;
    ``broadcasts``: :class:`bws.services.broadcasts.BroadcastMarks`."""

    def __init__(
        self,
        storage,
        notifier,
        w3,
        clock,
        coin: str = "eth",
        network: str = "livenet",
        token_coin: Optional[str] = None,
        token_address: Optional[str] = None,
        confirmations: int = 0,
        max_blocks: int = 500,
        *,
        broadcasts,
    ):
        self.storage = storage
        self.broadcasts = broadcasts
        self.notifier = notifier
        self.w3 = w3
        self.clock = clock
        self.coin = coin
        self.network = network
        self.token_coin = token_coin if token_address else None
        self.token_address = to_checksum_address(token_address) if token_address else None
        self.confirmations = confirmations
        self.max_blocks = max_blocks
        self.lock = DeferredLock()
        self.cursor: Optional[dict] = None

    async def _locked(self, fn, *args):
        await self.lock.acquire()
        try:
            return await fn(*args)
        finally:
            self.lock.release()

    async def _call(self, awaitable):
        return await as_deferred(awaitable)

    async def _target(self) -> int:
        tip = await self._call(self.w3.eth.block_number)
        return max(0, tip - self.confirmations)

    async def _hash_at(self, height: int) -> str:
        block = await self._call(self.w3.eth.get_block(height))
        return _hex(block["hash"])

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Load the cursor; on the first run start at the (confirmed) tip, no back-fill."""
        self.cursor = await self.storage.chain_index.get_cursor(self.coin, self.network)
        if self.cursor is None:
            target = await self._target()
            h = await self._hash_at(target)
            await self._set_cursor(target, h, [])
            log.info("%s: first start, cursor at %d %s", self.coin, target, h)
        else:
            log.info("%s: resuming from cursor %d %s", self.coin, self.cursor["height"], self.cursor["hash"])

    async def poll_once(self) -> int:
        """Apply what is new; returns the number of blocks applied."""
        return await self._locked(self._poll)

    async def _set_cursor(self, height: int, block_hash: str, recent: list) -> None:
        recent = [r for r in recent if r[0] < height][-(KEEP_HASHES - 1) :] + [[height, block_hash]]
        await self.storage.chain_index.set_cursor(
            self.coin, self.network, height, block_hash, now=int(self.clock.seconds()), recent=recent
        )
        self.cursor = {"coin": self.coin, "network": self.network, "height": height, "hash": block_hash, "recent": recent}

    # -- reorgs ---------------------------------------------------------------------

    async def _rewind(self) -> None:
        recent = list(self.cursor.get("recent") or [[self.cursor["height"], self.cursor["hash"]]])
        if await self._hash_at(self.cursor["height"]) == self.cursor["hash"]:
            return
        while recent:
            height, block_hash = recent[-1]
            try:
                node_hash = await self._hash_at(height)
            except Exception:
                node_hash = None  # height beyond the node's (shorter) new tip
            if node_hash == block_hash:
                await self._set_cursor(height, block_hash, recent)
                return
            await self._undo(height, block_hash)
            recent.pop()
        # deeper than our memory: re-anchor below it (re-applied blocks are deduplicated)
        height = max(0, self.cursor["height"] - KEEP_HASHES)
        log.error("%s: reorg deeper than %d blocks; re-anchoring at %d", self.coin, KEEP_HASHES, height)
        await self._set_cursor(height, await self._hash_at(height), [])

    async def _undo(self, height: int, block_hash: str) -> None:
        log.info("%s: undo orphaned block %d %s", self.coin, height, block_hash)
        for sub in await self.storage.subscriptions.fetch_confirmation_subs_by_block([block_hash]):
            sub["isActive"] = True
            sub.pop("confirmedBlock", None)
            sub.pop("confirmedHeight", None)
            await self.storage.subscriptions.store_confirmation_sub(sub)
        if self.coin in ("eth", "tri"):
            await self.storage.chain_index.remove_from_height(f"{self.coin}_txs", height)
        if self.token_coin == "try":
            await self.storage.chain_index.remove_from_height("try_txs", height)

    # -- applying blocks --------------------------------------------------------------

    async def _poll(self) -> int:
        if self.cursor is None:
            await self.start()
        target = await self._target()
        await self._rewind()
        applied = 0
        while self.cursor["height"] < target and applied < self.max_blocks:
            height = self.cursor["height"] + 1
            block = await self._call(self.w3.eth.get_block(height, True))
            if _hex(block["parentHash"]) != self.cursor["hash"]:
                log.info("%s: block %d does not extend the cursor; rewinding", self.coin, height)
                await self._rewind()
                continue
            await self._apply(block)
            applied += 1
        return applied

    async def _apply(self, block) -> None:
        height = int(block["number"])
        block_hash = _hex(block["hash"])
        ts = int(block["timestamp"])
        txs = list(block["transactions"])
        log.info("%s: block %d %s (%d txs)", self.coin, height, block_hash, len(txs))
        for tx in txs:
            await self._native_tx(tx, ts)
        if self.token_address:
            await self._token_logs(height, block_hash, ts)
        await self.storage.cache.soft_reset(all_wallets=True)
        await self.notifier.notify("NewBlock", {"hash": block_hash, "coin": self.coin, "network": self.network}, self.network)
        hashes = [_hex(tx["hash"]) for tx in txs]
        for sub in await self.storage.subscriptions.fetch_active_confirmation_subs(txids=hashes):
            sub["isActive"] = False
            sub["confirmedBlock"] = block_hash
            sub["confirmedHeight"] = height
            await self.storage.subscriptions.store_confirmation_sub(sub)
            await self.notifier.notify(
                "TxConfirmation", {"txid": sub["txid"], "coin": self.coin, "network": self.network},
                sub["walletId"], creator_id=sub["copayerId"],
            )  # fmt: skip
        await self._set_cursor(height, block_hash, list(self.cursor.get("recent") or []))

    async def _wallet_docs(self, coin: str, addresses: list[Optional[str]]) -> list[dict]:
        wanted = {a for a in addresses if a}
        if not wanted:
            return []
        forms = set(wanted) | {a.lower() for a in wanted}
        return await self.storage.addresses.fetch_many(coin, forms)

    async def _native_tx(self, tx, ts: int) -> None:
        to, frm = _addr(tx.get("to")), _addr(tx.get("from"))
        if not to or not frm:  # contract creation
            return
        txid = _hex(tx["hash"])
        docs = await self._wallet_docs(self.coin, [to, frm])
        if docs:
            if self.coin in ("eth", "tri"):  # tri: tri_txs, read by bws.adapters.explorers.web3 (issue 6)
                await self.storage.chain_index.store(
                    f"{self.coin}_txs",
                    {
                        "hash": txid, "from": frm, "to": to, "value": str(int(tx["value"])),
                        "blockNumber": int(tx["blockNumber"]), "blockHash": _hex(tx["blockHash"]),
                        "transactionIndex": int(tx["transactionIndex"]), "nonce": int(tx["nonce"]),
                        "gas": int(tx["gas"]), "gasPrice": str(int(tx.get("gasPrice") or 0)),
                        "input": _hex(tx.get("input")), "timeStamp": ts,
                    }
                )  # fmt: skip
            await self._incoming(docs, to, txid, int(tx["value"]))
        await self._third_party(txid)

    async def _token_logs(self, height: int, block_hash: str, ts: int) -> None:
        logs = await self._call(
            self.w3.eth.get_logs(
                {"fromBlock": height, "toBlock": height, "address": self.token_address, "topics": [TRANSFER_TOPIC]}
            )
        )
        totals: dict[tuple[str, str], int] = {}
        for entry in logs:
            topics = [_hex(t) for t in entry["topics"]]
            if len(topics) < 3 or topics[0] != TRANSFER_TOPIC:
                continue
            frm = to_checksum_address("0x" + topics[1][-40:])
            to = to_checksum_address("0x" + topics[2][-40:])
            data = _hex(entry["data"])
            value = int(data, 16) if data not in ("0x", "") else 0
            txid = _hex(entry["transactionHash"])
            docs = await self._wallet_docs(self.token_coin, [to, frm])
            if docs:
                await self.storage.chain_index.store(
                    "try_txs",
                    {
                        "hash": txid, "logIndex": int(entry["logIndex"]), "from": frm, "to": to,
                        "value": str(value), "blockNumber": height, "blockHash": block_hash,
                        "transactionIndex": int(entry["transactionIndex"]), "timeStamp": ts,
                    }
                )  # fmt: skip
                if any(d["address"].lower() == to.lower() for d in docs):
                    totals[(txid, to)] = totals.get((txid, to), 0) + value
            await self._third_party(txid)
        for (txid, to), value in totals.items():
            docs = await self._wallet_docs(self.token_coin, [to])
            await self._incoming(docs, to, txid, value)

    async def _incoming(self, docs: list[dict], to: str, txid: str, amount: int) -> None:
        if amount <= 0:
            return
        for d in docs:
            if d["address"].lower() != to.lower() or d.get("isChange"):
                continue  # only the receiver: an outgoing payment is not incoming
            seen = await self.storage.notifications.find_one(
                d["walletId"], "NewIncomingTx", {"data.txid": txid, "data.address": d["address"]}
            )
            if seen:
                continue
            await self.storage.cache.soft_reset(d["walletId"])
            await self.notifier.notify(
                "NewIncomingTx", {"txid": txid, "address": d["address"], "amount": amount}, d["walletId"]
            )

    async def _third_party(self, txid: str) -> None:
        await self.broadcasts.mark_txid_seen_on_chain(txid)
