"""Chain index repository: what the block monitors record from the chains
(*added*).

* EVM transaction index: ``eth_txs`` and ``tri_txs`` (native transfers, key
  ``hash``) and ``try_txs`` (TRY token transfers, key ``(hash, logIndex)``):
  ``{hash, from, to, value (decimal str), blockNumber, blockHash,
  transactionIndex, timeStamp, logIndex?}``, written by bcmonitor/evm.py and
  read by the EVM explorers' history (bws/adapters/explorers/web3.py, erc20.py).
* Block monitor cursors (``monitor_cursors``): ``{coin, network, height, hash,
  updatedOn, ...}``, the last block a monitor applied (reorg detection).
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from bws.storage.mongo import Doc, Mongo

#: collection -> the fields that identify one indexed transaction
EVM_TX_KEYS = {"eth_txs": ("hash",), "tri_txs": ("hash",), "try_txs": ("hash", "logIndex")}


class ChainIndexRepo:
    def __init__(self, mongo: Mongo):
        self._m = mongo

    # -- EVM transaction index ------------------------------------------------------

    async def store(self, collection: str, tx: Doc) -> None:
        """Upsert one indexed EVM tx (``$set``) by its key (:data:`EVM_TX_KEYS`);
        KeyError for another collection."""
        keys = EVM_TX_KEYS[collection]
        await self._m.run(self._m.c(collection).update_one({k: tx[k] for k in keys}, {"$set": tx}, upsert=True))

    async def fetch(self, collection: str, addresses: Iterable[str]) -> list[Doc]:
        """Indexed txs of ``collection`` whose ``from`` or ``to`` is in ``addresses``."""
        EVM_TX_KEYS[collection]  # KeyError for a collection that is not an index
        a = list(addresses)
        return await self._m.find(collection, {"$or": [{"from": {"$in": a}}, {"to": {"$in": a}}]})

    async def delete(self, collection: str, key: Doc) -> None:
        """Delete the indexed tx(s) matching ``key`` (e.g. ``{hash, logIndex}``)."""
        EVM_TX_KEYS[collection]
        await self._m.run(self._m.c(collection).delete_many(dict(key)))

    async def remove_from_height(self, collection: str, height: int) -> int:
        """Reorg: delete the indexed txs of blocks at or above ``height``; how many."""
        EVM_TX_KEYS[collection]
        r = await self._m.run(self._m.c(collection).delete_many({"blockNumber": {"$gte": height}}))
        return r.deleted_count

    # -- block monitor cursors ---------------------------------------------------------

    async def get_cursor(self, coin: str, network: str) -> Optional[Doc]:
        """``{coin, network, height, hash, ...}`` of the last block a monitor applied, or None."""
        return await self._m.find_one("monitor_cursors", {"coin": coin, "network": network})

    async def set_cursor(
        self, coin: str, network: str, height: int, block_hash: str, *, now: int, **extra: Any
    ) -> None:
        """Record the last block applied; ``now``: unix seconds (``updatedOn``)
        from the monitor's clock; ``extra``: more fields to keep with it."""
        await self._m.run(
            self._m.c("monitor_cursors").update_one(
                {"coin": coin, "network": network},
                {"$set": {"height": height, "hash": block_hash, "updatedOn": int(now), **extra}},
                upsert=True,
            )
        )
