"""Login sessions for notification polling (spec api.md §3.5, Q2, Q20)."""

from __future__ import annotations

from typing import Optional

from bws.model import Session

from .base import ServiceBase


class SessionsMixin(ServiceBase):
    """login, logout, and the session check used by the auth layer."""

    async def login(self, opts: Optional[dict] = None) -> str:
        """Session token (uuid4 string) for the caller: the stored one when
        still valid (touched), else a new one replacing it."""
        doc = await self.storage.get_session(self.copayer_id)
        now = self.now_s()
        if doc:
            s = Session.from_dict(doc)
            if s.is_valid(now):
                s.touch(now)
                await self.storage.store_session(s.to_dict(for_storage=True))
                return s.id
        s = Session.create(self.copayer_id, self.wallet_id, now=now)
        await self.storage.store_session(s.to_dict(for_storage=True))
        return s.id

    async def logout(self, opts: Optional[dict] = None) -> None:
        """Delete the caller's session (Q2: the reference crashed here).
        Returns None (empty body)."""
        await self.storage.remove_session(self.copayer_id)
        return None

    async def check_session(self, copayer_id: str, token: str) -> bool:
        """True when ``token`` is the stored, unexpired session of
        ``copayer_id`` (use does not extend it, Q20)."""
        doc = await self.storage.get_session(copayer_id)
        if not doc or doc.get("id") != token:
            return False
        return Session.from_dict(doc).is_valid(self.now_s())
