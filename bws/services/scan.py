"""Address scan (docs/spec/api.md §4.23, §6.15, §10 Q4).

``start_scan`` answers ``{"started": true}`` at once and runs :meth:`scan`
~100 ms later in the background; when it ends a global ``ScanFinished``
notification ``{result: "success"|"error", error?: message}`` is stored.

``scan`` (under the wallet lock for its whole duration) walks the receive
and change branches of the wallet (and, with ``includeCopayerBranches``, each
BIP45 copayer branch), deriving addresses until ``gap`` consecutive ones have
no activity (default SCAN_ADDRESS_GAP = 40, option ``scanAddressGap``; the
fork's hard-coded 2 is not followed, Q4).  Each batch of ``gap`` new
addresses is registered with the explorer with a chain rescan *before* its
activity is asked (one rescan per batch instead of one per address).  The
last index with activity of each branch is remembered in the
``addressIndexCache`` cache (key = branch base path) so a later scan
prederives up to it.  An explorer error aborts the scan: the failing branch
stores nothing, the wallet gets ``scanStatus: "error"`` and balance / UTXOs /
createAddress / createTx answer WALLET_NEED_SCAN until a scan succeeds.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Optional

from bws.errors import ClientError, Errors, ServerError
from bws.model import Address, Wallet
from bws.model import constants as C

from .addresses import derive_wallet_address
from .base import Aggregate, maybe_await, truthy
from .context import Caller

log = logging.getLogger(__name__)

SCAN_START_DELAY = 0.1  # s


class _Branch:
    """One derivation branch: a wallet view whose AddressManager is the branch's."""

    def __init__(self, wallet: Wallet, manager: Any, is_change: bool):
        self.view = copy.copy(wallet)
        self.view.address_manager = manager
        self.manager = manager
        self.is_change = is_change

    @property
    def base_path(self) -> str:
        return self.manager.get_base_address_path(self.is_change)

    @property
    def index(self) -> int:
        return self.manager.get_current_index(self.is_change)

    def derive(self, now: int) -> Address:
        return derive_wallet_address(self.view, self.is_change, now=now)


class Scan(Aggregate):
    """startScan and scan."""

    def _scan_gap(self) -> int:
        return max(1, int(self.tunables.scan_address_gap))

    async def start_scan(self, caller: Caller, opts: Optional[dict] = None) -> dict:
        """``POST /v1/addresses/scan/`` -> ``{"started": true}``; the scan runs
        in the background.  opts: ``{includeCopayerBranches?: bool}``.
        Errors (before starting): WALLET_NOT_FOUND, WALLET_NOT_COMPLETE."""
        opts = opts if isinstance(opts, dict) else {}
        wallet = await self._fetch_wallet(caller.wallet_id)
        if not wallet.is_complete():
            raise Errors.WALLET_NOT_COMPLETE

        async def run() -> None:
            try:
                await self.scan(caller, opts)
                data: dict[str, Any] = {"result": "success"}
            except Exception as e:  # noqa: BLE001 - reported through the notification
                message = e.message if isinstance(e, (ClientError, ServerError)) else str(e) or type(e).__name__
                data = {"result": "error", "error": message}
            await self._notify(caller, "ScanFinished", data, is_global=True, wallet_id=wallet.id)

        self.state.jobs.spawn(run, delay=SCAN_START_DELAY, name="address scan")
        return {"started": True}

    async def _register_for_scan(self, wallet: Wallet, addresses: list[Address]) -> None:
        """Make the explorer watch ``addresses`` with a rescan (they may have history)."""
        ex = self._explorer(wallet.coin, wallet.network)
        register = getattr(ex, "register_addresses", None)
        if register is None or not addresses:
            return
        try:
            await maybe_await(register([a.to_dict() for a in addresses], rescan=True))
        except TypeError:
            await maybe_await(register([a.to_dict() for a in addresses]))

    async def _scan_branch(self, wallet: Wallet, branch: _Branch, gap: int) -> list[Address]:
        """Derive and check one branch; returns the addresses to store
        (prederived + active ones up to the last activity).  Explorer errors
        propagate (the caller aborts).  Leaves the branch index right after
        the last stored address."""
        now = self.now_s()
        cached = await self.storage.cache.get(wallet.id, "addressIndexCache", branch.base_path)
        cached_index = cached.get("index") if cached else None
        prederived: list[Address] = []
        if isinstance(cached_index, int):
            for _ in range(cached_index - branch.index):
                prederived.append(branch.derive(now))
        if prederived:
            await self._register_for_scan(wallet, prederived)
        found: list[Address] = []
        queue: list[Address] = []
        inactive = 0
        while inactive < gap:
            if not queue:
                queue = [branch.derive(now) for _ in range(gap)]
                await self._register_for_scan(wallet, queue)
            a = queue.pop(0)
            active = await self._explorer_call(wallet.coin, wallet.network, "get_address_activity", a.address)
            found.append(a)
            if active:
                inactive = 0
                await self.storage.cache.set(
                    wallet.id, "addressIndexCache", branch.base_path, {"index": branch.index - len(queue)}
                )
            else:
                inactive += 1
        branch.manager.rewind_index(branch.is_change, len(queue) + gap)
        return prederived + found[: len(found) - gap]

    async def scan(self, caller: Caller, opts: Optional[dict] = None) -> None:
        """Scan the wallet's branches (see module doc).  Raises the explorer's
        error after recording ``scanStatus: "error"``; WALLET_NOT_COMPLETE."""
        opts = opts if isinstance(opts, dict) else {}
        include_copayers = truthy(opts.get("includeCopayerBranches"))

        async def run() -> None:
            wallet = await self._fetch_wallet(caller.wallet_id)
            if not wallet.is_complete():
                raise Errors.WALLET_NOT_COMPLETE
            wallet.scan_status = C.SCAN_RUNNING
            await self.storage.cache.clear_history(wallet.id)
            await self.storage.wallets.store(wallet.to_dict(for_storage=True))

            gap = self._scan_gap()
            error: Optional[Exception] = None
            for is_change in (False, True):
                branches = [_Branch(wallet, wallet.address_manager, is_change)]
                if include_copayers and wallet.derivation_strategy == C.BIP45:
                    branches += [
                        _Branch(wallet, c.address_manager, is_change) for c in wallet.copayers if c.address_manager
                    ]
                for branch in branches:
                    try:
                        addresses = await self._scan_branch(wallet, branch, gap)
                    except Exception as e:  # noqa: BLE001 - abort the scan, record the error
                        log.warning("scan of wallet %s failed at %s: %r", wallet.id, branch.base_path, e)
                        error = e
                        break
                    await self.storage.addresses.store_with_wallet(
                        wallet.to_dict(for_storage=True), [a.to_dict() for a in addresses]
                    )
                if error is not None:
                    break

            wallet = await self._fetch_wallet(caller.wallet_id)
            wallet.scan_status = C.SCAN_ERROR if error is not None else C.SCAN_SUCCESS
            await self.storage.wallets.store(wallet.to_dict(for_storage=True))
            await self.storage.cache.delete(wallet.id, "twoStep")
            if error is not None:
                raise error

        await self._run_locked(caller.wallet_id, run)


__all__ = ["Scan"]
