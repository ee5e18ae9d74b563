"""Wallet addresses: create (with the main-address gap check) and list
(docs/spec/api.md §4.16, §6.1, §6.2)."""

from __future__ import annotations

import logging
from typing import Optional

from bws.chains.address import derive_address
from bws.chains.rules import rules_for
from bws.errors import Errors, ServerError, bad_request
from bws.model import Address, Notification, Wallet
from bws.model import constants as C

from .base import Aggregate, is_int, maybe_await, truthy
from .context import Caller

log = logging.getLogger(__name__)


def address_out(doc: dict) -> dict:
    """Address dict for the wire: storage-only keys dropped (``scriptPubKey``)."""
    return {k: v for k, v in doc.items() if k not in ("scriptPubKey", "_id")}


def derive_wallet_address(wallet: Wallet, is_change: bool, now: Optional[int] = None) -> Address:
    """Next address of the wallet branch (advances the wallet's
    AddressManager index).  The Address carries ``scriptPubKey`` (hex, "" for
    ETH/TRY) in ``extra`` for storage: monitors match by it.
    Raises ServerError("Bad xPub") when derivation fails (docs/spec/api.md §6.2)."""
    path = wallet.address_manager.get_new_address_path(is_change)
    try:
        xpubs = [k["xPubKey"] for k in wallet.public_key_ring]
        d = derive_address(xpubs, path, wallet.coin, wallet.network, wallet.address_type, wallet.m)
        spk = rules_for(wallet.coin).script_for_address(d["address"])
    except Exception as e:
        log.warning("address derivation failed for wallet %s at %s: %r", wallet.id, path, e)
        raise ServerError("Bad xPub") from None
    a = Address.create(
        d["address"],
        wallet.id,
        wallet.coin,
        d["network"],
        d["path"],
        d["publicKeys"],
        isChange=is_change,
        type=d["type"],
        now=now,
    )
    a.extra["scriptPubKey"] = spk
    return a


class Addresses(Aggregate):
    """createAddress, getMainAddresses, and the helpers to store new wallet addresses."""

    def _max_main_address_gap(self) -> int:
        return int(self.tunables.max_main_address_gap)

    async def register_addresses(self, caller: Caller, wallet: Wallet, addresses: list[Address]) -> None:
        """Tell the explorer to watch new addresses (when it supports it:
        ``register_addresses``, the bitcoind explorer; the EVM explorers read
        the monitors' transaction index and have none) before they are
        stored, so an address we hand out is always watched."""
        if not addresses:
            return
        try:
            ex = self._explorer(wallet.coin, wallet.network)
        except ServerError:
            return  # no explorer configured: nothing to register with
        register = getattr(ex, "register_addresses", None)
        if register is None:
            return
        await maybe_await(register([a.to_dict() for a in addresses]))

    async def store_new_addresses(
        self, caller: Caller, wallet: Wallet, addresses: list[Address], *notes: Notification
    ) -> None:
        """Register with the explorer, then store the addresses together with
        the wallet whose index produced them and the notifications announcing
        them (atomically: a failed store keeps none of them), then publish."""
        await self.register_addresses(caller, wallet, addresses)
        wallet_doc, address_docs = wallet.to_dict(for_storage=True), [a.to_dict() for a in addresses]
        await self.notifier.commit(
            notes,
            lambda docs, renew_id: self.storage.addresses.store_with_wallet(wallet_doc, address_docs, docs, renew_id),
        )

    async def _can_create_address(self, caller: Caller, ignore_max_gap: bool, is_change: bool = False) -> bool:
        """Gap check (docs/spec/api.md §6.2): False when the last MAX_MAIN_ADDRESS_GAP receive
        addresses all lack activity.  Activity found is cached on the address
        (``hasActivity``).  Explorer errors propagate.  is_change: the same
        check on the change branch (``POST /v4/addresses/ {isChange: true}``:
        upstream skips the limit for change addresses, ours does not,
        docs/compatibility.md)."""
        if ignore_max_gap:
            return True
        gap = self._max_main_address_gap()
        addresses = [
            a for a in await self.storage.addresses.fetch(caller.wallet_id) if bool(a.get("isChange")) == is_change
        ]
        latest = addresses[-gap:] if gap > 0 else []
        if len(latest) < gap or any(a.get("hasActivity") for a in latest):
            return True
        first = latest[0]
        for a in reversed(latest):
            active = await self._explorer_call(
                first.get("coin") or C.DEFAULT_COIN, first.get("network"), "get_address_activity", a["address"]
            )
            if active:
                a["hasActivity"] = True
                await self.storage.addresses.store(a)
                return True
        return False

    async def create_address(self, caller: Caller, opts: Optional[dict] = None) -> dict:
        """New receive address (docs/spec/api.md §6.2) -> Address dict
        ``{version, createdOn, address, walletId, isChange, path, publicKeys, coin, network, type}``.

        opts: ``{ignoreMaxGap?: bool, isChange?: bool}`` (``isChange``: only
        ``POST /v4/addresses/`` passes it; a change address, ``m/1/i``, under
        the gap check of the change branch).  Single-address wallets always get
        their first address (no notification).  Emits NewAddress
        ``{address}``.  Errors: MAIN_ADDRESS_GAP_REACHED, WALLET_NOT_FOUND,
        WALLET_NOT_COMPLETE, WALLET_NEED_SCAN, 500 "Bad xPub", explorer errors."""
        opts = opts or {}
        is_change = truthy(opts.get("isChange"))
        if not await self._can_create_address(caller, truthy(opts.get("ignoreMaxGap")), is_change):
            raise Errors.MAIN_ADDRESS_GAP_REACHED

        async def create() -> dict:
            wallet = await self._fetch_wallet(caller.wallet_id)
            if not wallet.is_complete():
                raise Errors.WALLET_NOT_COMPLETE
            if wallet.is_scan_error():
                raise Errors.WALLET_NEED_SCAN
            if wallet.single_address:
                existing = await self.storage.addresses.fetch(caller.wallet_id)
                if existing:
                    return address_out(existing[0])
            address = derive_wallet_address(wallet, is_change, now=self.now_s())
            notice = self._new_notification(caller, "NewAddress", {"address": address.address})
            await self.store_new_addresses(caller, wallet, [address], notice)
            return address_out(address.to_dict())

        return await self._run_locked(caller.wallet_id, create)

    async def get_main_addresses(self, caller: Caller, opts: Optional[dict] = None) -> list[dict]:
        """Receive (non-change) addresses in creation order (docs/spec/api.md §4.16).

        opts: ``{limit?: int (applied when > 0), reverse?: bool (before the
        limit)}`` -> list of Address dicts."""
        opts = opts or {}
        stored = await self.storage.addresses.fetch(caller.wallet_id)
        addresses = [address_out(a) for a in stored if not a.get("isChange")]
        if truthy(opts.get("reverse")):
            addresses.reverse()
        limit = opts.get("limit")
        if is_int(limit) and int(limit) > 0:
            addresses = addresses[: int(limit)]
        return addresses

    async def get_addresses(self, caller: Caller, opts: Optional[dict] = None) -> list[dict]:
        """Every address of the wallet, receive and change, in creation order
        (``GET /v2/addresses``; upstream lib/server.ts ``getAddresses``).

        opts: ``{noChange?: bool (receive addresses only), addresses?: [str]
        (only these), reverse?: bool, skip?: int >= 0, limit?: int > 0}``,
        applied in that order -> list of Address dicts.  A skip or limit that
        is not a non-negative integer is 400 "Invalid skip" / "Invalid limit"."""
        opts = opts or {}
        skip, limit = opts.get("skip"), opts.get("limit")
        if skip is not None and not (is_int(skip) and int(skip) >= 0):
            raise bad_request("Invalid skip")
        if limit is not None and not (is_int(limit) and int(limit) >= 0):
            raise bad_request("Invalid limit")
        addresses = [address_out(a) for a in await self.storage.addresses.fetch(caller.wallet_id)]
        if truthy(opts.get("noChange")):
            addresses = [a for a in addresses if not a.get("isChange")]
        wanted = opts.get("addresses")
        if isinstance(wanted, list):
            keep = {w for w in wanted if isinstance(w, str)}
            addresses = [a for a in addresses if a.get("address") in keep]
        if truthy(opts.get("reverse")):
            addresses.reverse()
        if skip or limit:  # upstream: limit 0 means "no limit"
            start = int(skip or 0)
            addresses = addresses[start : start + int(limit)] if limit else addresses[start:]
        return addresses

    async def clear_cache(self, caller: Caller, opts: Optional[dict] = None) -> dict:
        """Forget what is cached about the wallet (``POST /v1/clearcache/``;
        upstream ``clearWalletCache``): its balance cache (addresses with
        balance) is dropped and its history cache marked stale, so the next
        balance and history reads ask the explorer -> ``{"success": true}``.

        opts: ``{tokenAddress?}``: a token's cache (EVM) is not something this
        server keeps: a non-empty value is 400 naming it.  Errors:
        WALLET_NOT_FOUND."""
        opts = opts or {}
        if truthy(opts.get("tokenAddress")):
            raise bad_request("tokenAddress is not supported: there is no token cache to clear")
        wallet = await self._fetch_wallet(caller.wallet_id)
        await self.storage.cache.delete(wallet.id, "addressesWithBalance")
        await self.storage.cache.soft_reset(wallet.id)
        return {"success": True}
