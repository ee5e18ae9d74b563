"""The balance aggregate: wallet UTXOs, UTXOs by address, the balance
(docs/spec/api.md §4.17, §4.20, §6.3, §6.4, §10 Q8, Q17; upstream
bitcore-wallet-service lib/server.js getUtxos / getBalance).

* ``get_wallet_utxos``: the wallet's UTXOs with ``locked`` (inputs of pending
  proposals); a read (the pending list marks proposals found on chain,
  bws/services/proposals.py).
* ``get_balance(opts)``: one step -- wallets with >= 100 addresses (tunable
  ``balance_cache_address_threshold``) reuse a balance computed less than
  ``cache_ttl`` seconds ago for the same address set (cache type
  ``balanceCache``, key = sha256 hex of the sorted address strings + coin
  override; Q8: the reference effectively keyed by the address *count*,
  content ``{ts (ms), result}``); ``twoStep`` -- wallets with >= 100
  addresses (tunable ``two_step_balance_threshold``) first get the balance of
  their "active" addresses (those that held funds at the last full
  computation plus those created in the last 24 h); a background job then
  computes the full balance (fast-cache TTL 10 s) and emits a global
  ``BalanceUpdated`` notification (data = the full balance) when it differs.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any, Optional

from bws.chains.address import parse_address
from bws.chains.rules import rules_for
from bws.chains.selection import totalize
from bws.errors import BWSError, Errors, bad_request
from bws.jsnum import strip
from bws.model import TxProposal, Wallet
from bws.model import constants as C

from .base import Aggregate, truthy
from .context import Caller

log = logging.getLogger(__name__)

#: at most this many recently broadcast proposals "spend" their inputs (docs/spec/api.md
#: §6.3; how recent: the coin's ``broadcast_spend_window``, bws/chains/rules.py)
RECENT_BROADCAST_LIMIT = 100

_UTXO_KEYS = ("txid", "vout", "address", "scriptPubKey", "satoshis", "confirmations")


def normalize_utxo(u: dict, coin: str) -> dict:
    """Explorer UTXO -> ``{txid, vout, address, scriptPubKey, satoshis (int),
    confirmations (int, default 0), locked: False}`` (docs/spec/api.md §6.3)."""
    out = {k: u.get(k) for k in _UTXO_KEYS if k in u}
    sat = u.get("satoshis")
    if isinstance(sat, bool) or not isinstance(sat, (int, float)):
        sat = int(strip(float(u.get("amount") or 0) * rules_for(coin).unit))
    out["satoshis"] = int(sat)
    conf = u.get("confirmations")
    out["confirmations"] = int(conf) if isinstance(conf, (int, float)) and not isinstance(conf, bool) else 0
    out["locked"] = False
    return out


def address_coin_network(address: str) -> tuple[str, str]:
    """(coin, network) of a BTC/BCH address string (btc tried first);
    BADREQUEST "Invalid address" otherwise."""
    for coin in (C.COIN_BTC, C.COIN_BCH):
        try:
            return coin, parse_address(address, coin).network
        except Exception:
            continue
    raise bad_request("Invalid address")


def balance_cache_key(addresses: list[dict], coin: Optional[str] = None) -> str:
    """sha256 hex of ``coin|`` + the sorted, comma-joined address strings."""
    text = (coin or "") + "|" + ",".join(sorted(a["address"] for a in addresses))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Balance(Aggregate):
    """getWalletUtxos, getUtxos, getBalance (one step and two steps)."""

    # ------------------------------------------------------------ utxos (docs/spec/api.md §6.3)
    async def get_wallet_utxos(
        self, caller: Caller, opts: Optional[dict] = None, wallet: Optional[Wallet] = None
    ) -> list[dict]:
        """The wallet's UTXOs with ``locked`` (inputs of pending proposals),
        minus inputs of proposals broadcast within the coin's
        ``broadcast_spend_window`` (UTXO coins: 24 h), each with
        ``path`` and ``publicKeys`` of its address.

        opts: ``{addresses?: [Address dict], coin?: str}``.  A ``coin`` override
        skips the path/publicKeys attachment.  Errors: WALLET_NOT_FOUND,
        WALLET_NEED_SCAN, explorer errors."""
        opts = opts or {}
        wallet = wallet or await self._fetch_wallet(caller.wallet_id)
        if wallet.is_scan_error():
            raise Errors.WALLET_NEED_SCAN
        addresses = opts.get("addresses")
        if addresses is None:
            addresses = await self.storage.addresses.fetch(wallet.id)
        if not addresses:
            return []
        coin = opts.get("coin") or wallet.coin
        network = addresses[0].get("network") or wallet.network
        raw = await self._explorer_call(coin, network, "get_utxos", [a["address"] for a in addresses])
        utxos = [normalize_utxo(u, coin) for u in (raw or [])]
        if not utxos:
            return []
        # inputs of pending proposals are locked; an accepted one the chain
        # already knows spent them (the pending listing marks it broadcast:
        # a read never writes, so none is marked here -- review finding: the
        # read inside the createTx/publish lock used to call the explorer AND write)
        pending = [TxProposal.from_dict(d) for d in await self.storage.proposals.fetch_pending(wallet.id)]
        on_chain = {t.id for t in await self._accepted_on_chain(pending)}
        locked, spent = set(), set()
        for txp in pending:
            for i in txp.inputs or []:
                (spent if txp.id in on_chain else locked).add(f"{i.get('txid')}|{i.get('vout')}")
        for u in utxos:
            if f"{u['txid']}|{u['vout']}" in locked:
                u["locked"] = True
        window = rules_for(coin).broadcast_spend_window
        if window:
            recent = await self.storage.proposals.fetch_broadcasted(
                wallet.id, min_ts=self.now_s() - window, limit=RECENT_BROADCAST_LIMIT
            )
            for txp in recent:
                for i in txp.get("inputs") or []:
                    spent.add(f"{i.get('txid')}|{i.get('vout')}")
            utxos = [u for u in utxos if f"{u['txid']}|{u['vout']}" not in spent]
        if not opts.get("coin"):
            by_address = {a["address"]: a for a in addresses}
            kept = []
            for u in utxos:
                a = by_address.get(u.get("address"))
                if a is None:
                    continue
                u["path"] = a.get("path")
                u["publicKeys"] = a.get("publicKeys")
                kept.append(u)
            utxos = kept
        return utxos

    async def get_utxos(self, caller: Caller, opts: Optional[dict] = None) -> list[dict]:
        """``GET /v1/utxos/`` (docs/spec/api.md §4.20).

        opts: ``{addresses?: [str] | "a,b,c"}``.  Without addresses: the
        wallet's UTXOs (see :meth:`get_wallet_utxos`).  With addresses: the
        explorer's UTXOs of those addresses (coin/network from the first
        one), base fields only."""
        opts = opts or {}
        addresses = opts.get("addresses")
        if isinstance(addresses, str):
            addresses = [a for a in addresses.split(",") if a]
        first = addresses[0] if addresses and isinstance(addresses, list) else None
        if isinstance(first, str) and first[:2] in ("0x", "0X"):
            return await self._evm_utxos(caller, addresses)
        if not addresses:
            return await self.get_wallet_utxos(caller, {})
        if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
            raise bad_request("Invalid addresses")
        coin, network = address_coin_network(addresses[0])
        raw = await self._explorer_call(coin, network, "get_utxos", addresses)
        return [normalize_utxo(u, coin) for u in (raw or [])]

    async def _evm_utxos(self, caller: Caller, addresses: list[str]) -> list[dict]:
        """UTXOs of EVM addresses (docs/spec/api.md §10 Q17): the coin of the
        caller's wallet when it is an EVM one, else eth; one pseudo-UTXO per
        address.  BADREQUEST "Invalid address" for a malformed one."""
        coin = C.COIN_ETH
        if caller.wallet_id:
            try:
                coin = rules_for((await self._fetch_wallet(caller.wallet_id)).coin).account_lookup_coin
            except BWSError:
                pass
        for a in addresses:
            parse_address(a, coin)
        raw = await self._explorer_call(coin, C.LIVENET, "get_utxos", addresses)
        return [normalize_utxo(u, coin) for u in (raw or [])]

    # ------------------------------------------------------------ balance (docs/spec/api.md §6.4)
    async def get_balance(self, caller: Caller, opts: Optional[dict] = None) -> dict:
        """Balance totals (docs/spec/api.md §6.4) in satoshis: ``{totalAmount, lockedAmount,
        totalConfirmedAmount, lockedConfirmedAmount, availableAmount,
        availableConfirmedAmount, byAddress: [{address, path, amount}]}``.

        opts: ``{coin?: str, twoStep?: bool}``.  Errors: "Invalid coin",
        WALLET_NEED_SCAN, explorer errors."""
        opts = opts or {}
        coin = opts.get("coin")
        if coin is not None and coin not in C.COINS:
            raise bad_request("Invalid coin")
        if truthy(opts.get("twoStep")):
            return await self._get_balance_two_step(caller, opts)
        return await self._get_balance_one_step(caller, opts)

    async def _get_balance_from_addresses(
        self, caller: Caller, wallet: Wallet, addresses: list[dict], coin: Optional[str] = None
    ) -> dict:
        """Totals over the UTXOs of ``addresses``; stores the list of addresses
        that hold funds as the wallet's ``addressesWithBalance`` cache."""
        utxo_opts: dict[str, Any] = {"addresses": addresses}
        if coin:
            utxo_opts["coin"] = coin
        utxos = await self.get_wallet_utxos(caller, utxo_opts, wallet=wallet) if addresses else []
        if wallet.is_scan_error():
            raise Errors.WALLET_NEED_SCAN
        balance = totalize(utxos)
        await self.storage.cache.set(
            wallet.id, "addressesWithBalance", None, {"addresses": [b["address"] for b in balance["byAddress"]]}
        )
        return balance

    # ------------------------------------------------------------ two-step balance, fast cache (docs/spec/api.md §6.4, Q8)
    def _balance_cache_threshold(self) -> int:
        return int(self.tunables.balance_cache_address_threshold)

    def _two_step_threshold(self) -> int:
        return int(self.tunables.two_step_balance_threshold)

    async def _get_balance_one_step(
        self, caller: Caller, opts: dict, cache_ttl: float = C.BALANCE_CACHE_DIRECT_DURATION
    ) -> dict:
        """All wallet addresses, under the wallet lock; fast cache for big
        wallets (see module doc); stores ``addressesWithBalance``."""

        async def compute() -> dict:
            wallet = await self._fetch_wallet(caller.wallet_id)
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
            balance = await self._get_balance_from_addresses(caller, wallet, addresses, coin)
            if use_cache:
                await self.storage.cache.set(wallet.id, "balanceCache", key, {"ts": self.now_ms(), "result": balance})
            return balance

        return await self._run_locked(caller.wallet_id, compute)

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

    async def _get_balance_two_step(self, caller: Caller, opts: dict) -> dict:
        """Two-step balance (docs/spec/api.md §6.4) -> the partial balance now; the full one
        follows as a BalanceUpdated notification when different."""
        wallet = await self._fetch_wallet(caller.wallet_id)
        if wallet.is_scan_error():
            raise Errors.WALLET_NEED_SCAN
        threshold = self._two_step_threshold()
        cache = await self.storage.cache.get(wallet.id, "twoStep", None) or {}
        if not (isinstance(cache.get("addressCount"), int) and cache["addressCount"] > threshold):
            count = await self.storage.addresses.count(wallet.id)
            if count < threshold:
                return await self._get_balance_one_step(caller, opts)
            await self.storage.cache.set(wallet.id, "twoStep", None, {"addressCount": count})
        coin = opts.get("coin")
        active = await self._active_addresses(wallet)
        utxo_opts: dict[str, Any] = {"addresses": active}
        if coin:
            utxo_opts["coin"] = coin
        utxos = await self.get_wallet_utxos(caller, utxo_opts, wallet=wallet) if active else []
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
                full = await self._get_balance_one_step(caller, opts, cache_ttl=C.BALANCE_CACHE_DURATION)
                if full != partial:
                    await self._notify(caller, "BalanceUpdated", full, is_global=True)
                else:
                    await self.storage.cache.set(wallet.id, "twoStep", None, {"lastEmpty": self.now_s()})

            self.state.jobs.spawn(follow_up, name="two-step balance")
        return partial
