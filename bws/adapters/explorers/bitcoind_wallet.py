"""The watch-only wallet the bitcoind explorer keeps on the node
(bws/adapters/explorers/bitcoind.py explains why a wallet and not ``scantxoutset``).

:class:`WatchWallet` owns everything about that wallet: loading it (or
creating it, private keys disabled) once per process, reloading it when the
node restarted without it, wallet-scoped RPCs, and importing output scripts
by scriptPubKey hex -- ``importdescriptors`` with ``raw(<hex>)#checksum`` on
descriptor wallets, ``importmulti`` on legacy ones (litecoind 0.21 is built
without sqlite, so it has only legacy wallets).
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping, Optional, Sequence, Union
from urllib.parse import quote

from twisted.internet.defer import DeferredLock

from bws.adapters.bitcoind_rpc import BitcoindRpc, RpcError
from bws.adapters.errors import ExplorerError
from bws.chains.script import descriptor_with_checksum

__all__ = ["WatchWallet", "DEFAULT_WALLET", "RPC_WALLET_NOT_FOUND", "RPC_WALLET_ALREADY_LOADED"]

log = logging.getLogger("bws.adapters.explorers.bitcoind")

#: Name of the watch-only wallet created on the node when missing.
DEFAULT_WALLET = "bws-watch"

# Bitcoin Core RPC error codes we act on (src/rpc/protocol.h).
RPC_WALLET_NOT_FOUND = -18
RPC_WALLET_ALREADY_LOADED = -35

#: Scripts per import call: each rescanning call rescans once for all its scripts.
_IMPORT_CHUNK = 1000


class WatchWallet:
    """The watch-only wallet ``name`` on the node behind ``rpc``.

    timeout / rescan_timeout: seconds an import may take without / with a chain
    rescan; auto_register: :meth:`ensure_watched` imports (with rescan) scripts
    the wallet does not watch yet; node_address: ``(scriptPubKey hex) ->
    address text or None`` that the node parses (for ``getaddressinfo``).
    Every method raises RpcError (an ExplorerError) with the node's message."""

    def __init__(
        self,
        rpc: BitcoindRpc,
        name: str,
        node_address: Callable[[str], Optional[str]],
        *,
        timeout: float,
        rescan_timeout: float,
        auto_register: bool,
    ):
        self.rpc = rpc
        self.name = name
        self.timeout = float(timeout)
        self.rescan_timeout = float(rescan_timeout)
        self.auto_register = auto_register
        self._node_address = node_address
        self._lock = DeferredLock()
        self._ready = False
        #: True when the wallet is a descriptor wallet (importdescriptors).
        self.descriptors = False
        #: scriptPubKey hex known to be watched by the wallet (this process' view).
        self.watched: set[str] = set()

    @property
    def path(self) -> str:
        return f"/wallet/{quote(self.name, safe='')}"

    async def call(self, method: str, *params: Any, timeout: Optional[float] = None) -> Any:
        """One wallet RPC; returns ``result``. A node restarted without our wallet
        loaded answers -18: the wallet is loaded again and the call retried once."""
        await self.ensure()
        try:
            return await self.rpc.call(method, *params, path=self.path, timeout=timeout)
        except RpcError as exc:
            if exc.code != RPC_WALLET_NOT_FOUND:
                raise
        self._ready = False
        await self.ensure()
        return await self.rpc.call(method, *params, path=self.path, timeout=timeout)

    async def batch(self, calls: Sequence[tuple[str, list]]) -> list[tuple[Any, Any]]:
        """Wallet RPCs in JSON-RPC batches: ``[(result, error_dict_or_None)]`` in call order."""
        await self.ensure()
        return await self.rpc.batch(calls, path=self.path)

    async def ensure(self) -> None:
        """Load (or create, private keys disabled) the wallet once per process."""
        if self._ready:
            return
        await self._lock.acquire()
        try:
            if self._ready:
                return
            if self.name not in (await self.rpc.call("listwallets", path="/") or []):
                try:
                    await self.rpc.call("loadwallet", self.name, path="/")
                except RpcError as exc:
                    if exc.code == RPC_WALLET_ALREADY_LOADED:
                        pass
                    elif exc.code == RPC_WALLET_NOT_FOUND or "not exist" in exc.message or "not found" in exc.message:
                        await self._create()
                    else:
                        raise
            info = await self.rpc.call("getwalletinfo", path=self.path)
            self.descriptors = bool(info.get("descriptors"))
            self._ready = True
        finally:
            self._lock.release()

    async def _create(self) -> None:
        # createwallet(name, disable_private_keys, blank, passphrase, avoid_reuse, descriptors, load_on_startup)
        # A descriptor wallet first (the only kind recent bitcoind creates), then legacy for
        # nodes built without sqlite (litecoind 0.21 Debian) or older versions.
        attempts = [
            [self.name, True, True, "", False, True, True],
            [self.name, True, True, "", False, False, True],
            [self.name, True, True],
        ]
        last: Optional[RpcError] = None
        for params in attempts:
            try:
                await self.rpc.call("createwallet", *params, path="/")
                log.info("created watch-only wallet %r on %s", self.name, self.rpc.where)
                return
            except RpcError as exc:
                if "already exists" in exc.message or exc.code == RPC_WALLET_ALREADY_LOADED:
                    # Another process created it meanwhile.
                    try:
                        await self.rpc.call("loadwallet", self.name, path="/")
                    except RpcError as exc2:
                        if exc2.code != RPC_WALLET_ALREADY_LOADED:
                            raise
                    return
                last = exc
        assert last is not None
        raise last

    async def import_scripts(self, scripts: Mapping[str, str], rescan: Union[bool, int]) -> None:
        """Watch ``scripts`` (``{scriptPubKey hex: address text}``, the address only
        for messages). rescan: False (new scripts: from now), True (the whole
        chain) or a unix timestamp to rescan from. Raises ExplorerError naming the
        address the node refused."""
        await self.ensure()
        ts: Union[str, int] = "now" if rescan is False else (0 if rescan is True else int(rescan))
        timeout = self.timeout if ts == "now" else self.rescan_timeout
        items = list(scripts.items())
        for start in range(0, len(items), _IMPORT_CHUNK):
            chunk = items[start:start + _IMPORT_CHUNK]
            if self.descriptors:
                reqs = []
                for spk, _ in chunk:
                    reqs.append({"desc": descriptor_with_checksum(f"raw({spk})"), "timestamp": ts, "active": False})
                results = await self.call("importdescriptors", reqs, timeout=timeout)
            else:
                reqs = [{"scriptPubKey": spk, "watchonly": True, "timestamp": ts} for spk, _ in chunk]
                results = await self.call("importmulti", reqs, {"rescan": ts != "now"}, timeout=timeout)
            for (spk, addr), res in zip(chunk, results or []):
                if not res.get("success"):
                    msg = (res.get("error") or {}).get("message") or "import failed"
                    raise ExplorerError(f"Blockchain node cannot watch {addr}: {msg}")
            self.watched.update(spk for spk, _ in chunk)

    async def ensure_watched(self, scripts: Mapping[str, str]) -> None:
        """Import (rescanning) the scripts the wallet does not watch yet, when
        ``auto_register``: a forgotten registration costs time, never correctness."""
        unknown = [s for s in scripts if s not in self.watched]
        if not unknown or not self.auto_register:
            return
        askable = [s for s in unknown if self._node_address(s)]
        results = await self.batch([("getaddressinfo", [self._node_address(s)]) for s in askable])
        missing: dict[str, str] = {}
        for spk, (res, err) in zip(askable, results):
            if not err and res and (res.get("iswatchonly") or res.get("ismine")):
                self.watched.add(spk)
            else:
                missing[spk] = scripts[spk]
        if missing:
            log.warning("importing %d unregistered script(s) with a chain rescan", len(missing))
            await self.import_scripts(missing, True)
