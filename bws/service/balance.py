"""Wallet UTXOs, one-step balance and the pending-proposal list
(spec api.md §4.8, §4.17, §4.20, §6.3, §6.4).

Two-step balance, the fast balance cache and the pending list's blockchain
check (§6.11) belong to the transaction area: it overrides
``_get_balance_two_step`` / ``_check_pending_broadcasts`` (a mixin listed
before this one in WalletService wins)."""

from __future__ import annotations

import logging
from typing import Any, Optional

from bws.chains.address import parse_address
from bws.chains.selection import totalize
from bws.chains.txbuild import signed_raw
from bws.errors import BWSError, Errors, bad_request
from bws.jsnum import strip
from bws.model import TxProposal, Wallet
from bws.service.lookups import WalletFacts
from bws.model import constants as C

from .base import ServiceBase, truthy

log = logging.getLogger(__name__)

#: proposals broadcast within this many seconds still "spend" their inputs (§6.3)
RECENT_BROADCAST_WINDOW = 24 * 3600
RECENT_BROADCAST_LIMIT = 100

_UTXO_KEYS = ("txid", "vout", "address", "scriptPubKey", "satoshis", "confirmations")


def _unit_factor(coin: str) -> int:
    return 10**18 if coin in C.EVM_COINS else 10**8


def normalize_utxo(u: dict, coin: str) -> dict:
    """Explorer UTXO -> ``{txid, vout, address, scriptPubKey, satoshis (int),
    confirmations (int, default 0), locked: False}`` (§6.3)."""
    out = {k: u.get(k) for k in _UTXO_KEYS if k in u}
    sat = u.get("satoshis")
    if isinstance(sat, bool) or not isinstance(sat, (int, float)):
        sat = int(strip(float(u.get("amount") or 0) * _unit_factor(coin)))
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


class BalanceMixin(ServiceBase):
    """getWalletUtxos, getUtxos, getBalance (one-step), getPendingTxs (basic)."""

    # ------------------------------------------------------------ utxos (§6.3)
    async def get_wallet_utxos(self, opts: Optional[dict] = None, wallet: Optional[Wallet] = None) -> list[dict]:
        """The wallet's UTXOs with ``locked`` (inputs of pending proposals),
        minus inputs of proposals broadcast in the last 24 h, each with
        ``path`` and ``publicKeys`` of its address.

        opts: ``{addresses?: [Address dict], coin?: str}``.  A ``coin`` override
        skips the path/publicKeys attachment.  Errors: WALLET_NOT_FOUND,
        WALLET_NEED_SCAN, explorer errors."""
        opts = opts or {}
        wallet = wallet or await self._fetch_wallet()
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
        locked = set()
        # take_lock=False: this may run under the wallet lock already (createTx, publish, balance)
        for txp in await self.get_pending_txs({}, decorate=False, take_lock=False):
            for i in txp.get("inputs") or []:
                locked.add(f"{i.get('txid')}|{i.get('vout')}")
        for u in utxos:
            if f"{u['txid']}|{u['vout']}" in locked:
                u["locked"] = True
        if coin in C.UTXO_COINS:
            spent = set()
            recent = await self.storage.proposals.fetch_broadcasted(
                wallet.id, min_ts=self.now_s() - RECENT_BROADCAST_WINDOW, limit=RECENT_BROADCAST_LIMIT
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

    async def get_utxos(self, opts: Optional[dict] = None) -> list[dict]:
        """``GET /v1/utxos/`` (§4.20).

        opts: ``{addresses?: [str] | "a,b,c"}``.  Without addresses: the
        wallet's UTXOs (see :meth:`get_wallet_utxos`).  With addresses: the
        explorer's UTXOs of those addresses (coin/network from the first
        one), base fields only."""
        opts = opts or {}
        addresses = opts.get("addresses")
        if isinstance(addresses, str):
            addresses = [a for a in addresses.split(",") if a]
        if not addresses:
            return await self.get_wallet_utxos({})
        if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
            raise bad_request("Invalid addresses")
        coin, network = address_coin_network(addresses[0])
        raw = await self._explorer_call(coin, network, "get_utxos", addresses)
        return [normalize_utxo(u, coin) for u in (raw or [])]

    # ------------------------------------------------------------ balance (§6.4)
    async def get_balance(self, opts: Optional[dict] = None) -> dict:
        """Balance totals (§6.4) in satoshis: ``{totalAmount, lockedAmount,
        totalConfirmedAmount, lockedConfirmedAmount, availableAmount,
        availableConfirmedAmount, byAddress: [{address, path, amount}]}``.

        opts: ``{coin?: str, twoStep?: bool}``.  Errors: "Invalid coin",
        WALLET_NEED_SCAN, explorer errors."""
        opts = opts or {}
        coin = opts.get("coin")
        if coin is not None and coin not in C.COINS:
            raise bad_request("Invalid coin")
        if truthy(opts.get("twoStep")):
            return await self._get_balance_two_step(opts)
        return await self._get_balance_one_step(opts)

    async def _get_balance_two_step(self, opts: dict) -> dict:
        """Two-step balance (§6.4); until the transaction area provides it, the
        one-step balance (same answer, no background follow-up)."""
        return await self._get_balance_one_step(opts)

    async def _get_balance_one_step(self, opts: dict) -> dict:
        """All wallet addresses, under the wallet lock; stores the
        ``addressesWithBalance`` cache."""

        async def compute() -> dict:
            wallet = await self._fetch_wallet()
            addresses = await self.storage.addresses.fetch(wallet.id)
            return await self._get_balance_from_addresses(wallet, addresses, opts.get("coin"))

        return await self._run_locked(compute)

    async def _get_balance_from_addresses(
        self, wallet: Wallet, addresses: list[dict], coin: Optional[str] = None
    ) -> dict:
        """Totals over the UTXOs of ``addresses``; stores the list of addresses
        that hold funds as the wallet's ``addressesWithBalance`` cache."""
        utxo_opts: dict[str, Any] = {"addresses": addresses}
        if coin:
            utxo_opts["coin"] = coin
        utxos = await self.get_wallet_utxos(utxo_opts, wallet=wallet) if addresses else []
        if wallet.is_scan_error():
            raise Errors.WALLET_NEED_SCAN
        balance = totalize(utxos)
        await self.storage.cache.set(
            wallet.id, "addressesWithBalance", None, {"addresses": [b["address"] for b in balance["byAddress"]]}
        )
        return balance

    # ------------------------------------------------------------ pending (§4.8)
    async def _check_pending_broadcasts(self, txps: list[TxProposal], *, take_lock: bool = True) -> list[TxProposal]:
        """Hook for the transaction area: mark accepted proposals already on
        chain as broadcast and drop them (§6.11).  Default: unchanged."""
        return txps

    async def get_pending_txs(
        self, opts: Optional[dict] = None, decorate: bool = True, *, take_lock: bool = True
    ) -> list[dict]:
        """Pending and accepted proposals, newest first (§4.8), each decorated
        with ``creatorName``, ``derivationStrategy``, ``actions[].copayerName``
        and ``deleteLockTime`` (``decorate=False``: stored form only).
        Proposals found broadcast by a third party are marked under the wallet
        lock (``take_lock=False``: by the conditional store alone, for callers
        that may hold the lock already)."""
        docs = await self.storage.proposals.fetch_pending(self.wallet_id)
        txps = [TxProposal.from_dict(d) for d in docs]
        txps = await self._check_pending_broadcasts(txps, take_lock=take_lock)
        if not decorate:
            return [t.to_dict() for t in txps]
        if not txps:  # nothing to decorate: spare the wallet read (most polls)
            return []
        facts = await self._wallet_facts(complete=True)
        out = []
        for t in txps:
            d = self.decorate_txp(facts, t)
            d["deleteLockTime"] = t.remaining_delete_lock_time(self.copayer_id, self.now_s())
            out.append(d)
        return out

    async def get_tx(self, opts: dict) -> dict:
        """One proposal of the caller's wallet (§4.14), decorated like the
        pending list (without ``deleteLockTime``) plus ``note`` (the TxNote
        of its txid with ``editedByName``) when it has a txid.
        opts: ``{txProposalId}``.  Errors: TX_NOT_FOUND, WALLET_NOT_FOUND."""
        txp_id = opts.get("txProposalId")
        if not isinstance(txp_id, str) or not txp_id:
            raise Errors.TX_NOT_FOUND
        doc = await self.storage.proposals.fetch(self.wallet_id, txp_id)
        if not doc:
            raise Errors.TX_NOT_FOUND
        wallet = await self._fetch_wallet()
        txp = TxProposal.from_dict(doc)
        out = self.decorate_txp(WalletFacts.of(wallet), txp)
        if txp.txid:
            note = await self.storage.notes.fetch(self.wallet_id, txp.txid)
            if note:
                note = {k: v for k, v in note.items() if k != "_id"}
                c = wallet.get_copayer(note.get("editedBy"))
                note["editedByName"] = c.name if c is not None else "unknown"
                out["note"] = note
        return out

    def decorate_txp(self, facts: WalletFacts, txp: TxProposal) -> dict:
        """Read-time decorations (§5.4): creatorName (or "unknown"),
        derivationStrategy, actions[].copayerName (Q3: the acting copayer's
        name), and ``raw`` for accepted BTC/BCH proposals: the stored one, or
        rebuilt from the proposal and its accept actions when it was stored
        without (docs/spec/api.md §5.4 "raw (recomputed for accepted
        proposals)").
        facts: ``WalletFacts.of(wallet)`` (or cached, bws/service/lookups.py)."""
        d = txp.to_dict()
        names = facts.copayer_names
        d["creatorName"] = names.get(txp.creator_id, "unknown")
        d["derivationStrategy"] = facts.derivation_strategy
        for a in d.get("actions") or []:
            a["copayerName"] = names.get(a.get("copayerId"), "unknown")
        if txp.status == C.TXP_ACCEPTED and txp.coin in C.UTXO_COINS and not txp.is_legacy() and not d.get("raw"):
            try:
                d["raw"] = signed_raw(txp)
            except (BWSError, ValueError) as e:
                # Stored data this server cannot turn into a transaction (a bad
                # output, a stored signature that no longer verifies). This is a
                # read: the pending list and the proposal must still load, so
                # the copayers can see and remove it; the proposal is answered
                # without ``raw`` and a broadcast reports the build error. Only
                # these build errors are caught: anything else is a bug and
                # fails the request instead of silently dropping ``raw``.
                log.warning("accepted proposal %s: raw not rebuilt: %s", txp.id, e)
        return d
