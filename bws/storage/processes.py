"""Process registry repository (collection ``processes``, *added*;
bws/process_registry.py keeps the entries): ``{id, kind, pid, host, ...,
startedAt, heartbeatAt}`` per running process. The times are the database
server's clock (one clock for every host, so ages compare without clock skew),
naive UTC datetimes."""

from __future__ import annotations

from typing import Optional

from pymongo import ASCENDING, ReturnDocument

from bws.storage.mongo import NO_ID, Doc, Mongo


class ProcessesRepo:
    def __init__(self, mongo: Mongo):
        self._m = mongo

    async def register(self, entry: Doc) -> Doc:
        """Insert (or overwrite) the entry ``{id, kind, ...}`` of a running process,
        ``startedAt`` and ``heartbeatAt`` set to the server's clock. Returns the stored entry."""
        fields = {k: v for k, v in entry.items() if k not in ("_id", "startedAt", "heartbeatAt")}
        return await self._m.run(self._m.c("processes").find_one_and_update(
            {"id": entry["id"]},
            {"$set": fields, "$currentDate": {"startedAt": True, "heartbeatAt": True}},
            projection=NO_ID, upsert=True, return_document=ReturnDocument.AFTER,
        ))

    async def touch(self, process_id: str) -> Optional[Doc]:
        """Set the entry's ``heartbeatAt`` to the server's clock; the entry, or None when it is gone."""
        return await self._m.run(self._m.c("processes").find_one_and_update(
            {"id": process_id}, {"$currentDate": {"heartbeatAt": True}},
            projection=NO_ID, return_document=ReturnDocument.AFTER,
        ))

    async def fetch(self, kind: str) -> list[Doc]:
        """Every registered entry of ``kind`` (e.g. ``"bws"``), live or stale, oldest first."""
        return await self._m.find("processes", {"kind": kind}, sort=[("startedAt", ASCENDING)])

    async def remove(self, process_id: str) -> None:
        """Delete one process entry (clean shutdown, refused start, a dead pid)."""
        await self._m.run(self._m.c("processes").delete_one({"id": process_id}))
