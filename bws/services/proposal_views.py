"""A proposal as the wallet's copayers read it (docs/spec/api.md §5.4;
upstream bitcore-wallet-service lib/server.js ``getTx`` / ``getPendingTxs``
decorations): the stored proposal plus names, the derivation strategy and,
for accepted proposals the coin can rebuild (BTC/BCH), the fully signed
``raw``.  No I/O."""

from __future__ import annotations

import logging

from bws.chains.rules import find_rules
from bws.errors import BWSError
from bws.model import TxProposal
from bws.model import constants as C

from .lookups import WalletFacts

log = logging.getLogger(__name__)


def decorate_txp(facts: WalletFacts, txp: TxProposal) -> dict:
    """Read-time decorations (docs/spec/api.md §5.4): creatorName (or "unknown"),
    derivationStrategy, actions[].copayerName (Q3: the acting copayer's
    name), and ``raw`` for accepted BTC/BCH proposals: the stored one, or
    rebuilt from the proposal and its accept actions when it was stored
    without (docs/spec/api.md §5.4 "raw (recomputed for accepted
    proposals)").
    facts: ``WalletFacts.of(wallet)`` (or cached, bws/services/lookups.py)."""
    d = txp.to_dict()
    names = facts.copayer_names
    d["creatorName"] = names.get(txp.creator_id, "unknown")
    d["derivationStrategy"] = facts.derivation_strategy
    for a in d.get("actions") or []:
        a["copayerName"] = names.get(a.get("copayerId"), "unknown")
    rules = find_rules(txp.coin)
    if txp.status == C.TXP_ACCEPTED and rules is not None and not txp.is_legacy() and not d.get("raw"):
        try:
            raw = rules.signed_raw(txp)
            if raw is not None:
                d["raw"] = raw
        except (BWSError, ValueError) as e:
            # Stored data this server cannot turn into a transaction (a bad
            # output, a stored signature that no longer verifies). This is a
            # read: the pending list and the proposal must still load, so
            # the copayers can see and remove it; the proposal is answered
            # without ``raw`` and a broadcast reports the build error. Only
            # these build errors are caught: anything else is a bug and
            # fails the request instead of silently dropping ``raw``.
            log.warning("accepted proposal %s: raw not rebuilt: %s", txp.id, e)
    return d


__all__ = ["decorate_txp"]
