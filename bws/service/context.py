"""Who is calling: the :class:`Caller` the HTTP layer's authentication hands
to the services (upstream
bitcore-wallet-service lib/server.js ``getInstanceWithAuth``).

A plain frozen value: the services never read HTTP headers, and the HTTP layer
never writes into the services (issue 16, "HTTP layer").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one request.

    wallet_id: str | None, the wallet acted on (support staff: the one
    ``x-wallet-id`` names); copayer_id: str | None, the signing copayer
    (None for unauthenticated routes such as wallet creation);
    is_support_staff: bool, read-only access to other wallets;
    client_version: str | None, ``x-client-version`` (e.g. "bwc-6.7.5");
    user_agent: str | None; request_digest: str | None, digest of a signed
    write (bws/http/auth.py ``request_digest``: the replay guard), None for reads.
    """

    wallet_id: Optional[str] = None
    copayer_id: Optional[str] = None
    is_support_staff: bool = False
    client_version: Optional[str] = None
    user_agent: Optional[str] = None
    request_digest: Optional[str] = None


#: the caller of routes that need no identity (create wallet, join, version, fiat rates)
ANONYMOUS = Caller()

__all__ = ["ANONYMOUS", "Caller"]
