"""Bitcoin Core JSON-RPC explorer backend (docs/spec/api.md §6.20, §6.3, §6.5, §6.11, §6.14, §6.15).

Talks to a bitcoind-compatible node (tested against litecoind 0.21 regtest, see
docs/spec/toolchain.md §3; uses only RPCs Bitcoin Core also has) and answers the
explorer contract of docs/spec/api.md §6.20 in the shapes the service expects from Insight.

Design: a watch-only wallet on the node, not ``scantxoutset``
--------------------------------------------------------------
Bitcoin Core has no address index, so "what belongs to these addresses" must
come from somewhere:

* ``scantxoutset`` scans the whole UTXO set on every call (seconds to minutes on
  mainnet, one scan at a time node-wide), sees *confirmed unspent outputs only*
  (no mempool, so no 0-conf balance, docs/spec/api.md §6.3) and has no history at all (§6.14)
  nor activity for spent-out addresses (docs/spec/api.md §6.15).
* A **watch-only wallet** ("bws-watch", private keys disabled) indexes every
  receive to an imported script *including mempool*, notices spends of those
  outputs (the spending tx is "from me"), and gives history through
  ``listtransactions``. Cost: a script must be imported before funds arrive,
  otherwise a rescan is needed (slow on mainnet) -- so the service should call
  :meth:`BitcoindExplorer.register_addresses` when it creates an address, and
  this module auto-imports (with rescan) any queried script the wallet does not
  watch yet, so a forgotten registration costs time, never correctness.

We chose the watch-only wallet. Scripts are imported **by scriptPubKey hex**
(``importmulti`` on legacy wallets, ``importdescriptors`` with ``raw(<hex>)`` on
descriptor wallets -- modern bitcoind only has the latter; litecoind 0.21 is
built without sqlite, so only the former), because address *text* is not
stable across nodes: litecoind re-encodes Bitcoin-testnet P2SH ``2…`` as
Litecoin ``Q…`` in every answer (docs/spec/toolchain.md §3). For the same reason every
output is matched by scriptPubKey, never by the node's ``address`` field, and
addresses we return are the caller's own strings (or encoded by us from the
script with the coin's standard versions).

Node requirements: ``server=1``, wallet support, and ``txindex=1`` so inputs
of foreign transactions can be resolved (values, senders, fees). Without
txindex, prevouts of our own wallet transactions still resolve (via
``gettransaction``), but foreign inputs show no address/value and fees read 0.

Scaling caveat: history and activity read the whole watch wallet
(``listtransactions``) and filter it by script in Python; decoded
transactions are cached (LRU), so repeated calls cost one RPC plus the new
transactions. Fine for a few thousand wallet transactions; a big deployment
would want an incremental ``listsinceblock`` index.

The watch wallet itself (load or create, imports, the watched set) is
bws/adapters/explorers/bitcoind_wallet.py; the Insight shapes are built by
bws/adapters/explorers/bitcoind_insight.py.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any, Iterable, Mapping, Optional, Sequence, Union
from urllib.parse import unquote

from twisted.internet.defer import Deferred

from bws.adapters.bitcoind_rpc import BitcoindRpc, RpcError
from bws.adapters.errors import ExplorerError
from bws.adapters.explorers.bitcoind_insight import insight_tx, sats, slim
from bws.adapters.explorers.bitcoind_wallet import DEFAULT_WALLET, WatchWallet
from bws.chains.address import address_from_script, script_for_address
from bws.chains.script import segwit_address, witness_program

__all__ = ["BitcoindExplorer", "DEFAULT_WALLET"]

log = logging.getLogger(__name__)

_LRU_SIZE = 50_000
_MAX_CONF = 9_999_999

# Bitcoin Core RPC error codes we act on (src/rpc/protocol.h).
RPC_INVALID_ADDRESS_OR_KEY = -5  # also "No such mempool or blockchain transaction"
RPC_INVALID_PARAMETER = -8

# Witness-program encodings for outputs that are not ours (BTC only; BCH has none).
_BECH32_HRP = {("btc", "livenet"): "bc", ("btc", "testnet"): "tb"}


# ---------------------------------------------------------------------------


class BitcoindExplorer:
    """Explorer contract of docs/spec/api.md §6.20 over Bitcoin Core JSON-RPC.

    coin: "btc" | "bch" (address formats, bws.chains.address); network:
    "livenet" | "testnet" (regtest nodes serve "testnet" wallets);
    url: ``http://user:pass@host:port`` -- Basic auth is taken from it, and a
    ``/wallet/<name>`` path selects the watch-only wallet (else ``wallet``,
    default "bws-watch"). timeout: seconds per RPC (default 30); rescan_timeout:
    seconds for imports that rescan the chain; concurrency: RPCs in flight at
    once (DeferredSemaphore); auto_register: import (with rescan) queried
    scripts the wallet does not watch yet.

    Every method is a coroutine (await it from Twisted code) and raises
    :class:`ExplorerError` (an ``RpcError`` carrying the node's message for RPC
    errors) when the node cannot answer; "not found" is ``None``, never an error.
    Call :meth:`close` to drop pooled connections.
    """

    def __init__(
        self,
        coin: str,
        network: str,
        url: str,
        reactor: Any,
        *,
        timeout: float = 30.0,
        rescan_timeout: float = 3600.0,
        concurrency: int = 8,
        auto_register: bool = True,
    ):
        self.coin = coin
        self.network = network
        #: the one JSON-RPC client (bws/adapters/bitcoind_rpc.py); raises ValueError for a bad url.
        self.rpc = BitcoindRpc(url, reactor, timeout=timeout, concurrency=concurrency)
        #: host:port without credentials, for error messages and logs.
        self.where = self.rpc.where
        path = self.rpc.url_path
        path_wallet = None
        if path.startswith("/wallet/") and len(path) > len("/wallet/"):
            path_wallet = unquote(path[len("/wallet/"):].rstrip("/"))
        self.wallet = path_wallet or DEFAULT_WALLET
        self.timeout = float(timeout)
        #: the watch-only wallet on the node (bws/adapters/explorers/bitcoind_wallet.py).
        self.watch = WatchWallet(
            self.rpc, self.wallet, self._node_address,
            timeout=timeout, rescan_timeout=rescan_timeout, auto_register=auto_register,
        )  # fmt: skip
        self._txcache: "OrderedDict[str, dict]" = OrderedDict()

    def close(self) -> Deferred:
        """Close pooled HTTP connections (returns a Deferred)."""
        return self.rpc.close()

    # -- transport ---------------------------------------------------------------

    async def _call(self, method: str, *params: Any, wallet: bool = False, timeout: Optional[float] = None) -> Any:
        """One RPC (``wallet``: in the watch wallet); returns ``result``, raises RpcError with the node's message."""
        if wallet:
            return await self.watch.call(method, *params, timeout=timeout)
        return await self.rpc.call(method, *params, path="/", timeout=timeout)

    async def _batch(self, calls: Sequence[tuple[str, list]], wallet: bool = False) -> list[tuple[Any, Any]]:
        """Several RPCs in JSON-RPC batches; returns ``[(result, error_dict_or_None)]``
        in call order. Transport failures raise ExplorerError."""
        if wallet:
            return await self.watch.batch(calls)
        return await self.rpc.batch(calls, path="/")

    # -- addresses <-> scripts ---------------------------------------------------

    def _scripts_of(self, addresses: Iterable[Any]) -> dict[str, str]:
        """{scriptPubKey hex: caller's address string}. Accepts strings or objects
        with ``.address`` / ``["address"]``. Raises ExplorerError for an invalid address."""
        out: dict[str, str] = {}
        for a in addresses:
            if not isinstance(a, str):
                a = a["address"] if isinstance(a, Mapping) else getattr(a, "address")
            try:
                spk = script_for_address(a, self.coin)
            except Exception:
                raise ExplorerError(f"Invalid address {a!r} for {self.coin}") from None
            if spk:
                out[spk.lower()] = a
        return out

    def _node_address(self, spk: str) -> Optional[str]:
        # Only used to *ask* the node about a script (filters, getaddressinfo): standard
        # Bitcoin versions, which bitcoind and litecoind both parse. Never compared.
        # Witness programs stay None: litecoind refuses tb1… (issue 18, HRP rltc).
        if witness_program(bytes.fromhex(spk)) is not None:
            return None
        return address_from_script(spk, "btc", self.network)

    def _encode(self, spk: str, ours: Mapping[str, str]) -> Optional[str]:
        """Address of an output script: the caller's own string when it is one of
        the queried scripts, else encoded by us for (coin, network); None if non-standard."""
        if spk in ours:
            return ours[spk]
        try:
            addr = address_from_script(spk, self.coin, self.network)
        except Exception:
            addr = None
        if addr:
            return addr
        hrp = _BECH32_HRP.get((self.coin, self.network))
        return segwit_address(hrp, spk) if hrp else None

    async def register_addresses(self, items: Iterable[Any], rescan: Union[bool, int] = False) -> int:
        """Make the node watch these addresses (idempotent; docs/spec/api.md §6.2 should call it
        on every new address).

        items: ``[{address: str, scriptPubKey?: hex}]`` (or plain address strings);
        the script is derived from the address when absent. rescan: False (default,
        address is new: no rescan, "now"), True (rescan the whole chain: the address
        may already have history) or a unix timestamp to rescan from.
        Returns the number of scripts imported. Raises ExplorerError (e.g. the node
        refused an import; the node's message is included).
        """
        scripts: dict[str, str] = {}
        for it in items:
            if isinstance(it, str):
                it = {"address": it}
            spk = (it.get("scriptPubKey") or "").lower() if isinstance(it, Mapping) else ""
            addr = it["address"] if isinstance(it, Mapping) else getattr(it, "address")
            if not spk:
                spk = next(iter(self._scripts_of([addr])), "")
            if spk:
                scripts[spk] = addr
        if not scripts:
            return 0
        await self.watch.import_scripts(scripts, rescan)
        return len(scripts)

    # -- transactions ------------------------------------------------------------

    async def _fetch_txs(self, txids: Iterable[str]) -> dict[str, dict]:
        """{txid: slim tx} for the txids the node knows (others are absent).

        getrawtransaction (mempool, txindex), falling back to the watch wallet's
        gettransaction for nodes without txindex. Cached (LRU): tx content never
        changes for a txid.
        """
        out: dict[str, dict] = {}
        missing = []
        for txid in dict.fromkeys(txids):
            hit = self._txcache.get(txid)
            if hit is not None:
                self._txcache.move_to_end(txid)
                out[txid] = hit
            else:
                missing.append(txid)
        if not missing:
            return out
        results = await self._batch([("getrawtransaction", [t, True]) for t in missing])
        retry = []
        for txid, (res, err) in zip(missing, results):
            if err is None and res:
                out[txid] = self._remember(slim(res))
            elif err and err.get("code") in (RPC_INVALID_ADDRESS_OR_KEY, RPC_INVALID_PARAMETER):
                retry.append(txid)
            else:
                raise RpcError(err.get("code") if err else None, str((err or {}).get("message")), "getrawtransaction")
        if retry:
            results = await self._batch([("gettransaction", [t, True]) for t in retry], wallet=True)
            hexes = [(t, r["hex"]) for t, (r, e) in zip(retry, results) if e is None and r and r.get("hex")]
            decoded = await self._batch([("decoderawtransaction", [h]) for _, h in hexes])
            for (txid, _), (res, err) in zip(hexes, decoded):
                if err is None and res:
                    out[txid] = self._remember(slim(res))
        return out

    def _remember(self, slim: dict) -> dict:
        self._txcache[slim["txid"]] = slim
        if len(self._txcache) > _LRU_SIZE:
            self._txcache.popitem(last=False)
        return slim

    async def _wallet_txs(self) -> dict[str, dict]:
        """{txid: wallet metadata} of every transaction in the watch wallet that is
        not conflicted: ``{confirmations, blockhash, blockheight, blockindex, blocktime, timereceived}``."""
        entries = await self._call("listtransactions", "*", 100_000_000, 0, True, wallet=True)
        metas: dict[str, dict] = {}
        for e in entries or []:
            if e.get("txid") in metas or e.get("confirmations", 0) < 0:
                continue
            metas[e["txid"]] = e
        return metas

    async def _involved(self, scripts: Mapping[str, str]) -> tuple[list[str], dict, dict]:
        """Txids touching ``scripts`` (paying one, or spending an output paying one),
        newest first, with the wallet metadata and slim txs."""
        metas = await self._wallet_txs()
        txs = await self._fetch_txs(metas)
        ours = {(txid, n) for txid, tx in txs.items() for n, spk, _ in tx["vout"] if spk in scripts}
        involved = [
            txid
            for txid, tx in txs.items()
            if any(spk in scripts for _, spk, _ in tx["vout"]) or any(v in ours for v in tx["vin"] if v)
        ]

        def newest_first(txid: str):
            m = metas[txid]
            if not m.get("confirmations"):
                return (0, -(m.get("timereceived") or m.get("time") or 0), txid)
            return (1, -(m.get("blockheight") or 0), -(m.get("blockindex") or 0), txid)

        involved.sort(key=newest_first)
        return involved, metas, txs

    async def _insight(self, txs: Sequence[dict], metas: Sequence[Mapping], ours: Mapping[str, str]) -> list[dict]:
        """Slim txs + chain metadata -> Insight-format txs (bws/adapters/explorers/bitcoind_insight.py)."""
        prev = await self._fetch_txs(v[0] for tx in txs for v in tx["vin"] if v)
        tip = 0
        if any((m.get("confirmations") or 0) > 0 and m.get("blockheight") is None for m in metas):
            # Older nodes omit blockheight in wallet entries: derive it from the tip.
            tip = await self.get_blockchain_height()
        return [insight_tx(tx, m, prev, lambda spk: self._encode(spk, ours), tip) for tx, m in zip(txs, metas)]

    # -- the explorer contract (docs/spec/api.md §6.20) -----------------------------------

    async def get_utxos(self, addresses: Iterable[Any]) -> list[dict]:
        """Unspent outputs of ``addresses`` incl. mempool (docs/spec/api.md §6.3, §6.20).

        addresses: address strings (or objects with ``address``).
        Returns ``[{txid: str, vout: int, address: str (the caller's string,
        mapped back by script), scriptPubKey: hex, satoshis: int,
        confirmations: int (0 = mempool)}]``. Raises ExplorerError.
        """
        scripts = self._scripts_of(addresses)
        if not scripts:
            return []
        await self.watch.ensure_watched(scripts)
        filt = sorted({a for a in map(self._node_address, scripts) if a})
        try:
            unspent = await self._call("listunspent", 0, _MAX_CONF, filt, True, wallet=True)
        except RpcError as exc:
            if exc.code not in (RPC_INVALID_ADDRESS_OR_KEY, RPC_INVALID_PARAMETER):
                raise
            # Node cannot parse one of our encodings: list everything, filter by script below.
            unspent = await self._call("listunspent", 0, _MAX_CONF, wallet=True)
        out = []
        for u in unspent or []:
            spk = (u.get("scriptPubKey") or "").lower()
            if spk not in scripts:
                continue
            out.append({
                "txid": u["txid"],
                "vout": int(u["vout"]),
                "address": scripts[spk],
                "scriptPubKey": spk,
                "satoshis": sats(u.get("amount")),
                "confirmations": int(u.get("confirmations") or 0),
            })
        return out

    async def get_transactions(
        self, addresses: Iterable[Any], from_: int = 0, to: Optional[int] = None
    ) -> tuple[list[dict], int]:
        """History page of ``addresses`` (docs/spec/api.md §6.14, §6.20; Insight ``/addrs/txs``).

        from_/to: positions in the newest-first list, ``to`` exclusive (None = all).
        Returns ``(page, total_items)``; each item is Insight-format:
        ``{txid, vin: [{addr, valueSat: int, value, txid, vout, n}],
        vout: [{value: coin float, valueSat: int, n, scriptPubKey: {hex, addresses: [str]}}],
        confirmations: int, blockheight: int (-1 in mempool), blockhash, blocktime: int|None,
        firstSeenTs: int|None, time, fees: coin float, size: bytes, vsize, isCoinBase}``.
        Our outputs carry the caller's address strings. Unconfirmed first, then by
        block height and position in block. Raises ExplorerError.
        """
        scripts = self._scripts_of(addresses)
        if not scripts:
            return [], 0
        await self.watch.ensure_watched(scripts)
        involved, metas, txs = await self._involved(scripts)
        from_ = max(0, int(from_ or 0))
        page_ids = involved[from_:] if to is None else involved[from_:max(from_, int(to))]
        if not page_ids:
            return [], len(involved)
        page = await self._insight([txs[t] for t in page_ids], [metas[t] for t in page_ids], scripts)
        return page, len(involved)

    async def get_transaction(self, txid: str) -> Optional[dict]:
        """One transaction in Insight format (see :meth:`get_transactions`, addresses
        encoded from scripts) plus ``blockhash``; ``None`` when the node does not know
        it (docs/spec/api.md §6.11, §10 Q7: never an error for "not found"). Raises ExplorerError
        only when the node cannot be asked."""
        if not isinstance(txid, str) or len(txid) != 64:
            return None
        try:
            raw = await self._call("getrawtransaction", txid, True)
            meta = {"confirmations": raw.get("confirmations") or 0, "blockhash": raw.get("blockhash"),
                    "blocktime": raw.get("blocktime")}
            if meta["blockhash"] and meta["confirmations"] > 0:
                meta["blockheight"] = (await self._call("getblockheader", meta["blockhash"]))["height"]
            elif not meta["blockhash"]:
                try:  # mempool: when the node first saw it (Insight's firstSeenTs)
                    meta["timereceived"] = (await self._call("getmempoolentry", txid)).get("time")
                except RpcError:
                    pass  # mined or evicted meanwhile
        except RpcError as exc:
            if exc.code not in (RPC_INVALID_ADDRESS_OR_KEY, RPC_INVALID_PARAMETER):
                raise
            # No txindex and not in mempool: maybe one of our wallet transactions.
            try:
                wtx = await self._call("gettransaction", txid, True, wallet=True)
            except RpcError as exc2:
                if exc2.code in (RPC_INVALID_ADDRESS_OR_KEY, RPC_INVALID_PARAMETER):
                    return None
                raise
            if wtx.get("confirmations", 0) < 0:
                return None
            raw = await self._call("decoderawtransaction", wtx["hex"])
            meta = wtx
        kept = self._remember(slim(raw))
        (tx,) = await self._insight([kept], [meta], {})
        return tx

    async def get_address_activity(self, address: Any) -> bool:
        """True when ``address`` ever received (or spent) anything, mempool included
        (docs/spec/api.md §6.15). An address the node does not watch yet is imported with a
        chain rescan first (slow on mainnet; register addresses in bulk with
        ``register_addresses(items, rescan=True)`` before a scan). Raises ExplorerError."""
        scripts = self._scripts_of([address])
        if not scripts:
            return False
        await self.watch.ensure_watched(scripts)
        involved, _, _ = await self._involved(scripts)
        return bool(involved)

    async def estimate_fee(self, nb_blocks_list: Iterable[int]) -> dict[int, float]:
        """``{n: feePerKb in coin/kB (float) or -1}`` via ``estimatesmartfee`` (docs/spec/api.md §6.5,
        docs/spec/api.md §10 Q5). -1 means "no estimate" (the case on a fresh regtest node, until enough payments are mined). Raises
        ExplorerError only when the node cannot be asked."""
        points = list(dict.fromkeys(int(n) for n in nb_blocks_list))
        results = await self._batch([("estimatesmartfee", [n]) for n in points])
        out: dict[int, float] = {}
        for n, (res, err) in zip(points, results):
            rate = (res or {}).get("feerate") if not err else None
            out[n] = float(rate) if rate is not None and rate > 0 else -1
        return out

    async def get_blockchain_height(self) -> int:
        """Height of the node's best chain (int). Raises ExplorerError."""
        return int(await self._call("getblockcount"))

    async def get_block_txids(self, block_hash: str) -> list[str]:
        """Txids of a block, in block order (for monitors). Raises ExplorerError
        (RpcError -5 for an unknown block)."""
        block = await self._call("getblock", block_hash, 1)
        return list(block["tx"])

    async def broadcast(self, raw_hex: str) -> str:
        """Send a signed raw tx (hex) to the network; returns its txid (docs/spec/api.md §6.11).
        Raises RpcError (an ExplorerError) whose message is the node's, e.g.
        "TX decode failed", "bad-txns-inputs-missingorspent", "Missing inputs"."""
        # The watch wallet learns about the tx through the node's validation queue, so
        # get_utxos may still list the spent outputs for a moment (docs/spec/api.md §6.3 compensates).
        return await self._call("sendrawtransaction", raw_hex)

    # camelCase aliases: the reference's names (docs/spec/api.md §6.20), for code ported line by line.
    getUtxos = get_utxos
    getTransactions = get_transactions
    getTransaction = get_transaction
    getAddressActivity = get_address_activity
    estimateFee = estimate_fee
    getBlockchainHeight = get_blockchain_height


def make_explorer(coin: str, network: str, opts: Any, reactor: Any) -> BitcoindExplorer:
    """``provider: "bitcoind"``: coins btc and bch. ``opts``: a
    :class:`bws.config.ExplorerOpts` (``url``, ``timeout``, ``concurrency``,
    ``rescanTimeout``; the watch wallet is chosen by the url's ``/wallet/<name>``).
    Raises ValueError for a missing or malformed url."""
    if not opts.url:
        raise ValueError(f"blockchainExplorerOpts.{coin}.{network}.url: required")
    return BitcoindExplorer(
        coin, network, opts.url, reactor,
        timeout=opts.timeout, concurrency=opts.concurrency, rescan_timeout=opts.rescanTimeout,
    )  # fmt: skip
