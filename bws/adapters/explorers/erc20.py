"""ERC20 token backend (provider ``erc20``): coin ``try``, the TRY token on the
eth chain (docs/spec/api.md §9, docs/spec/services.md §3.4–§3.5).

Same node and methods as :class:`bws.adapters.explorers.web3.Web3Explorer`, except:

* balances are token balances (``balanceOf`` via ``eth_call``), so pseudo-UTXOs
  carry token base units; :meth:`get_native_balance` still gives ETH (gas);
* history comes from ``try_txs`` (Transfer logs indexed by bcmonitor, by
  ``(hash, logIndex)``), plus the transfers this explorer broadcast (a pending
  row with ``logIndex: -1`` replaced by the receipt's logs once mined); fees
  are 0 in token history (the gas is ETH, seen in the eth wallet's history);
* address activity = ETH balance > 0 or token balance > 0 (the reference
  looked at ETH only);
* a broadcast refused because the sender cannot pay the gas answers the bare
  ``INSUFFICIENT_ETH_FOR_FEE`` (500 ``{"error": "INSUFFICIENT_ETH_FOR_FEE"}``,
  what the fork's app recognises).  Other node errors keep their message (the
  reference turned *every* failure into that string).

Options as for ``web3`` plus ``tokenAddress`` (required).  The fork's TRY
client signs without a chain id (pre-EIP-155): ``allowUnprotectedTx``
defaults to **true** for this provider.
"""

from __future__ import annotations

from typing import Any, Optional

from eth_utils import to_checksum_address
from twisted.internet.interfaces import IReactorTime

from bws.errors import ServerError
from bws.adapters.errors import ExplorerError
from bws.adapters.explorers.web3 import TRANSFER_TOPIC_HEX, Web3Explorer, _checksum, _hex, explorer_kwargs

__all__ = ["Erc20Explorer", "make_explorer", "INSUFFICIENT_ETH_FOR_FEE"]

INSUFFICIENT_ETH_FOR_FEE = "INSUFFICIENT_ETH_FOR_FEE"
_BALANCE_OF = bytes.fromhex("70a08231")
#: node messages meaning "the sender cannot pay for gas"
_NO_GAS_MONEY = ("insufficient funds", "sender doesn't have enough funds")


class Erc20Explorer(Web3Explorer):
    def __init__(self, coin: str, network: str, url: str, chain_id: int = 0, *, token_address: str, **kw: Any) -> None:
        kw.setdefault("allow_unprotected", True)
        super().__init__(coin, network, url, chain_id, **kw)
        self.token_address = to_checksum_address(token_address)
        self.collection = "try_txs"
        self._native: dict[str, tuple[float, int]] = {}

    async def _token_balance(self, address: str) -> int:
        data = _BALANCE_OF + bytes.fromhex(address[2:]).rjust(32, b"\0")
        out = await self.w3.eth.call({"to": self.token_address, "data": "0x" + data.hex()}, "latest")
        return int.from_bytes(bytes(out), "big") if out else 0

    async def get_balances(self, addresses: list[str]) -> list[int]:
        return await self._cached_balances(addresses, self._token_balance)

    async def get_native_balance(self, address: str) -> int:
        """ETH balance (wei) of ``address`` (cached like token balances)."""
        now = self.clock.seconds()
        hit = self._native.get(address.lower())
        if hit and now - hit[0] < self.balance_ttl:
            return hit[1]
        value = int(await self._call(self.w3.eth.get_balance(to_checksum_address(address), "latest")))
        self._native[address.lower()] = (now, value)
        return value

    def invalidate(self, addresses) -> None:
        addresses = [a for a in addresses if a]
        super().invalidate(addresses)
        for a in addresses:
            self._native.pop(a.lower(), None)

    async def get_address_activity(self, address: str) -> bool:
        if not _checksum(address):
            return False
        if await self.get_native_balance(address) > 0:
            return True
        return (await self.get_balances([address]))[0] > 0

    async def broadcast(self, raw: str) -> str:
        try:
            return await super().broadcast(raw)
        except ExplorerError as e:
            if any(s in str(e.message).lower() for s in _NO_GAS_MONEY):
                raise ServerError(INSUFFICIENT_ETH_FOR_FEE) from e
            raise

    # ------------------------------------------------------------ history
    async def _index_pending(self, tx: Any) -> None:
        from bws.chains.evm import decode_erc20_transfer

        if self.storage is None or tx.to is None or tx.to.lower() != self.token_address.lower():
            return
        call = decode_erc20_transfer(tx.data)
        if call is None:
            return
        await self.storage.chain_index.store(
            self.collection,
            {
                "hash": tx.hash, "logIndex": -1, "from": tx.sender, "to": call[0], "value": str(call[1]),
                "blockNumber": None, "timeStamp": int(self.clock.seconds()), "broadcastedOn": int(self.clock.seconds()),
            },
        )  # fmt: skip

    async def _reconcile(self, docs: list[dict], addresses: set[str]) -> list[dict]:
        """Pending rows (``logIndex`` -1): once the receipt exists, replace them
        by the receipt's Transfer logs of the token (none when it failed)."""
        out: list[dict] = []
        real = {(d["hash"], d.get("logIndex")) for d in docs if d.get("logIndex") != -1}
        real_hashes = {h for h, _ in real}
        blocks: dict[int, int] = {}
        for d in docs:
            if d.get("logIndex") != -1:
                out.append(d)
                continue
            if d["hash"] in real_hashes:  # the monitor indexed it meanwhile
                await self.storage.chain_index.delete(self.collection, {"hash": d["hash"], "logIndex": -1})
                continue
            receipt = await self.get_receipt(d["hash"])
            if receipt is None or receipt.get("blockNumber") is None:
                out.append(d)
                continue
            height = int(receipt["blockNumber"])
            ts = await self._block_time(height, blocks)
            for entry in receipt.get("logs") or []:
                topics = [_hex(t) for t in entry.get("topics") or []]
                if (_checksum(entry.get("address")) or "").lower() != self.token_address.lower():
                    continue
                if len(topics) < 3 or topics[0] != TRANSFER_TOPIC_HEX:
                    continue
                data = _hex(entry.get("data")) or "0x"
                row = {
                    "hash": d["hash"], "logIndex": int(entry["logIndex"]),
                    "from": to_checksum_address("0x" + topics[1][-40:]),
                    "to": to_checksum_address("0x" + topics[2][-40:]),
                    "value": str(int(data, 16) if data != "0x" else 0), "blockNumber": height,
                    "blockHash": _hex(receipt.get("blockHash")),
                    "transactionIndex": int(receipt.get("transactionIndex") or 0),
                    "timeStamp": ts,
                }  # fmt: skip
                await self.storage.chain_index.store(self.collection, row)
                if row["from"].lower() in addresses or row["to"].lower() in addresses:
                    out.append(row)
            await self.storage.chain_index.delete(self.collection, {"hash": d["hash"], "logIndex": -1})
        return out

    def _insight(self, d: dict, height: Optional[int]) -> dict:
        return self._insight_shape(d, height, int(d.get("value") or 0), 0)


def make_explorer(coin: str, network: str, opts: Any, storage: Any, clock: IReactorTime) -> Erc20Explorer:
    """``provider: "erc20"``: coin try (the TRY token). ``opts``: a
    :class:`bws.config.ExplorerOpts`; ``clock``: the reactor; raises ValueError
    for a missing url or tokenAddress."""
    if not opts.url:
        raise ValueError(f"blockchainExplorerOpts.{coin}.{network}.url: required")
    if not opts.tokenAddress:
        raise ValueError(f"blockchainExplorerOpts.{coin}.{network}.tokenAddress: required")
    return Erc20Explorer(
        coin, network, opts.url, opts.chainId, token_address=opts.tokenAddress, storage=storage, clock=clock,
        **explorer_kwargs(opts),
    )
