"""Login sessions for notification polling (docs/spec/api.md §3.5, Q2, Q20)."""

from __future__ import annotations

from typing import Optional

from bws.model import Session

from .base import Aggregate
from .context import Caller


class Sessions(Aggregate):
    """login, logout, and the session and copayer checks used by the auth layer."""

    async def login(self, caller: Caller, opts: Optional[dict] = None) -> str:
        """Session token (uuid4 string) for the caller: the stored one when
        still valid (touched), else a new one replacing it.  A new session is
        a change the logout replay guard sees (login itself is not guarded:
        every login of a client is the same signed request)."""
        doc = await self.storage.sessions.fetch(caller.copayer_id)
        now = self.now_s()
        old = Session.from_dict(doc) if doc else None
        if old is not None and old.is_valid(now):
            old.touch(now)
            await self.storage.sessions.store(old.to_dict(for_storage=True))
            return old.id
        s = Session.create(caller.copayer_id, caller.wallet_id, now=now)
        s.applied_requests = old.applied_requests if old is not None else []
        s.record_request(caller.request_digest)
        await self.storage.sessions.store(s.to_dict(for_storage=True))
        return s.id

    async def logout(self, caller: Caller, opts: Optional[dict] = None) -> None:
        """End the caller's session (Q2: the reference crashed here); the
        ended document stays for the replay guard.  bitcore-wallet-client signs
        every logout identically, so once a login started a newer session, that
        signed logout is NOT_AUTHORIZED "Request already applied"
        (:meth:`_already_applied`; the session expires on its own).  Returns
        None (empty body)."""
        doc = await self.storage.sessions.fetch(caller.copayer_id)
        if not doc and not caller.request_digest:
            return None  # nothing to end, nothing to remember
        s = Session.from_dict(doc) if doc else Session(copayer_id=caller.copayer_id, wallet_id=caller.wallet_id)
        if self._already_applied(caller, s):
            return None
        s.end()
        s.record_request(caller.request_digest)
        await self.storage.sessions.store(s.to_dict(for_storage=True))
        return None

    async def check_copayer(self, caller: Caller) -> None:
        """The auth layer's check before a write: NOT_AUTHORIZED unless the
        caller is a copayer of the wallet it acts on (docs/security.md §8,
        finding 3); WALLET_NOT_FOUND."""
        await self._check_copayer(caller)

    async def check_session(self, copayer_id: str, token: str) -> bool:
        """True when ``token`` is the stored, unexpired session of
        ``copayer_id`` (use does not extend it, Q20)."""
        doc = await self.storage.sessions.fetch(copayer_id)
        if not doc or doc.get("id") != token:
            return False
        return Session.from_dict(doc).is_valid(self.now_s())
