"""EVM chain backend over JSON-RPC (provider ``web3``): coins ``eth`` and ``tri``
(docs/spec/api.md §6.20, §9.3–§9.10).

What the wallet service asks, and where the answer comes from:

=================================  ============================================
``get_utxos(addresses)``           one pseudo-UTXO per address with a positive
                                   balance (``eth_getBalance`` latest, cached
                                   ``balanceTtl`` s; docs/spec/api.md §9.3 shape)
``get_transactions(a, from, to)``  the tx index ``<coin>_txs`` (filled by
                                   bcmonitor and by :meth:`broadcast`) reconciled
                                   with the node (receipts: gasUsed, status,
                                   block); insight shape, newest first, paged
``get_transaction(txid)``          ``eth_getTransactionByHash`` (None: unknown)
``get_address_activity(a)``        balance > 0 or nonce > 0
``get_fee_levels()``               gas prices in wei from ``eth_feeHistory``
                                   (base fee + tip percentiles), else
                                   ``eth_gasPrice``; cached ``feeTtl`` s
``get_blockchain_height()``        ``eth_blockNumber``
``broadcast(raw)``                 ``eth_sendRawTransaction``; the tx is put in
                                   the index as pending right away
``get_address_transaction_count``  ``eth_getTransactionCount(a, "pending")``
``get_chain_id()``                 configured ``chainId`` (checked against the
                                   node once), else the node's
=================================  ============================================

The history index needs storage: it is given to the constructor (bws/runtime.py
``make_explorer`` passes the process's Storage).

Options (``blockchainExplorerOpts.<coin>.livenet``, :class:`bws.config.ExplorerOpts`):
``provider: "web3"``, ``url``, ``chainId`` (0 = ask the node), ``balanceTtl``
(s, default 5), ``feeTtl`` (s, default 30), ``timeout`` (s, default 30),
``allowUnprotectedTx`` (accept pre-EIP-155 signatures; unset = false).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Iterable, Optional

from eth_utils import to_checksum_address
from twisted.internet.interfaces import IReactorTime

from bws.aio import as_deferred
from bws.adapters.errors import ExplorerError
from bws.model import constants as C

log = logging.getLogger(__name__)

__all__ = ["Web3Explorer", "make_explorer", "pseudo_utxo", "PSEUDO_SCRIPT"]

#: scriptPubKey of every pseudo-UTXO (reference, docs/spec/api.md §9.3)
PSEUDO_SCRIPT = "OP_DUP OP_HASH160 20 0x0000000000000000000000000000000000000000 OP_EQUALVERIFY OP_CHECKSIG"
#: keccak("Transfer(address,address,uint256)")
TRANSFER_TOPIC_HEX = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
#: size the reference reports for every EVM tx (history feePerKb)
REFERENCE_TX_SIZE = 225
#: fee-level factors over (next base fee, tip percentile) — see _levels_from_history
_LEVEL_SHAPE = {  # level -> (base fee multiplier, reward percentile index)
    "urgent": (2.0, 4),
    "priority": (1.5, 3),
    "normal": (1.25, 2),
    "economy": (1.125, 1),
    "superEconomy": (1.0, 0),
}
_PERCENTILES = [10, 25, 50, 75, 90]
#: eth_gasPrice multipliers when the node has no fee history (pre-London chains)
_GAS_PRICE_FACTORS = {"urgent": 1.5, "priority": 1.25, "normal": 1.0, "economy": 1.0, "superEconomy": 1.0}


def _hex(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    s = str(value).lower()
    return s if s.startswith("0x") else "0x" + s


def _checksum(address: Any) -> Optional[str]:
    try:
        return to_checksum_address(address) if address else None
    except (ValueError, TypeError):
        return None


def pseudo_utxo(address: str, balance: int) -> dict:
    """The fork's pseudo-UTXO of an account (docs/spec/api.md §9.3): txid = address without
    ``0x`` (40 hex), vout 0, satoshis = balance (wei / token units), amount =
    balance / 1e18 as an 18-decimal string, confirmations fixed 10."""
    return {
        "txid": address[2:],
        "vout": 0,
        "address": address,
        "scriptPubKey": PSEUDO_SCRIPT,
        "satoshis": int(balance),
        "amount": f"{balance // 10**18}.{balance % 10**18:018d}",
        "confirmations": 10,
    }


async def _gather(aws: list) -> list:
    return list(await asyncio.gather(*aws))


class Web3Explorer:
    """Native coin of one EVM chain (``eth`` or ``tri``)."""

    #: index collection (monitor-filled): eth -> eth_txs, tri -> tri_txs
    collection: str

    def __init__(
        self,
        coin: str,
        network: str,
        url: str,
        chain_id: int = 0,
        *,
        storage: Any,
        balance_ttl: float = 5.0,
        fee_ttl: float = 30.0,
        timeout: float = 30.0,
        allow_unprotected: bool = False,
        clock: IReactorTime,
    ) -> None:
        self.coin = coin
        self.network = network
        self.url = url
        self.configured_chain_id = int(chain_id or 0)
        self.balance_ttl = balance_ttl
        self.fee_ttl = fee_ttl
        self.timeout = timeout
        self.allow_unprotected = allow_unprotected
        self.clock = clock
        self.collection = f"{coin}_txs"
        #: the database holding the tx index (None: no index, e.g. unit tests).
        self.storage: Any = storage
        self._w3: Any = None
        self._chain_id: Optional[int] = None
        self._balances: dict[str, tuple[float, int]] = {}
        self._fee_levels: Optional[tuple[float, list[dict]]] = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.coin}/{self.network} {self.url}>"

    # ------------------------------------------------------------ plumbing
    async def close(self) -> None:
        """Close the node connection pool (tests, shutdown)."""
        if self._w3 is not None:
            w3, self._w3 = self._w3, None
            try:
                await as_deferred(w3.provider.disconnect())
            except Exception:  # noqa: BLE001
                log.debug("closing %r failed", self, exc_info=True)

    @property
    def w3(self) -> Any:
        if self._w3 is None:
            from web3 import AsyncWeb3

            self._w3 = AsyncWeb3(AsyncWeb3.AsyncHTTPProvider(self.url, request_kwargs={"timeout": self.timeout}))
        return self._w3

    async def _call(self, awaitable: Any) -> Any:
        """Await a web3 coroutine on the reactor's asyncio loop; node failures
        become ExplorerError (500 ``{"error": <node message>}``)."""
        try:
            return await as_deferred(awaitable)
        except ExplorerError:
            raise
        except Exception as e:  # noqa: BLE001
            raise ExplorerError(_node_message(e)) from e

    async def get_chain_id(self) -> int:
        """The chain id transactions must be signed for: the configured one
        (ExplorerError when the node disagrees), else the node's."""
        if self._chain_id is None:
            node = int(await self._call(self.w3.eth.chain_id))
            if self.configured_chain_id and node != self.configured_chain_id:
                raise ExplorerError(
                    f"{self.coin} node at {self.url} has chain id {node}, "
                    f"configured chainId is {self.configured_chain_id}"
                )
            self._chain_id = node
        return self._chain_id

    # ------------------------------------------------------------ balances
    async def _node_balance(self, address: str) -> int:
        return int(await self.w3.eth.get_balance(address, "latest"))

    async def _cached_balances(self, addresses: list[str], fetch) -> list[int]:
        now = self.clock.seconds()
        out: dict[str, int] = {}
        missing = []
        for a in addresses:
            hit = self._balances.get(a.lower())
            if hit and now - hit[0] < self.balance_ttl:
                out[a] = hit[1]
            else:
                missing.append(a)
        if missing:
            values = await self._call(_gather([fetch(to_checksum_address(a)) for a in missing]))
            for a, v in zip(missing, values):
                self._balances[a.lower()] = (now, int(v))
                out[a] = int(v)
        return [out[a] for a in addresses]

    def invalidate(self, addresses: Iterable[Optional[str]]) -> None:
        """Forget cached balances of ``addresses`` (after a broadcast)."""
        for a in addresses:
            if a:
                self._balances.pop(a.lower(), None)

    async def get_native_balance(self, address: str) -> int:
        """Balance in wei of the chain's native coin (cached ``balance_ttl``)."""
        return (await self._cached_balances([address], self._node_balance))[0]

    async def get_balances(self, addresses: list[str]) -> list[int]:
        """Balances of the explorer's coin (wei here; token units for erc20)."""
        return await self._cached_balances(addresses, self._node_balance)

    async def get_utxos(self, addresses: Iterable[Any]) -> list[dict]:
        addrs = [a if isinstance(a, str) else a["address"] for a in addresses]
        addrs = [a for a in addrs if _checksum(a)]
        if not addrs:
            return []
        balances = await self.get_balances(addrs)
        return [pseudo_utxo(a, b) for a, b in zip(addrs, balances) if b > 0]

    async def get_address_activity(self, address: str) -> bool:
        if not _checksum(address):
            return False
        if await self.get_native_balance(address) > 0:
            return True
        return await self.get_address_transaction_count(address, "latest") > 0

    async def get_address_transaction_count(self, address: str, block: str = "pending") -> int:
        """Nonce of ``address`` (``pending`` counts the node's pool, docs/spec/api.md §10 Q22)."""
        checksummed = _checksum(address)
        if not checksummed:
            raise ExplorerError(f"invalid address {address!r}")
        return int(await self._call(self.w3.eth.get_transaction_count(checksummed, block)))

    # ------------------------------------------------------------ chain
    async def get_blockchain_height(self) -> int:
        return int(await self._call(self.w3.eth.block_number))

    async def get_transaction(self, txid: str) -> Optional[dict]:
        """``{hash, from, to, value, nonce, gas, gasPrice, input, blockHash,
        blockNumber, transactionIndex}`` (hex strings, ints; value/gasPrice as
        ints) or None when the node does not know ``txid``."""
        from web3.exceptions import TransactionNotFound

        if not isinstance(txid, str) or len(txid.removeprefix("0x")) != 64:
            return None
        try:
            tx = await as_deferred(self.w3.eth.get_transaction(txid if txid.startswith("0x") else "0x" + txid))
        except TransactionNotFound:
            return None
        except Exception as e:  # noqa: BLE001
            raise ExplorerError(_node_message(e)) from e
        return _plain_tx(tx)

    async def get_receipt(self, txid: str) -> Optional[dict]:
        from web3.exceptions import TransactionNotFound

        try:
            r = await as_deferred(self.w3.eth.get_transaction_receipt(txid))
        except TransactionNotFound:
            return None
        except Exception as e:  # noqa: BLE001
            raise ExplorerError(_node_message(e)) from e
        return dict(r)

    async def broadcast(self, raw: str) -> str:
        """``eth_sendRawTransaction`` -> txid (``0x`` + 64 hex).  The tx enters
        the history index as pending (blockNumber null) and the balances of
        its sender/recipient are refreshed on the next read."""
        from bws.chains.evm import decode_raw_tx

        data = bytes.fromhex(raw[2:] if raw[:2] in ("0x", "0X") else raw)
        txid = _hex(await self._call(self.w3.eth.send_raw_transaction(data)))
        try:
            tx = decode_raw_tx(data)
            self.invalidate([tx.sender, tx.to])
            await self._index_pending(tx)
        except Exception:  # noqa: BLE001 - the broadcast itself succeeded
            log.exception("%s: could not index broadcast tx %s", self.coin, txid)
        return txid

    # ------------------------------------------------------------ fee levels
    async def get_fee_levels(self) -> list[dict]:
        """``[{level, feePerKb: gas price (wei), nbBlocks}]`` in FEE_LEVELS
        order, non-increasing.  From ``eth_feeHistory`` (20 blocks): next base
        fee × (2, 1.5, 1.25, 1.125, 1) + the (90, 75, 50, 25, 10)th
        percentile tip; without fee history ``eth_gasPrice`` × (1.5, 1.25, 1,
        1, 1).  Cached ``fee_ttl`` s.  ExplorerError when the node answers
        neither."""
        now = self.clock.seconds()
        if self._fee_levels and now - self._fee_levels[0] < self.fee_ttl:
            return [dict(x) for x in self._fee_levels[1]]
        levels = C.FEE_LEVELS[self.coin]
        values: Optional[dict[str, int]] = None
        try:
            hist = await as_deferred(self.w3.eth.fee_history(20, "latest", _PERCENTILES))
            values = _levels_from_history(hist)
        except Exception as e:  # noqa: BLE001 - pre-London node: fall back to eth_gasPrice
            log.info("%s: no usable fee history (%r); using eth_gasPrice", self.coin, e)
        if values is None:
            gp = int(await self._call(self.w3.eth.gas_price))
            values = {name: max(1, int(gp * f)) for name, f in _GAS_PRICE_FACTORS.items()}
        out = []
        for lvl in levels:
            v = values[lvl["name"]]
            if out:
                v = min(v, out[-1]["feePerKb"])
            out.append({"level": lvl["name"], "feePerKb": v, "nbBlocks": lvl["nbBlocks"]})
        self._fee_levels = (now, out)
        return [dict(x) for x in out]

    async def estimate_fee(self, nb_blocks: Any = None) -> dict:
        """docs/spec/api.md §6.20 shape for callers that ask it: ``{n: -1}`` (EVM fees are gas
        prices: use :meth:`get_fee_levels`)."""
        return {int(n): -1 for n in (nb_blocks or [])}

    # ------------------------------------------------------------ history
    async def _index_pending(self, tx: Any) -> None:
        """Put a just-broadcast native tx in the index (blockNumber null)."""
        if self.storage is None or tx.to is None:
            return
        await self.storage.chain_index.store(
            self.collection,
            {
                "hash": tx.hash, "from": tx.sender, "to": tx.to, "value": str(tx.value), "nonce": tx.nonce,
                "gas": tx.gas, "gasPrice": str(tx.gas_price), "input": "0x" + tx.data.hex(),
                "blockNumber": None, "timeStamp": int(self.clock.seconds()), "broadcastedOn": int(self.clock.seconds()),
            },
        )  # fmt: skip

    async def _block_time(self, number: int, cache: dict) -> int:
        if number not in cache:
            block = await self._call(self.w3.eth.get_block(number))
            cache[number] = int(block["timestamp"])
        return cache[number]

    async def _reconcile(self, docs: list[dict], addresses: set[str]) -> list[dict]:
        """Complete index entries from the node: pending ones get their block
        once mined; sent ones get ``gasUsed``/``effectiveGasPrice``/``status``
        from the receipt (stored back, asked once per tx)."""
        blocks: dict[int, int] = {}
        out = []
        for d in docs:
            need = d.get("blockNumber") is None or (
                (d.get("from") or "").lower() in addresses and d.get("gasUsed") is None
            )
            if need:
                receipt = await self.get_receipt(d["hash"])
                if receipt is not None and receipt.get("blockNumber") is not None:
                    upd = {
                        "hash": d["hash"],
                        "blockNumber": int(receipt["blockNumber"]),
                        "blockHash": _hex(receipt.get("blockHash")),
                        "transactionIndex": int(receipt.get("transactionIndex") or 0),
                        "gasUsed": int(receipt.get("gasUsed") or 0),
                        "status": int(receipt.get("status", 1)),
                    }
                    if receipt.get("effectiveGasPrice") is not None:
                        upd["effectiveGasPrice"] = str(int(receipt["effectiveGasPrice"]))
                    if d.get("blockNumber") is None:
                        upd["timeStamp"] = await self._block_time(upd["blockNumber"], blocks)
                    d = {**d, **upd}
                    if self.storage is not None:
                        await self.storage.chain_index.store(self.collection, upd)
            out.append(d)
        return out

    def _insight(self, d: dict, height: Optional[int]) -> dict:
        """Index entry -> insight shape (docs/spec/api.md §9.8) with exact ints: fee =
        (effectiveGasPrice or gasPrice) × (gasUsed or gas); vin valueSat =
        value + fee (the reference's "sent includes fee" convention), a failed
        tx (receipt status 0) moves no value."""
        value = int(d.get("value") or 0)
        if d.get("status") == 0:
            value = 0
        price = int(d.get("effectiveGasPrice") or d.get("gasPrice") or 0)
        fee = price * int(d.get("gasUsed") if d.get("gasUsed") is not None else (d.get("gas") or 0))
        return self._insight_shape(d, height, value, fee)

    @staticmethod
    def _insight_shape(d: dict, height: Optional[int], value: int, fee: int) -> dict:
        bn = d.get("blockNumber")
        conf = max(0, height - bn + 1) if (bn is not None and height is not None) else 0
        return {
            "txid": d["hash"],
            "vin": [{"addr": d.get("from"), "valueSat": value + fee}],
            "vout": [{"value": value, "scriptPubKey": {"addresses": [d.get("to")]}}],
            "confirmations": conf,
            "blockheight": bn,
            "blocktime": d.get("timeStamp"),
            "time": d.get("timeStamp"),
            "firstSeenTs": d.get("broadcastedOn") or d.get("timeStamp"),
            "fees": fee / 1e18,
            "feesWei": fee,
            "size": REFERENCE_TX_SIZE,
        }

    async def _history_docs(self, addresses: list[str]) -> list[dict]:
        if self.storage is None:
            raise ExplorerError(f"{self.coin} explorer has no storage for its tx index")
        docs = await self.storage.chain_index.fetch(self.collection, addresses)
        return await self._reconcile(docs, {a.lower() for a in addresses})

    async def get_transactions(
        self, addresses: Iterable[Any], frm: int = 0, to: Optional[int] = None
    ) -> tuple[list, int]:
        """(insight txs of ``addresses`` newest first, page ``[frm, to)``, total).
        Pending txs (not yet mined) come first with 0 confirmations."""
        addrs = [a if isinstance(a, str) else a["address"] for a in addresses]
        if not addrs:
            return [], 0
        docs = await self._history_docs(addrs)
        height = await self.get_blockchain_height() if docs else None
        docs.sort(
            key=lambda d: (
                d.get("blockNumber") is None,
                d.get("blockNumber") or 0,
                d.get("transactionIndex") or 0,
                d.get("logIndex") or 0,
            ),
            reverse=True,
        )
        total = len(docs)
        page = docs[frm:to] if to is not None else docs[frm:]
        return [self._insight(d, height) for d in page], total


def _levels_from_history(hist: Any) -> Optional[dict[str, int]]:
    """Gas price per level from an ``eth_feeHistory`` answer, or None when it
    has no base fee (pre-London)."""
    base = list(hist.get("baseFeePerGas") or [])
    if not base or not base[-1]:
        return None
    next_base = int(base[-1])
    rewards = [r for r in (hist.get("reward") or []) if r and any(int(x) for x in r)]
    tips = []
    for i in range(len(_PERCENTILES)):
        column = sorted(int(r[i]) for r in rewards if len(r) > i)
        tips.append(column[len(column) // 2] if column else 0)
    return {name: max(1, int(next_base * mult) + tips[idx]) for name, (mult, idx) in _LEVEL_SHAPE.items()}


def _plain_tx(tx: Any) -> dict:
    return {
        "hash": _hex(tx.get("hash")),
        "from": _checksum(tx.get("from")),
        "to": _checksum(tx.get("to")),
        "value": int(tx.get("value") or 0),
        "nonce": int(tx.get("nonce") or 0),
        "gas": int(tx.get("gas") or 0),
        "gasPrice": int(tx.get("gasPrice") or 0),
        "input": _hex(tx.get("input")),
        "blockHash": _hex(tx.get("blockHash")),
        "blockNumber": tx.get("blockNumber"),
        "transactionIndex": tx.get("transactionIndex"),
    }


def _node_message(e: Exception) -> str:
    """The node's own error text (``{'code': -32000, 'message': ...}`` → message)."""
    arg = e.args[0] if e.args else None
    if isinstance(arg, dict) and arg.get("message"):
        return str(arg["message"])
    msg = getattr(e, "message", None)
    if isinstance(msg, str) and msg:
        return msg
    return str(e) or type(e).__name__


def explorer_kwargs(opts: Any) -> dict:
    """Constructor keywords from a :class:`bws.config.ExplorerOpts` (web3 and erc20)."""
    kwargs: dict[str, Any] = {"balance_ttl": opts.balanceTtl, "fee_ttl": opts.feeTtl, "timeout": opts.timeout}
    if opts.allowUnprotectedTx is not None:
        kwargs["allow_unprotected"] = opts.allowUnprotectedTx
    return kwargs


def make_explorer(coin: str, network: str, opts: Any, storage: Any, clock: IReactorTime) -> Web3Explorer:
    """``provider: "web3"``: coins eth and tri (network livenet). ``opts``: a
    :class:`bws.config.ExplorerOpts`; ``clock``: the reactor (cache ages,
    times of just-broadcast txs); raises ValueError for a missing url or another coin."""
    if not opts.url:
        raise ValueError(f"blockchainExplorerOpts.{coin}.{network}.url: required")
    if coin not in ("eth", "tri"):
        raise ValueError(f"blockchainExplorerOpts.{coin}.{network}.provider: web3 serves eth and tri, not {coin!r}")
    return Web3Explorer(coin, network, opts.url, opts.chainId, storage=storage, clock=clock, **explorer_kwargs(opts))
