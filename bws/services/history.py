"""Transaction history (docs/spec/api.md §4.22, §6.14, §6.21, §10 Q6/Q9).

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

Cost (bench/profiles/NOTES.md, finding 3), per process:

* Concurrent requests for the same page of the same wallet share one
  computation (:func:`bws.services.concurrency.coalesce`): every request that arrives before a
  computation starts is answered by it; one that arrives while it runs waits
  for the next one. So each answer comes from reads made after its request
  arrived (an edited note, a broadcast, a new address show at once), and 50
  concurrent requests cost two computations, not 50 (one explorer page, one
  cache write, one proposal and note read each).
* The wallet's addresses (``address``/``isChange`` only) are kept in memory
  per wallet and re-read only when the wallet's write token changes (every
  path that adds addresses renews it; one indexed read checks it), or after
  ``ADDRESS_SET_TTL`` seconds.
* A fill writes the cache status only if its ``rev`` is the one it read
  before asking the explorer (bws.storage.cache.CacheRepo.store_history_fill): a fill that
  raced a soft reset (own broadcast, incoming payment) or a scan cannot mark
  the cache updated again, and positions are written in one batch.
* The computation runs on its own Deferred: a cancelled request stops
  waiting, the others still get the answer.
* Proposals and notes are read for the page's txids only; fee levels only
  when the page has an unconfirmed tx (they only tag those).
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Optional

from twisted.internet.defer import ensureDeferred

from bws.chains.history import (
    cache_window,
    decorate_txs,
    normalize_tx,
    proposal_time_window,
    tag_low_fees,
)
from bws.chains.rules import rules_for
from bws.errors import Errors
from bws.model import TxProposal, Wallet
from bws.model import constants as C

from .base import Aggregate, is_int
from .broadcasts import BroadcastMarks

from .context import Caller, Deps, State
from .notes import Notes
from .fees import Fees
from .concurrency import coalesce, single_flight
from .history_state import ADDRESS_SET_TTL, AddressSet

log = logging.getLogger(__name__)

class History(Aggregate):
    """getTxHistory and the block-height cache."""

    def __init__(
        self,
        deps: Deps,
        state: State,
        broadcasts: BroadcastMarks,
        *,
        notes: Notes,
        fees: Fees,
    ) -> None:
        super().__init__(deps, state, broadcasts)
        self.notes = notes
        self.fees = fees

    def _history_cache_threshold(self) -> int:
        return int(self.tunables.history_cache_address_threshold)

    async def _get_block_height(self, coin: str, network: str) -> Optional[int]:
        """Current height, cached the coin's ``blockheight_cache_ttl`` (600 s,
        EVM 10 s; bws/chains/rules.py); on a refresh
        failure the last known height (or None)."""
        try:
            self._explorer(coin, network)
        except Exception:
            return None
        heights = self.state.history.heights
        ttl = rules_for(coin).blockheight_cache_ttl
        cached = heights.get((coin, network))
        now = self.clock.seconds()
        if cached and now - cached[0] < ttl:
            return cached[1]
        try:
            height = int(await self._explorer_call(coin, network, "get_blockchain_height"))
        except Exception as e:  # noqa: BLE001 - keep the last known height
            log.warning("block height of %s/%s unavailable: %r", coin, network, e)
            return cached[1] if cached else None
        heights[(coin, network)] = (now, height)
        return height

    # ------------------------------------------------------------ addresses

    async def _history_addresses(self, wallet_id: str) -> AddressSet:
        """The wallet's address set, from memory when its token is unchanged
        (see the module doc); concurrent loads of one version are shared."""
        st = self.state.history
        version = await self.storage.addresses.fetch_version(wallet_id)
        now = self.clock.seconds()
        known = st.address_sets.get(wallet_id)
        if version is not None and known is not None and known.version == version and now - known.loaded_at < ADDRESS_SET_TTL:
            st.address_sets[wallet_id] = st.address_sets.pop(wallet_id)  # most recently used
            return known

        async def load() -> AddressSet:
            s = AddressSet(version, await self.storage.addresses.fetch_keys(wallet_id), self.clock.seconds())
            if version is not None:
                st.remember(wallet_id, s)
            return s

        if version is None:  # no token: nothing tells two reads apart, never share
            return await load()
        return await single_flight(st.flights, ("addresses", wallet_id, version), load)

    # ------------------------------------------------------------ cache

    async def _history_from_cache(self, wallet: Wallet, status: Optional[dict], frm: int, to: int) -> Optional[list[dict]]:
        if not status or not status.get("isUpdated") or not is_int(status.get("totalItems")):
            return None
        window = cache_window(int(status["totalItems"]), frm, to)
        if window is None:
            return None
        fwd, end = window
        docs = await self.storage.cache.fetch_range(wallet.id, "historyCache", fwd, end)
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

    async def _store_history_cache(
        self, wallet: Wallet, txs: list[dict], total: int, to: int, expected_rev: Optional[str]
    ) -> None:
        fwd = max(0, total - to)
        deep = [t for t in txs if is_int(t.get("confirmations")) and t["confirmations"] >= C.CONFIRMATIONS_TO_START_CACHING]
        status = {"totalItems": total, "updatedOn": self.now_s(), "isComplete": fwd == 0, "isUpdated": True}
        if not await self.storage.cache.store_history_fill(wallet.id, fwd, list(reversed(deep)), status, expected_rev):
            log.debug("history cache of %s changed during a fill; status left alone", wallet.id)

    async def _explorer_page(self, wallet: Wallet, addresses: AddressSet, frm: int, to: int) -> tuple[list[dict], int]:
        page, total = await self._explorer_call(
            wallet.coin, wallet.network, "get_transactions", list(addresses.strings), frm, to
        )
        return [normalize_tx(raw, wallet.coin, now=self.now_s()) for raw in page or []], int(total or 0)

    async def _normalized_txs(
        self, wallet: Wallet, addresses: AddressSet, status: Optional[dict], frm: int, to: int
    ) -> tuple[list[dict], Optional[Awaitable[None]]]:
        """(normalised txs of page [frm, to) newest first, the cache write
        still to await or None). status: the cache status read before (None
        when missing or when the wallet is below the cache threshold)."""
        if len(addresses.addresses) < self._history_cache_threshold():
            txs, _ = await self._explorer_page(wallet, addresses, frm, to)
            return txs, None
        cached = await self._history_from_cache(wallet, status, frm, to)
        if cached is not None:
            return cached, None
        if status is None:
            rev = await self.storage.cache.init_history_status(wallet.id)
        else:
            rev = status.get("rev") if isinstance(status.get("rev"), str) else None
        txs, total = await self._explorer_page(wallet, addresses, frm, to)
        return txs, self._store_history_cache(wallet, txs, total, to, rev)

    async def _page_proposals(self, wallet: Wallet, txids: list[str], min_ts: int, max_ts: int) -> list[dict]:
        names = {c.id: c.name for c in wallet.copayers}
        out = []
        for doc in await self.storage.proposals.fetch_by_txids(wallet.id, txids, min_ts, max_ts):
            t = TxProposal.from_dict(doc)
            d = t.to_dict()
            d["creatorName"] = names.get(t.creator_id, "unknown")
            for a in d.get("actions") or []:
                a["copayerName"] = names.get(a.get("copayerId"), "unknown")
            out.append(d)
        return out

    async def _page_notes(self, caller: Caller, wallet: Wallet, txids: list[str], min_ts: int) -> list[dict]:
        notes = await self.storage.notes.fetch_by_txids(wallet.id, txids, min_ts)
        return [await self.notes.note_out(caller, n, wallet) for n in notes]

    async def _page_fee_levels(self, caller: Caller, wallet: Wallet, txs: list[dict]) -> Optional[list[dict]]:
        """Fee levels for lowFees, only when the page has an unconfirmed tx
        (tag_low_fees tags nothing else); errors are ignored (None)."""
        if not any(t.get("confirmations") == 0 and not isinstance(t.get("confirmations"), bool) for t in txs):
            return None
        try:
            return await self.fees.get_fee_levels(caller, {"coin": wallet.coin, "network": wallet.network})
        except Exception:  # noqa: BLE001 - fee-level errors are ignored here
            return None

    # ------------------------------------------------------------ history

    async def get_tx_history(self, caller: Caller, opts: Optional[dict] = None) -> list[dict]:
        """History page (docs/spec/api.md §4.22, §6.14) newest first.

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
        key = ("history", caller.wallet_id, skip, limit)
        batches = self.state.history.batches
        return await coalesce(self.clock, batches, key, lambda: self._tx_history(caller, skip, limit))

    async def _tx_history(self, caller: Caller, skip: int, limit: int) -> list[dict]:
        """One computation of a history page (shared by coalesced requests: the
        returned list must not be changed). Independent reads run together."""
        wallet, addresses, status = await _gather(
            self._fetch_wallet(caller.wallet_id),
            self._history_addresses(caller.wallet_id),
            self.storage.cache.get(caller.wallet_id, "historyCacheStatus", None),
        )
        if not addresses.addresses or limit <= 0:
            return []
        txs, cache_write = await self._normalized_txs(wallet, addresses, status, skip, skip + limit)
        if not txs:
            if cache_write is not None:
                await cache_write
            return []
        min_ts, max_ts = proposal_time_window(txs)
        txids = list(dict.fromkeys(t.get("txid") for t in txs if isinstance(t.get("txid"), str)))
        proposals, notes, levels, _ = await _gather(
            self._page_proposals(wallet, txids, min_ts, max_ts) if txids else _none([]),
            self._page_notes(caller, wallet, txids, min_ts) if txids else _none([]),
            self._page_fee_levels(caller, wallet, txs),
            cache_write if cache_write is not None else _none(None),
        )
        items = decorate_txs(
            txs,
            (),
            indexed=addresses.indexed,
            proposals=proposals,
            notes=notes,
            single_address=bool(wallet.single_address),
            include_extended_info=True,
        )
        tag_low_fees(items, levels)
        return items


async def _none(value: Any) -> Any:
    return value


async def _gather(*aws: Awaitable[Any]) -> list[Any]:
    """Await several coroutines running together; their results in order, or
    the first failure in order (the others' failures are dropped)."""
    ds = [ensureDeferred(a) for a in aws]
    out = []
    try:
        for d in ds:
            out.append(await d)
    except BaseException:
        for d in ds:
            d.addErrback(lambda _f: None)
        raise
    return out


__all__ = ["History"]
