"""Transaction history (spec api.md §4.22, §6.14, §6.21, §10 Q6/Q9).

``get_tx_history`` pages the explorer's newest-first list with real
``skip``/``limit`` (Q6), decorates every item with extended info (the fork
always does), merges proposals (message, actions, per-output messages,
customData) and notes, and tags ``lowFees`` on unconfirmed items.

History cache (wallets with >= 100 addresses, option
``historyCacheAddressThreshold``): positions count from the oldest tx;
only txs with >= 36 confirmations are stored (type ``historyCache``, key =
position, ``{tx}``) with a status document (type ``historyCacheStatus``,
``{totalItems, updatedOn, isComplete, isUpdated}``); reads need every
position of the page and refresh confirmations from the block height.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any, Optional

from bws.chains.history import cache_window, decorate_txs, normalize_tx, proposal_time_window, tag_low_fees
from bws.errors import Errors
from bws.model import TxProposal, Wallet
from bws.model import constants as C

from .base import ServiceBase, is_int

log = logging.getLogger(__name__)

#: explorer -> (fetched at unix s, height): the process-wide block-height cache (§6.21)
_HEIGHTS: "weakref.WeakKeyDictionary[Any, tuple[float, int]]" = weakref.WeakKeyDictionary()


class HistoryMixin(ServiceBase):
    """getTxHistory and the block-height cache."""

    def _history_cache_threshold(self) -> int:
        return int(self.options.get("historyCacheAddressThreshold", C.HISTORY_CACHE_ADDRESS_THRESOLD))

    async def _get_block_height(self, coin: str, network: str) -> Optional[int]:
        """Current height, cached BLOCKHEIGHT_CACHE_TIME (600 s); on a refresh
        failure the last known height (or None)."""
        try:
            ex = self._explorer(coin, network)
        except Exception:
            return None
        ttl = C.BLOCKHEIGHT_CACHE_TIME_ETH if coin in C.EVM_COINS else C.BLOCKHEIGHT_CACHE_TIME
        try:
            cached = _HEIGHTS.get(ex)
        except TypeError:
            cached = None
        now = self.time_fn()
        if cached and now - cached[0] < ttl:
            return cached[1]
        try:
            height = int(await self._explorer_call(coin, network, "get_blockchain_height"))
        except Exception as e:  # noqa: BLE001 - keep the last known height
            log.warning("block height of %s/%s unavailable: %r", coin, network, e)
            return cached[1] if cached else None
        try:
            _HEIGHTS[ex] = (now, height)
        except TypeError:
            pass
        return height

    async def _history_from_cache(self, wallet: Wallet, frm: int, to: int) -> Optional[list[dict]]:
        status = await self.storage.get_cache(wallet.id, "historyCacheStatus", None)
        if not status or not status.get("isUpdated") or not is_int(status.get("totalItems")):
            return None
        window = cache_window(int(status["totalItems"]), frm, to)
        if window is None:
            return None
        fwd, end = window
        docs = await self.storage.fetch_cache_range(wallet.id, "historyCache", fwd, end)
        if len(docs) != end - fwd:
            return None
        items = [d["tx"] for d in sorted(docs, key=lambda d: d["key"], reverse=True)]
        height = await self._get_block_height(wallet.coin, wallet.network)
        if height is not None:
            for tx in items:
                bh = tx.get("blockheight")
                if is_int(bh) and bh >= 0:
                    tx["confirmations"] = height - bh + 1
        return items

    async def _store_history_cache(self, wallet: Wallet, txs: list[dict], total: int, to: int) -> None:
        fwd = max(0, total - to)
        deep = [t for t in txs if is_int(t.get("confirmations")) and t["confirmations"] >= C.CONFIRMATIONS_TO_START_CACHING]
        for i, tx in enumerate(reversed(deep)):
            await self.storage.set_cache(wallet.id, "historyCache", fwd + i, {"tx": tx})
        await self.storage.set_cache(
            wallet.id,
            "historyCacheStatus",
            None,
            {"totalItems": total, "updatedOn": self.now_s(), "isComplete": fwd == 0, "isUpdated": True},
        )

    async def _normalized_txs(self, wallet: Wallet, addresses: list[dict], frm: int, to: int) -> tuple[list[dict], bool]:
        """(normalised txs of page [frm, to) newest first, served from cache)."""
        use_cache = len(addresses) >= self._history_cache_threshold()
        if use_cache:
            cached = await self._history_from_cache(wallet, frm, to)
            if cached is not None:
                return cached, True
        page, total = await self._explorer_call(
            wallet.coin, wallet.network, "get_transactions", [a["address"] for a in addresses], frm, to
        )
        txs = [normalize_tx(raw, wallet.coin, now=self.now_s()) for raw in page or []]
        if use_cache:
            await self._store_history_cache(wallet, txs, int(total or 0), to)
        return txs, False

    async def get_tx_history(self, opts: Optional[dict] = None) -> list[dict]:
        """History page (§4.22, §6.14) newest first.

        opts: ``{skip?: int >= 0 (default 0), limit?: int (default 50, max 50)}``
        -> ``[{txid, action: "sent"|"received"|"moved"|"invalid", amount, fees,
        time, addressTo?, confirmations, feePerKb?, foreignCrafted?, lowFees?,
        inputs: [{address, amount, isMine}], outputs: [{address, amount,
        isMine, message?}], createdOn?, proposalId?, creatorName?, message?,
        actions?, customData?, note?}]`` (amounts int satoshis).
        Errors: HISTORY_LIMIT_EXCEEDED, WALLET_NOT_FOUND, explorer errors."""
        opts = opts or {}
        skip = opts.get("skip")
        limit = opts.get("limit")
        skip = int(skip) if is_int(skip) and skip > 0 else 0
        limit = int(limit) if is_int(limit) else C.HISTORY_LIMIT
        if limit > C.HISTORY_LIMIT:
            raise Errors.HISTORY_LIMIT_EXCEEDED
        wallet = await self._fetch_wallet()
        addresses = await self.storage.fetch_addresses(wallet.id)
        if not addresses or limit <= 0:
            return []
        txs, _ = await self._normalized_txs(wallet, addresses, skip, skip + limit)
        if not txs:
            return []
        min_ts, max_ts = proposal_time_window(txs)
        proposals = []
        for doc in await self.storage.fetch_txs(wallet.id, min_ts, max_ts):
            t = TxProposal.from_dict(doc)
            d = t.to_dict()
            names = {c.id: c.name for c in wallet.copayers}
            d["creatorName"] = names.get(t.creator_id, "unknown")
            for a in d.get("actions") or []:
                a["copayerName"] = names.get(a.get("copayerId"), "unknown")
            proposals.append(d)
        notes = [await self._note_out(n, wallet) for n in await self.storage.fetch_tx_notes(wallet.id, min_ts)]
        items = decorate_txs(
            txs,
            addresses,
            proposals=proposals,
            notes=notes,
            single_address=bool(wallet.single_address),
            include_extended_info=True,
        )
        try:
            levels = await self.get_fee_levels({"coin": wallet.coin, "network": wallet.network})
        except Exception:  # noqa: BLE001 - fee-level errors are ignored here
            levels = None
        tag_low_fees(items, levels)
        return items


__all__ = ["HistoryMixin"]
