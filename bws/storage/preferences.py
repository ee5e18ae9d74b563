"""Preferences repository (collection ``preferences``,
bws/model/preferences.py): one document per (walletId, copayerId)."""

from __future__ import annotations

from typing import Optional, Union

from pymongo import ASCENDING

from bws.storage.mongo import Doc, Mongo


class PreferencesRepo:
    def __init__(self, mongo: Mongo):
        self._m = mongo

    async def fetch(self, wallet_id: str, copayer_id: Optional[str] = None) -> Union[Optional[Doc], list[Doc]]:
        """One copayer's preferences dict (or None), or, without ``copayer_id``,
        the list of every copayer's (insertion order)."""
        if copayer_id is not None:
            return await self._m.find_one("preferences", {"walletId": wallet_id, "copayerId": copayer_id})
        return await self._m.find("preferences", {"walletId": wallet_id}, sort=[("_id", ASCENDING)])

    async def store(self, prefs: Doc) -> None:
        """Upsert by (walletId, copayerId)."""
        await self._m.replace("preferences", {"walletId": prefs["walletId"], "copayerId": prefs["copayerId"]}, prefs)
