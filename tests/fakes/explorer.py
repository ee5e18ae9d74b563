"""In-memory :class:`bws.interfaces.Explorer` and :class:`bws.interfaces.EvmExplorer`:
scripted answers, recorded calls and broadcasts.

Set the attributes a test needs (``utxos``, ``txs``, ``fee_samples``,
``active``, ``known``, ``height``; EVM: ``fee_levels``, ``nonces``,
``balances``) and read back ``calls`` and ``broadcasts``.  ``fail[method] =
exception`` makes that method raise it.
"""

from __future__ import annotations

import hashlib
from typing import Any, Iterable, Optional


def utxo(address: str, satoshis: int, *, txid: Optional[str] = None, vout: int = 0, confirmations: int = 6,
         script: str = "") -> dict:
    """One explorer UTXO ``{txid, vout, address, scriptPubKey, satoshis, confirmations}``
    (txid: a stable fake from address/amount/vout unless given)."""
    txid = txid or hashlib.sha256(f"{address}:{satoshis}:{vout}".encode()).hexdigest()
    return {"txid": txid, "vout": vout, "address": address, "scriptPubKey": script,
            "satoshis": satoshis, "confirmations": confirmations}


def _address_text(a: Any) -> str:
    return a if isinstance(a, str) else a["address"]


class FakeExplorer:
    """A UTXO chain's explorer (btc, bch)."""

    def __init__(self, coin: str = "btc", network: str = "livenet") -> None:
        self.coin = coin
        self.network = network
        self.utxos: list[dict] = []
        self.txs: list[dict] = []  # Insight-format, newest first
        self.known: dict[str, dict] = {}  # txid -> tx (get_transaction)
        self.active: set[str] = set()  # addresses with activity
        self.fee_samples: dict[int, float] = {}  # blocks -> coin/kB (missing: -1)
        self.height = 100
        self.broadcasts: list[str] = []
        self.calls: list[tuple[str, tuple]] = []
        self.fail: dict[str, Exception] = {}

    def _call(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))
        if name in self.fail:
            raise self.fail[name]

    def called(self, name: str) -> int:
        """How many times ``name`` was called."""
        return sum(1 for n, _ in self.calls if n == name)

    async def get_utxos(self, addresses: Iterable[Any]) -> list[dict]:
        wanted = {_address_text(a) for a in addresses}
        self._call("get_utxos", sorted(wanted))
        return [dict(u) for u in self.utxos if u["address"] in wanted]

    async def get_transactions(self, addresses: Iterable[Any], from_: int = 0, to: Optional[int] = None):
        self._call("get_transactions", from_, to)
        return [dict(t) for t in self.txs[from_:to]], len(self.txs)

    async def get_transaction(self, txid: str) -> Optional[dict]:
        self._call("get_transaction", txid)
        return self.known.get(txid)

    async def get_address_activity(self, address: Any) -> bool:
        self._call("get_address_activity", _address_text(address))
        return _address_text(address) in self.active

    async def estimate_fee(self, nb_blocks_list: Iterable[int]) -> dict:
        points = list(nb_blocks_list)
        self._call("estimate_fee", points)
        return {n: self.fee_samples.get(n, -1) for n in points}

    async def get_blockchain_height(self) -> int:
        self._call("get_blockchain_height")
        return self.height

    async def broadcast(self, raw_hex: str) -> str:
        self._call("broadcast", raw_hex)
        self.broadcasts.append(raw_hex)
        return hashlib.sha256(bytes.fromhex(raw_hex)).digest()[::-1].hex()

    async def close(self) -> None:
        self._call("close")


class FakeEvmExplorer(FakeExplorer):
    """An EVM chain's explorer (eth, tri, try): adds chain id, gas-price levels,
    nonces and native balances."""

    def __init__(self, coin: str = "eth", network: str = "livenet", chain_id: int = 1337) -> None:
        super().__init__(coin, network)
        self.chain_id = chain_id
        self.fee_levels: list[dict] = []  # [{level, feePerKb (wei), nbBlocks}]
        self.nonces: dict[str, int] = {}
        self.balances: dict[str, int] = {}  # wei

    async def get_chain_id(self) -> int:
        self._call("get_chain_id")
        return self.chain_id

    async def get_fee_levels(self) -> list[dict]:
        self._call("get_fee_levels")
        return [dict(lv) for lv in self.fee_levels]

    async def get_address_transaction_count(self, address: str, block: str = "pending") -> int:
        self._call("get_address_transaction_count", address, block)
        return self.nonces.get(address.lower(), 0)

    async def get_native_balance(self, address: str) -> int:
        self._call("get_native_balance", address)
        return self.balances.get(address.lower(), 0)
