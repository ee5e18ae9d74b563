"""Request authentication (docs/spec/api.md §3.4–3.7): client-version gate,
x-identity + x-signature, x-session (notifications only), support staff.

Transport-free: the HTTP layer hands over an :class:`AuthRequest` built from
the raw request; the result is the :class:`~bws.services.context.Caller`
(upstream bitcore-wallet-service lib/expressapp.js ``getServerWithAuth``).
Support staff re-bound to a wallet found by identifier get their Caller from
:func:`staff_on` too, so every Caller is made here.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from bws import crypto
from bws.errors import ClientError, client_error
from bws.services.context import Caller

#: auth kinds a route may declare
NONE, SIG, SESSION, STAFF = "none", "sig", "session", "staff"

#: most copayer ids one bulk request (``x-identities``) may name: a seed import
#: of bitcore-wallet-client 11.5.2 asks ~40 at once (docs/spec/protocol-bwc11.md §3.5)
MAX_IDENTITIES = 200


@dataclass
class AuthRequest:
    """What authentication needs from a request.

    method: HTTP method (any case); url: request target relative to the base
    path, query included, exactly as sent (e.g. ``/v1/txproposals/?r=1``);
    raw_body: body bytes when a JSON body was parsed, else None (signature
    over "{}"); body: the parsed JSON (or None); headers: lower-case name -> value.
    """

    method: str
    url: str
    raw_body: Optional[bytes]
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> Optional[str]:
        v = self.headers.get(name.lower())
        return v if v else None

    @property
    def is_read(self) -> bool:
        """GET (and HEAD, routed as GET): the routes that change nothing."""
        return self.method.upper() in ("GET", "HEAD")


def request_digest(copayer_id: str, req: AuthRequest) -> str:
    """Hex sha256 of what a signed request asks for: copayer, method, url and
    the body as ``JSON.stringify`` writes it.  Every valid re-send of one
    signed request (bit-identical, or re-spaced JSON that still verifies)
    has the same digest; the replay guard of the last-writer-wins writes
    keeps it (bws/model/base.py RequestLog, docs/security.md §4)."""
    try:
        body = crypto.js_json_stringify({} if req.body is None else req.body)
    except (TypeError, RecursionError):  # only the raw text verified
        body = (req.raw_body or b"").decode("utf-8", "replace")
    text = "|".join((copayer_id, req.method.lower(), req.url, body))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_client_version(value: Optional[str]) -> Optional[dict]:
    """``x-client-version`` -> ``{agent, major, minor, patch}`` (docs/spec/api.md §3.7); None
    when empty; ``{agent: value}`` when not ``<agent>-<x.y.z>``."""
    if not value:
        return None
    parts = value.split("-")
    if len(parts) != 2:
        return {"agent": value}
    agent = "bwc" if parts[0] in ("bwc", "bws") else parts[0]
    nums = parts[1].split(".")

    def num(i: int) -> Optional[int]:
        if i >= len(nums):
            return None
        s = nums[i].strip()
        digits = ""
        for ch in s:
            if "0" <= ch <= "9":  # ASCII only: str.isdigit() accepts "¹", which int() refuses
                digits += ch
            else:
                break
        return int(digits) if digits else None

    return {"agent": agent, "major": num(0), "minor": num(1), "patch": num(2)}


def check_client_version(value: Optional[str]) -> None:
    """UPGRADE_NEEDED "BWC clients < 1.2 are no longer supported." for
    ``bwc`` agents older than 1.2; everything else passes."""
    v = parse_client_version(value)
    if not v or v.get("agent") != "bwc":
        return
    major, minor = v.get("major"), v.get("minor")
    if major == 0 or (major == 1 and minor is not None and minor < 2):
        raise client_error("UPGRADE_NEEDED", "BWC clients < 1.2 are no longer supported.")


def _not_authorized(message: str = "Not authorized"):
    return client_error("NOT_AUTHORIZED", message)


def _signed_by(lookup: Mapping, req: AuthRequest) -> bool:
    """True when x-signature verifies against one of the lookup's request keys."""
    pubkeys = [k.get("key") for k in lookup.get("requestPubKeys") or [] if isinstance(k, Mapping)]
    return crypto.verify_request_signature(
        req.method, req.url, req.raw_body, req.body, req.header("x-signature"), [k for k in pubkeys if k]
    )


async def authenticate(service: Any, req: AuthRequest, kind: str = SIG) -> Caller:
    """The :class:`Caller` of a request, authenticated.

    service: the process's :class:`bws.services.Services` (``sessions.check_session``,
    ``copayer_lookups``, ``sessions.check_copayer`` for writes); kind: ``sig``
    (signature), ``session`` (x-session accepted, else signature), ``staff``
    (signature/staff lookup, support staff only).
    Missing x-identity and non-staff on staff routes -> 401 NOT_AUTHORIZED
    (Q1: the reference answers an odd 400; see docs/compatibility.md).
    Support staff act on the wallet ``x-wallet-id`` names for reads (GET)
    only; every write must come from a copayer of the wallet it changes
    (docs/security.md §8, finding 3).
    Errors: UPGRADE_NEEDED, NOT_AUTHORIZED "Copayer not found" /
    "Invalid signature" / "Session expired" / "Support staff may only read
    other wallets" / "Copayer not in wallet".  Lookups come through
    ``service.copayer_lookups`` (bws/services/lookups.py: cached, re-read
    before a signature is refused).  A signed write carries its
    :func:`request_digest` (the replay guard)."""
    version = req.header("x-client-version")
    check_client_version(version)
    copayer_id = req.header("x-identity")
    if not copayer_id:
        raise _not_authorized()
    user_agent = req.header("user-agent")

    session_token = req.header("x-session")
    if kind == SESSION and session_token:
        if not await service.sessions.check_session(copayer_id, session_token):
            raise _not_authorized("Session expired")
        lookup = await service.copayer_lookups.get(copayer_id)
        if not lookup:
            raise _not_authorized("Copayer not found")
        return Caller(lookup["walletId"], copayer_id, client_version=version, user_agent=user_agent)

    lookup = await service.copayer_lookups.get(copayer_id)
    if not lookup:
        raise _not_authorized("Copayer not found")
    if not _signed_by(lookup, req):
        # the cached lookup may predate a key added by addAccess: read it again once
        lookup = await service.copayer_lookups.get(copayer_id, fresh=True)
        if not lookup or not _signed_by(lookup, req):
            raise _not_authorized("Invalid signature")
    digest = None if req.is_read else request_digest(copayer_id, req)
    if lookup.get("isSupportStaff"):
        # Signed like everyone else: the reference skipped the check for staff, so
        # knowing a staff copayerId was enough to read any wallet (docs/security.md).
        # Another wallet is theirs to read, never to change (the reference let them
        # reject proposals, set preferences, register webhooks there).
        wallet_id = req.header("x-wallet-id") or lookup.get("walletId")
        if wallet_id != lookup.get("walletId") and not req.is_read:
            raise _not_authorized("Support staff may only read other wallets")
        caller = Caller(
            wallet_id,
            copayer_id,
            is_support_staff=True,
            client_version=version,
            user_agent=user_agent,
            request_digest=digest,
        )
    elif kind == STAFF:
        raise _not_authorized()
    else:
        caller = Caller(
            lookup["walletId"], copayer_id, client_version=version, user_agent=user_agent, request_digest=digest
        )
    if not req.is_read:
        await service.sessions.check_copayer(caller)
    return caller


async def authenticate_identities(service: Any, req: AuthRequest) -> list[tuple[str, Caller | ClientError]]:
    """Bulk authentication (``GET /v1/wallets/all/``; upstream
    ``routes/context.ts getServerWithMultiAuth``): ``x-identities`` is a
    comma-separated list of copayer ids and the ONE ``x-signature`` must
    verify against a request key of EACH of them (bitcore-wallet-client's
    ``BulkClient`` signs with the first credentials' request key, which all
    wallets made from one Key share).

    Returns ``[(copayerId, Caller | ClientError)]`` in header order, blanks
    dropped and repeats kept once: the error (NOT_AUTHORIZED "Copayer not
    found" / "Invalid signature" / "Not authorized" for support staff, whose
    x-wallet-id re-binding has no meaning here) stands where that identity
    failed; the caller decides what a failure means (``silentFailure``).
    Raises UPGRADE_NEEDED (old client) and NOT_AUTHORIZED when
    ``x-identities`` or ``x-signature`` is missing, or more than
    :data:`MAX_IDENTITIES` identities are named.  Only for reads (GET)."""
    check_client_version(req.header("x-client-version"))
    header = req.header("x-identities")
    if not header or not req.header("x-signature") or not req.is_read:
        raise _not_authorized()
    ids: list[str] = []
    for part in header.split(","):
        part = part.strip()
        if part and part not in ids:
            ids.append(part)
    if not ids or len(ids) > MAX_IDENTITIES:
        raise _not_authorized()
    version, user_agent = req.header("x-client-version"), req.header("user-agent")
    out: list[tuple[str, Caller | ClientError]] = []
    for copayer_id in ids:
        lookup = await service.copayer_lookups.get(copayer_id)
        if lookup and not _signed_by(lookup, req):
            lookup = await service.copayer_lookups.get(copayer_id, fresh=True)
            if lookup and not _signed_by(lookup, req):
                out.append((copayer_id, _not_authorized("Invalid signature")))
                continue
        if not lookup:
            out.append((copayer_id, _not_authorized("Copayer not found")))
        elif lookup.get("isSupportStaff"):
            out.append((copayer_id, _not_authorized()))
        else:
            caller = Caller(lookup["walletId"], copayer_id, client_version=version, user_agent=user_agent)
            out.append((copayer_id, caller))
    return out


def staff_on(caller: Caller, wallet_id: str) -> Caller:
    """Support staff ``caller`` re-bound, read-only, to ``wallet_id`` (the
    wallet ``GET /v1/wallets/:identifier/`` found; upstream
    bitcore-wallet-service lib/expressapp.js ``/v1/wallets/:identifier/``).
    Only reads reach it (the route is a GET), so no request digest.
    Raises NOT_AUTHORIZED for a caller that is not support staff."""
    if not caller.is_support_staff:
        raise _not_authorized()
    return dataclasses.replace(caller, wallet_id=wallet_id, request_digest=None)


__all__ = [
    "NONE",
    "SIG",
    "SESSION",
    "STAFF",
    "AuthRequest",
    "authenticate",
    "authenticate_identities",
    "check_client_version",
    "parse_client_version",
    "request_digest",
    "staff_on",
]
