"""Who hears about a notification: pure recipient selection for e-mail and push.

Rules (docs/spec/services.md §2.4, §4.2, §4.3, §5.2, §5.3):

=========================== ============ =============== ============
type                        e-mail doer  e-mail others   push
=========================== ============ =============== ============
NewCopayer                  no           yes             others
WalletComplete              yes          yes             all (global)
NewTxProposal (wallet m>1)  no           yes             others
NewOutgoingTx               yes          yes             others
NewIncomingTx               yes          yes             others (no creator ⇒ all)
TxProposalFinallyRejected   no           yes             others
TxConfirmation              yes          no              creator only
=========================== ============ =============== ============

"Doer" = the copayer whose id equals ``creatorId``; global (``null``) and
monitor (absent) notifications have no doer, so everybody is "other".

Differences from the reference (docs/compatibility.md): e-mail addresses are
de-duplicated *after* the doer/other filter (the reference marked an address
as seen before filtering, so a filtered-out first holder silenced everyone
sharing it); a missing wallet yields no recipients instead of a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional

from bws.delivery.templates import TEMPLATE_BY_TYPE, choose_language, choose_unit

__all__ = ["Recipient", "EMAIL_RULES", "email_recipients", "push_recipients", "is_deliverable"]


@dataclass(frozen=True)
class Recipient:
    copayerId: str
    language: str
    unit: str
    emailAddress: Optional[str] = None


#: type -> (notify the doer, notify the others), e-mail (docs/spec/services.md §4.2)
EMAIL_RULES = {
    "NewCopayer": (False, True),
    "WalletComplete": (True, True),
    "NewTxProposal": (False, True),
    "NewOutgoingTx": (True, True),
    "NewIncomingTx": (True, True),
    "TxProposalFinallyRejected": (False, True),
    "TxConfirmation": (True, False),
}


def is_deliverable(notification: dict[str, Any], wallet: Optional[dict[str, Any]]) -> bool:
    """Type is mailed/pushed at all, the wallet exists, and NewTxProposal only for m > 1."""
    if notification.get("type") not in TEMPLATE_BY_TYPE or not wallet:
        return False
    if notification.get("type") == "NewTxProposal":
        try:
            return int(wallet.get("m") or 0) > 1
        except (TypeError, ValueError):
            return False
    return True


def email_recipients(
    notification: dict[str, Any],
    wallet: Optional[dict[str, Any]],
    preferences: Iterable[dict[str, Any]],
    languages: Iterable[str],
    default_language: str,
    default_unit: str,
) -> list[Recipient]:
    """Recipients in preference (storage) order, one per e-mail address, first wins."""
    if not is_deliverable(notification, wallet):
        return []
    doer_ok, others_ok = EMAIL_RULES[notification["type"]]
    creator = notification.get("creatorId")
    available = set(languages)
    seen: set[str] = set()
    out: list[Recipient] = []
    for p in preferences:
        address = p.get("email")
        if not address or not isinstance(address, str):
            continue
        is_doer = creator is not None and p.get("copayerId") == creator
        if (is_doer and not doer_ok) or (not is_doer and not others_ok):
            continue
        key = address.strip().lower()
        if key in seen:
            continue
        seen.add(key)
        out.append(
            Recipient(
                copayerId=p.get("copayerId"),
                language=choose_language(p.get("language"), available, default_language),
                unit=choose_unit(wallet.get("coin"), p.get("unit"), default_unit),
                emailAddress=address.strip(),
            )
        )
    return out


def push_recipients(
    notification: dict[str, Any],
    wallet: Optional[dict[str, Any]],
    preferences: Iterable[dict[str, Any]],
    languages: Iterable[str],
    default_language: str,
    default_unit: str,
) -> list[Recipient]:
    """Recipients in wallet copayer order: TxConfirmation → only the creator; else everyone but the creator."""
    if not is_deliverable(notification, wallet):
        return []
    creator = notification.get("creatorId")
    prefs = {p.get("copayerId"): p for p in preferences}
    available = set(languages)
    out: list[Recipient] = []
    for c in wallet.get("copayers") or []:
        cid = c.get("id")
        if notification["type"] == "TxConfirmation":
            if cid != creator:
                continue
        elif creator is not None and cid == creator:
            continue
        p = prefs.get(cid) or {}
        out.append(
            Recipient(
                copayerId=cid,
                language=choose_language(p.get("language"), available, default_language),
                unit=choose_unit(wallet.get("coin"), p.get("unit"), default_unit),
            )
        )
    return out
