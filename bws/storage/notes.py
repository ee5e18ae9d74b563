"""Transaction notes repository (collection ``tx_notes``, bws/model/txnote.py):
one note per (walletId, txid), ``editedOn`` in unix seconds."""

from __future__ import annotations

from typing import Iterable, Optional

from bws.storage.mongo import Doc, Mongo, ts_range


class NotesRepo:
    def __init__(self, mongo: Mongo):
        self._m = mongo

    async def fetch(self, wallet_id: str, txid: str) -> Optional[Doc]:
        return await self._m.find_one("tx_notes", {"walletId": wallet_id, "txid": txid})

    async def fetch_since(self, wallet_id: str, min_ts: Optional[float] = None) -> list[Doc]:
        """The wallet's notes edited at or after ``min_ts`` (unix s; all when None)."""
        q: Doc = {"walletId": wallet_id}
        q.update(ts_range("editedOn", min_ts, None))
        return await self._m.find("tx_notes", q)

    async def fetch_by_txids(self, wallet_id: str, txids: Iterable[str], min_ts: Optional[int] = None) -> list[Doc]:
        """The notes a history page merges: those of ``txids`` edited at or
        after min_ts (the page's subset of :meth:`fetch_since`)."""
        q: Doc = {"walletId": wallet_id, "txid": {"$in": list(txids)}}
        q.update(ts_range("editedOn", min_ts, None))
        return await self._m.find("tx_notes", q)

    async def store(self, note: Doc) -> None:
        """Upsert by (walletId, txid)."""
        await self._m.replace("tx_notes", {"walletId": note["walletId"], "txid": note["txid"]}, note)
