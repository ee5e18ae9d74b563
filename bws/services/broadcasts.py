"""Marking a proposal broadcast: the ONE implementation, used by the API's
broadcast and pending-list paths and by both block monitors (bcmonitor/btc.py,
bcmonitor/evm.py) (issue 16 "One home per rule"; upstream
bitcore-wallet-service lib/server.js ``_processBroadcast`` and
lib/blockchainmonitor.js ``_handleThirdPartyBroadcasts``).

The rule:

* under the proposal's wallet lock (the API's writes on the same proposal and
  a monitor's mark are serialised);
* only a proposal still stored as ``accepted`` is marked: the store is
  conditional (``expect={"status": "accepted"}``), so of several processes
  marking the same proposal (API requests, monitors) exactly one stores and
  announces it (issue 15 finding 8);
* the proposal and its ``NewOutgoingTx`` / ``NewOutgoingTxByThirdParty``
  notification are stored together, then published (the one Notifier,
  bws/services/notifier.py ``notify_with_tx``);
* ONE payload: ``TxProposal.notification_data(txid=...)`` =
  ``{txProposalId, creatorId, amount (int, satoshis or wei), message, txid}``
  (upstream's monitor sent only ``{txProposalId, txid, amount}``: the email and
  push templates got different fields depending on who saw the broadcast);
* the wallet's history cache is soft-reset (the outgoing tx must appear).

The upstream reference is callback-based and the API's copy and the monitor's
copy had drifted; here both call :meth:`BroadcastMarks.mark_broadcast`.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from twisted.internet.interfaces import IReactorTime

from bws.errors import ClientError
from bws.interfaces import run_locked
from bws.model import UNDEFINED, TxProposal
from bws.model import constants as C

log = logging.getLogger(__name__)


class BroadcastMarks:
    """The mark-broadcast rule over its dependencies.

    storage: :class:`bws.storage.Storage` (``proposals.fetch``,
    ``proposals.fetch_by_txid``, ``cache.soft_reset``); notifier: the
    process's :class:`bws.services.notifier.Notifier` (store with the
    proposal, then publish); lock: a :class:`bws.interfaces.Lock` (the process's
    wallet lock: the API's and the monitor's must be the same backend to
    serialise across processes); clock: ``IReactorTime`` (``seconds()``, unix s: ``broadcastedOn`` and
    notification ids); lock_wait / lock_max_hold: seconds (WALLET_BUSY after
    ``lock_wait``).
    """

    def __init__(
        self,
        storage: Any,
        notifier: Any,
        lock: Any,
        clock: IReactorTime,
        *,
        lock_wait: float = C.LOCK_WAIT_TIME,
        lock_max_hold: float = C.LOCK_EXE_TIME,
    ) -> None:
        self.storage = storage
        self.notifier = notifier
        self.lock = lock
        self.clock = clock
        self.lock_wait = lock_wait
        self.lock_max_hold = lock_max_hold

    async def mark_broadcast(
        self,
        txp: TxProposal,
        txid: Optional[str],
        by_third_party: bool,
        *,
        creator_id: Any = UNDEFINED,
        locked: bool = False,
    ) -> bool:
        """Mark ``txp`` (an accepted proposal) broadcast as ``txid`` (None: keep
        ``txp.txid``) and announce it once (see the module doc).

        by_third_party: NewOutgoingTxByThirdParty instead of NewOutgoingTx;
        creator_id: the notification's creatorId (the acting copayer; a
        monitor acts for nobody: omitted); locked: the caller already holds
        ``txp``'s wallet lock (the lock is not reentrant: the API's broadcast
        and the UTXO read inside createTx/publish run under it).

        Returns True when this call stored the mark, False when the proposal
        was no longer accepted (someone else marked it first).  ``txp`` is
        updated in place (status, broadcastedOn, txid) either way.  Raises
        ClientError('WALLET_BUSY') when the lock is not granted in time."""

        async def mark() -> bool:
            txp.txid = txid or txp.txid
            txp.set_broadcasted(self.clock.seconds())
            kind = "NewOutgoingTxByThirdParty" if by_third_party else "NewOutgoingTx"
            n = self.notifier.new(
                kind,
                txp.notification_data(txid=txp.txid),
                txp.wallet_id,
                creator_id,
                now_ms=int(self.clock.seconds() * 1000),
            )
            stored = await self.notifier.notify_with_tx(txp.to_storage(), [n], expect={"status": C.TXP_ACCEPTED})
            if stored is None:
                log.info("proposal %s was already marked broadcast", txp.id)
                return False
            try:
                await self.storage.cache.soft_reset(txp.wallet_id)
            except Exception as e:  # a stale history cache is refreshed by the next block
                log.warning("history cache reset for %s failed: %r", txp.wallet_id, e)
            return True

        if locked:
            return await mark()
        return await run_locked(self.lock, txp.wallet_id, mark, wait_time=self.lock_wait, max_hold=self.lock_max_hold)

    async def mark_seen_on_chain(
        self, txp: TxProposal, *, creator_id: Any = UNDEFINED, locked: bool = False
    ) -> bool:
        """An accepted proposal whose txid the chain knows was broadcast by a
        third party (or by us, answer lost): re-read it (under the lock) and
        mark it if it is still accepted.  WALLET_BUSY is logged, not raised:
        the transaction is on chain either way and the next pending listing
        (or block) marks it.  Returns whether this call marked it."""

        async def mark() -> bool:
            doc = await self.storage.proposals.fetch(txp.wallet_id, txp.id)
            if not doc or doc.get("status") != C.TXP_ACCEPTED:
                return False
            return await self.mark_broadcast(
                TxProposal.from_dict(doc), None, True, creator_id=creator_id, locked=True
            )

        if locked:
            return await mark()
        try:
            return await run_locked(
                self.lock, txp.wallet_id, mark, wait_time=self.lock_wait, max_hold=self.lock_max_hold
            )
        except ClientError as e:
            if e.code != "WALLET_BUSY":
                raise
            log.warning("proposal %s (%s) is on chain; wallet busy, marking it later", txp.id, txp.txid)
            return False

    async def mark_txid_seen_on_chain(self, txid: str) -> bool:
        """Monitors: the transaction ``txid`` was seen on the network; if it is
        an accepted proposal's (any wallet), mark that proposal broadcast by a
        third party (:meth:`mark_seen_on_chain`).  Returns whether this call
        marked it."""
        doc = await self.storage.proposals.fetch_by_txid(txid)
        if not doc or doc.get("status") != C.TXP_ACCEPTED:
            return False
        return await self.mark_seen_on_chain(TxProposal.from_dict(doc))


__all__ = ["BroadcastMarks"]
