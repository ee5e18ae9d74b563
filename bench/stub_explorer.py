"""BENCHMARK STUB -- not a real explorer.

Implements the interface of :class:`bws.adapters.explorers.bitcoind.BitcoindExplorer`
(``get_utxos``, ``get_transactions``, ``get_transaction``,
``get_address_activity``, ``estimate_fee``, ``get_blockchain_height``,
``broadcast``) from memory, with no chain behind it, so the benchmark measures
the server's own cost and not a node's.  A 10,000-tx regtest chain is too slow
to build (and litecoind regtest must stay below height 432, MWEB).

History: the first ``get_transactions`` call for an address set generates
``HISTORY_TXS`` Insight-format transactions (deterministic, newest first,
every one paying one of the wallet's addresses from a foreign one; every
tenth spending from the wallet), then serves slices of that list.

UTXOs: only *funded* addresses have coins.  The funded addresses are listed
one per line in the file named by ``$BENCH_FUNDED_FILE`` (the harness writes
it while seeding, after each wallet's first address; re-read whenever it
changes), so the choice does not depend on the order a server lists a
wallet's addresses in.  Without that variable the first address of each
query is funded.  A funded address always has ``utxos_per_address``
unspent outputs of ``UTXO_SATOSHIS`` each, with the real P2PKH/P2SH
scriptPubKey: ``broadcast`` marks the outputs its transaction spends and the
next ones of the address's (endless, deterministic) sequence take their
place, so a proposal flow never runs out of coins.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any, Iterable, Optional

HISTORY_TXS = 10_000
HEIGHT = 800_000
FOREIGN = "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
FEE_RATES = {1: 0.0002, 2: 0.00015, 6: 0.0001, 24: 0.00005}
UTXOS_PER_ADDRESS = 5
UTXO_SATOSHIS = 1_000_000
FUNDED_ENV = "BENCH_FUNDED_FILE"


def _txid(*parts: Any) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _addr(a: Any) -> str:
    return a if isinstance(a, str) else a["address"]


def insight_tx(i: int, mine: list[str], height: int = HEIGHT) -> dict:
    """Transaction ``i`` (0 = oldest) of a history over the addresses ``mine``."""
    to = mine[i % len(mine)]
    blockheight = height - (HISTORY_TXS - 1 - i) // 4  # 4 txs per block, newest at the tip
    confirmations = height - blockheight + 1
    sent = i % 10 == 9
    src = mine[(i + 1) % len(mine)] if sent else FOREIGN
    dst = FOREIGN if sent else to
    value_sat = 100_000 + i
    return {
        "txid": _txid("hist", i, mine[0]),
        "vin": [{"addr": src, "valueSat": value_sat + 10_000, "value": (value_sat + 10_000) / 1e8,
                 "txid": _txid("prev", i), "vout": 0, "n": 0}],
        "vout": [
            {"value": value_sat / 1e8, "valueSat": value_sat, "n": 0,
             "scriptPubKey": {"hex": "", "addresses": [dst]}},
            {"value": 0.00005, "valueSat": 5_000, "n": 1,
             "scriptPubKey": {"hex": "", "addresses": [FOREIGN if not sent else to]}},
        ],
        "confirmations": confirmations,
        "blockheight": blockheight,
        "blockhash": _txid("block", blockheight),
        "blocktime": 1_700_000_000 + blockheight * 600,
        "firstSeenTs": None,
        "time": 1_700_000_000 + blockheight * 600,
        "fees": 0.00005,
        "size": 225,
        "vsize": 225,
        "isCoinBase": False,
    }


class BenchStubExplorer:
    """In-memory explorer for benchmarks (see the module docstring)."""

    def __init__(self, coin: str = "btc", network: str = "livenet", utxos_per_address: int = UTXOS_PER_ADDRESS,
                 funded_file: Optional[str] = None):
        self.coin = coin
        self.network = network
        self.utxos_per_address = utxos_per_address
        self.funded_file = funded_file if funded_file is not None else os.environ.get(FUNDED_ENV) or None
        self._funded: set[str] = set()
        self._funded_stamp: Optional[tuple] = None
        self._spent: set[tuple[str, int]] = set()
        self._first_unspent: dict[str, int] = {}  # address -> lowest sequence number not known spent
        self._scripts: dict[str, str] = {}
        self._histories: dict[tuple, list[dict]] = {}
        self.broadcasts = 0

    # -- utxos
    def _funded_addresses(self, addrs: list[str]) -> list[str]:
        if not self.funded_file:
            return addrs[:1]
        try:
            st = os.stat(self.funded_file)
        except FileNotFoundError:
            return []
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._funded_stamp:
            with open(self.funded_file) as f:
                self._funded = {ln.strip() for ln in f if ln.strip()}
            self._funded_stamp = stamp
        return [a for a in addrs if a in self._funded]

    def _script(self, address: str) -> str:
        s = self._scripts.get(address)
        if s is None:
            from bws.chains.address import script_for_address

            try:
                s = script_for_address(address, self.coin)
            except Exception:  # noqa: BLE001 - a foreign format: no script, like before
                s = ""
            self._scripts[address] = s
        return s

    def _unspent(self, address: str) -> list[dict]:
        out = []
        n = self._first_unspent.get(address, 0)
        first = None
        while len(out) < self.utxos_per_address:
            txid = _txid("utxo", address, n)
            if (txid, 0) not in self._spent:
                if first is None:
                    first = n
                out.append({"address": address, "txid": txid, "vout": 0, "scriptPubKey": self._script(address),
                            "amount": UTXO_SATOSHIS / 1e8, "satoshis": UTXO_SATOSHIS, "confirmations": 10,
                            "height": HEIGHT - 9})
            n += 1
        self._first_unspent[address] = first or 0
        return out

    async def get_utxos(self, addresses: Iterable[Any]) -> list[dict]:
        addrs = list(dict.fromkeys(_addr(a) for a in addresses))
        if not addrs:
            return []
        return [u for a in self._funded_addresses(addrs) for u in self._unspent(a)]

    def _history(self, addrs: list[str]) -> list[dict]:
        key = (len(addrs), addrs[0], addrs[-1])
        txs = self._histories.get(key)
        if txs is None:
            txs = [insight_tx(i, addrs) for i in range(HISTORY_TXS)]
            txs.reverse()  # newest first
            self._histories[key] = txs
        return txs

    async def get_transactions(self, addresses: Iterable[Any], from_: int = 0, to: Optional[int] = None):
        addrs = [_addr(a) for a in addresses]
        if not addrs:
            return [], 0
        txs = self._history(addrs)
        from_ = max(0, int(from_ or 0))
        page = txs[from_:] if to is None else txs[from_:max(from_, int(to))]
        return [dict(t) for t in page], len(txs)

    async def get_transaction(self, txid: str) -> Optional[dict]:
        return None

    async def get_address_activity(self, address: Any) -> bool:
        return False

    async def estimate_fee(self, nb_blocks_list: Iterable[int]) -> dict[int, float]:
        return {int(n): FEE_RATES.get(int(n), 0.0001) for n in nb_blocks_list}

    async def get_blockchain_height(self) -> int:
        return HEIGHT

    async def get_block_txids(self, block_hash: str) -> list[str]:
        return []

    async def broadcast(self, raw_hex: str) -> str:
        """Accepts any well-formed transaction: marks the outputs it spends
        (their places are taken by fresh ones, see the module docstring)."""
        from bitcoin.core import CTransaction, b2lx

        tx = CTransaction.deserialize(bytes.fromhex(raw_hex))
        for vin in tx.vin:
            self._spent.add((b2lx(vin.prevout.hash), vin.prevout.n))
        self.broadcasts += 1
        return b2lx(tx.GetTxid())

    getUtxos = get_utxos
    getTransactions = get_transactions
    getTransaction = get_transaction
    getAddressActivity = get_address_activity
    estimateFee = estimate_fee
    getBlockchainHeight = get_blockchain_height
