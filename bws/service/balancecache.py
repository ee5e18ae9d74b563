"""Two-step balance and the balance fast cache (spec api.md §4.17, §6.4, §10 Q8).

Overrides the hooks of :mod:`bws.service.balance` (this mixin is listed before
``BalanceMixin`` in WalletService):

* ``_get_balance_one_step(opts, cache_ttl=60)``: wallets with >= 100 addresses
  (option ``balanceCacheAddressThreshold``) reuse a balance computed less than
  ``cache_ttl`` seconds ago for the same address set.  Cache: type
  ``balanceCache``, key = sha256 hex of the sorted address strings (+ coin
  override) — Q8: the reference effectively keyed by the address *count* —,
  content ``{ts (ms), result}``.
* ``_get_balance_two_step(opts)``: wallets with >= 100 addresses (option
  ``twoStepBalanceThreshold``) first get the balance of their "active"
  addresses (those that held funds at the last full computation plus those
  created in the last 24 h); a background job then computes the full balance
  (fast-cache TTL 10 s) and emits a global ``BalanceUpdated`` notification
  (data = the full balance) when it differs.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any, Optional

from bws.chains.selection import totalize
from bws.errors import Errors
from bws.model import Wallet
from bws.model import constants as C

from .base import ServiceBase
from .jobs import spawn

log = logging.getLogger(__name__)


def balance_cache_key(addresses: list[dict], coin: Optional[str] = None) -> str:
    """sha256 hex of ``coin|`` + the sorted, comma-joined address strings."""
    text = (coin or "") + "|" + ",".join(sorted(a["address"] for a in addresses))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class BalanceCacheMixin(ServiceBase):
    """Two-step balance and fast balance cache."""

    def _balance_cache_threshold(self) -> int:
        return int(self.options.get("balanceCacheAddressThreshold", C.BALANCE_CACHE_ADDRESS_THRESHOLD))

    def _two_step_threshold(self) -> int:
        return int(self.options.get("twoStepBalanceThreshold", C.TWO_STEP_BALANCE_THRESHOLD))

    async def _get_balance_one_step(self, opts: dict, cache_ttl: float = C.BALANCE_CACHE_DIRECT_DURATION) -> dict:
        """All wallet addresses, under the wallet lock; fast cache for big
        wallets (see module doc); stores ``addressesWithBalance``."""

        async def compute() -> dict:
            wallet = await self._fetch_wallet()
            addresses = await self.storage.addresses.fetch(wallet.id)
            coin = opts.get("coin")
            use_cache = len(addresses) >= self._balance_cache_threshold()
            key = balance_cache_key(addresses, coin) if use_cache else None
            if use_cache:
                if wallet.is_scan_error():
                    raise Errors.WALLET_NEED_SCAN
                cached = await self.storage.cache.get(wallet.id, "balanceCache", key)
                if cached and isinstance(cached.get("ts"), (int, float)):
                    if self.now_ms() - cached["ts"] < cache_ttl * 1000 and isinstance(cached.get("result"), dict):
                        return cached["result"]
            balance = await self._get_balance_from_addresses(wallet, addresses, coin)
            if use_cache:
                await self.storage.cache.set(wallet.id, "balanceCache", key, {"ts": self.now_ms(), "result": balance})
            return balance

        return await self._run_locked(compute)

    async def _active_addresses(self, wallet: Wallet) -> list[dict]:
        """addressesWithBalance ∪ addresses created in the last 24 h, unique, in creation order."""
        cache = await self.storage.cache.get(wallet.id, "addressesWithBalance", None) or {}
        with_balance = set(cache.get("addresses") or [])
        since = self.now_s() - C.TWO_STEP_CREATION_HOURS * 3600
        out: dict[str, dict] = {}
        for a in await self.storage.addresses.fetch(wallet.id):
            if a["address"] in with_balance or (a.get("createdOn") or 0) >= since:
                out.setdefault(a["address"], a)
        return list(out.values())

    async def _get_balance_two_step(self, opts: dict) -> dict:
        """Two-step balance (§6.4) -> the partial balance now; the full one
        follows as a BalanceUpdated notification when different."""
        wallet = await self._fetch_wallet()
        if wallet.is_scan_error():
            raise Errors.WALLET_NEED_SCAN
        threshold = self._two_step_threshold()
        cache = await self.storage.cache.get(wallet.id, "twoStep", None) or {}
        if not (isinstance(cache.get("addressCount"), int) and cache["addressCount"] > threshold):
            count = await self.storage.addresses.count(wallet.id)
            if count < threshold:
                return await self._get_balance_one_step(opts)
            await self.storage.cache.set(wallet.id, "twoStep", None, {"addressCount": count})
        coin = opts.get("coin")
        active = await self._active_addresses(wallet)
        utxo_opts: dict[str, Any] = {"addresses": active}
        if coin:
            utxo_opts["coin"] = coin
        utxos = await self.get_wallet_utxos(utxo_opts, wallet=wallet) if active else []
        partial = totalize(utxos)

        last_empty = cache.get("lastEmpty")
        recent_empty = isinstance(last_empty, (int, float)) and last_empty > self.now_s() - (
            C.TWO_STEP_INACTIVE_CLEAN_DURATION_MIN * 60
        )
        if not recent_empty:
            n_active = len(active)

            async def follow_up() -> None:
                if await self.storage.addresses.count(wallet.id) == n_active:
                    return
                full = await self._get_balance_one_step(opts, cache_ttl=C.BALANCE_CACHE_DURATION)
                if full != partial:
                    await self._notify("BalanceUpdated", full, is_global=True)
                else:
                    await self.storage.cache.set(wallet.id, "twoStep", None, {"lastEmpty": self.now_s()})

            spawn(self.storage, follow_up, name="two-step balance")
        return partial


__all__ = ["BalanceCacheMixin", "balance_cache_key"]
