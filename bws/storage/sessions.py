"""Sessions repository (collection ``sessions``, bws/model/session.py): one
login session per copayer (bitcore-wallet-service lib/storage.js getSession,
storeSession)."""

from __future__ import annotations

from typing import Optional

from bws.storage.mongo import Doc, Mongo


class SessionsRepo:
    def __init__(self, mongo: Mongo):
        self._m = mongo

    async def fetch(self, copayer_id: str) -> Optional[Doc]:
        return await self._m.find_one("sessions", {"copayerId": copayer_id})

    async def store(self, session: Doc) -> None:
        """Upsert the copayer's session."""
        await self._m.replace("sessions", {"copayerId": session["copayerId"]}, session)

    async def remove(self, copayer_id: str) -> None:
        await self._m.run(self._m.c("sessions").delete_many({"copayerId": copayer_id}))
