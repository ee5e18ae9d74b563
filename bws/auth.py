"""Request authentication (spec api.md §3.4–3.7): client-version gate,
x-identity + x-signature, x-session (notifications only), support staff.

Transport-free: the HTTP layer hands over an :class:`AuthRequest` built from
the raw request; the result is a WalletService bound to the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from bws import crypto
from bws.errors import client_error

#: auth kinds a route may declare
NONE, SIG, SESSION, STAFF = "none", "sig", "session", "staff"


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


def parse_client_version(value: Optional[str]) -> Optional[dict]:
    """``x-client-version`` -> ``{agent, major, minor, patch}`` (§3.7); None
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


async def authenticate(service: Any, req: AuthRequest, kind: str = SIG) -> Any:
    """The WalletService bound to the authenticated caller.

    kind: ``sig`` (signature), ``session`` (x-session accepted, else
    signature), ``staff`` (signature/staff lookup, support staff only).
    Missing x-identity and non-staff on staff routes -> 401 NOT_AUTHORIZED
    (Q1: the reference answers an odd 400; see docs/compatibility.md).
    Errors: UPGRADE_NEEDED, NOT_AUTHORIZED "Copayer not found" /
    "Invalid signature" / "Session expired".  Lookups come through
    ``service.copayer_lookups`` (bws/service/lookups.py: cached, re-read
    before a signature is refused)."""
    version = req.header("x-client-version")
    check_client_version(version)
    copayer_id = req.header("x-identity")
    if not copayer_id:
        raise _not_authorized()
    user_agent = req.header("user-agent")

    session_token = req.header("x-session")
    if kind == SESSION and session_token:
        if not await service.check_session(copayer_id, session_token):
            raise _not_authorized("Session expired")
        lookup = await service.copayer_lookups.get(copayer_id)
        if not lookup:
            raise _not_authorized("Copayer not found")
        return service.bind(lookup["walletId"], copayer_id, client_version=version, user_agent=user_agent)

    lookup = await service.copayer_lookups.get(copayer_id)
    if not lookup:
        raise _not_authorized("Copayer not found")
    if not _signed_by(lookup, req):
        # the cached lookup may predate a key added by addAccess: read it again once
        lookup = await service.copayer_lookups.get(copayer_id, fresh=True)
        if not lookup or not _signed_by(lookup, req):
            raise _not_authorized("Invalid signature")
    if lookup.get("isSupportStaff"):
        # Signed like everyone else: the reference skipped the check for staff, so
        # knowing a staff copayerId was enough to read any wallet (docs/security.md).
        wallet_id = req.header("x-wallet-id") or lookup.get("walletId")
        return service.bind(
            wallet_id, copayer_id, is_support_staff=True, client_version=version, user_agent=user_agent
        )
    if kind == STAFF:
        raise _not_authorized()
    return service.bind(lookup["walletId"], copayer_id, client_version=version, user_agent=user_agent)


__all__ = [
    "NONE",
    "SIG",
    "SESSION",
    "STAFF",
    "AuthRequest",
    "authenticate",
    "check_client_version",
    "parse_client_version",
]
