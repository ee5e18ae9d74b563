"""The proposals aggregate: create, publish, sign, reject, remove, get,
broadcast; send-max info; the pending list with its blockchain check
(docs/spec/api.md §4.8–§4.15, §4.19, §5.4, §6.7–§6.13, §6.22, §10
Q7/Q10/Q11/Q19; upstream bitcore-wallet-service lib/server.js createTx,
publishTx, signTx, rejectTx, removePendingTx, getTx, broadcastTx,
getPendingTxs).

Shapes: a proposal on the wire is ``TxProposal.to_dict()`` (docs/spec/api.md §5.4); amounts and
fees are int satoshis, ``feePerKb`` sat/kB, times unix seconds.

Lifecycle::

    create_tx  -> status "temporary" (nothing locked, not listed as pending)
    publish_tx -> "pending"   (NewTxProposal)
    sign_tx    -> "accepted" once requiredSignatures accepts (raw + txid set)
    reject_tx  -> "rejected" once requiredRejections rejects
    broadcast_tx -> "broadcasted" (NewOutgoingTx / NewOutgoingTxByThirdParty)

Every write runs under the wallet lock (sign/reject/broadcast too, Q19) and
reads the wallet once, under it.  The coin's steps are picked once per request
by one lookup, :meth:`Proposals._steps_for` (the wallet's
``rules_for(wallet.coin).family``, bws/chains/rules.py): UTXO coins in
bws/services/proposals_utxo.py, EVM coins in bws/services/proposals_evm.py,
both :class:`ProposalSteps`; the lifecycle checks (vote, status, backoff)
are shared here.  Marking a
proposal broadcast is the one rule of bws/services/broadcasts.py.
"""

from __future__ import annotations

import logging
from typing import Any, Optional, Protocol

from bws.chains.constants import EVM_FAMILY, UTXO_FAMILY
from bws.chains.rules import ChainRules, rules_for
from bws.errors import Errors, ServerError, bad_request
from bws.model import UNDEFINED, LEGACY_UNSUPPORTED_MESSAGE, Notification, TxProposal, Wallet
from bws.model import constants as C

from .base import Aggregate, check_length, check_required
from .broadcasts import BroadcastMarks

from .context import Caller, Deps, State
from .addresses import Addresses
from .balance import Balance
from .fees import Fees
from .notes import Notes
from . import proposals_evm, proposals_utxo, proposals_v3
from .lookups import WalletFacts
from .proposal_views import decorate_txp

log = logging.getLogger(__name__)


class ProposalSteps(Protocol):
    """The per-family proposal steps (bws/services/proposals_utxo.py
    ``UTXO_STEPS``, proposals_evm.py ``EVM_STEPS``), each called by
    :class:`Proposals` under the wallet lock with the wallet read once and
    the wallet's rules; each returns the JSON-ready answer of its method
    (the docstrings of :class:`Proposals`)."""

    async def send_max_info(self, p: "Proposals", caller: Caller, wallet: Wallet, rules: Any, opts: dict) -> dict: ...

    async def create(
        self, p: "Proposals", caller: Caller, wallet: Wallet, rules: Any, opts: dict, txp_id: Any
    ) -> dict: ...

    async def publish(
        self, p: "Proposals", caller: Caller, wallet: Wallet, rules: Any, txp: TxProposal, opts: dict
    ) -> dict: ...

    async def sign(
        self, p: "Proposals", caller: Caller, wallet: Wallet, rules: Any, txp: TxProposal, copayer: Any, sigs: Any
    ) -> dict: ...

    async def broadcast(self, p: "Proposals", caller: Caller, wallet: Wallet, rules: Any, txp: TxProposal) -> dict: ...

    async def coins_for_tx(self, p: "Proposals", wallet: Wallet, rules: Any, txid: str) -> dict: ...


class Proposals(Aggregate):
    """createTx, publishTx, signTx, rejectTx, removePendingTx, getTx,
    broadcastTx, getSendMaxInfo, getPendingTxs (with the blockchain check)."""

    def __init__(
        self,
        deps: Deps,
        state: State,
        broadcasts: BroadcastMarks,
        *,
        addresses: Addresses,
        balance: Balance,
        fees: Fees,
        notes: Notes,
    ) -> None:
        super().__init__(deps, state, broadcasts)
        self.addresses = addresses
        self.balance = balance
        self.fees = fees
        self.notes = notes
        #: the proposal steps of each chain-rules family (bws/chains/rules.py)
        self._steps: dict[str, ProposalSteps] = {
            UTXO_FAMILY: proposals_utxo.UTXO_STEPS,
            EVM_FAMILY: proposals_evm.EVM_STEPS,
        }

    def _steps_for(self, wallet: Wallet) -> tuple[ProposalSteps, ChainRules]:
        """The wallet's proposal steps and chain rules: the one per-coin lookup."""
        rules = rules_for(wallet.coin)
        return self._steps[rules.family], rules

    # ------------------------------------------------------------ helpers
    async def _fetch_txp(self, caller: Caller, txp_id: Any, wallet_id: Optional[str] = None) -> TxProposal:
        """The proposal or TX_NOT_FOUND."""
        if not isinstance(txp_id, str) or not txp_id:
            raise Errors.TX_NOT_FOUND
        doc = await self.storage.proposals.fetch(wallet_id or caller.wallet_id, txp_id)
        if not doc:
            raise Errors.TX_NOT_FOUND
        return TxProposal.from_dict(doc)

    async def _create_preamble(self, caller: Caller, opts: dict) -> tuple[Wallet, Optional[dict]]:
        """Checks shared by every coin's createTx (docs/spec/api.md §6.9): the wallet, complete and not
        needing a scan, and the proposal already stored under a client-chosen
        ``txProposalId`` (idempotency) or None. Errors: WALLET_NOT_FOUND,
        WALLET_NOT_COMPLETE, WALLET_NEED_SCAN, "Invalid txProposalId",
        "Invalid message|payProUrl|customData: longer than N characters"."""
        wallet = await self._fetch_wallet(caller.wallet_id)
        if not wallet.is_complete():
            raise Errors.WALLET_NOT_COMPLETE
        if wallet.is_scan_error():
            raise Errors.WALLET_NEED_SCAN
        check_length(opts.get("message"), C.MAX_MESSAGE_LENGTH, "message")
        check_length(opts.get("payProUrl"), C.MAX_URL_LENGTH, "payProUrl")
        check_length(opts.get("customData"), C.MAX_CUSTOM_DATA_LENGTH, "customData")
        outputs = opts.get("outputs")
        for o in outputs if isinstance(outputs, list) else ():
            if isinstance(o, dict):
                check_length(o.get("message"), C.MAX_MESSAGE_LENGTH, "message")
        txp_id = opts.get("txProposalId")
        if txp_id is not None and txp_id is not UNDEFINED:
            if not isinstance(txp_id, str) or not txp_id or len(txp_id) > 200:
                raise bad_request("Invalid txProposalId")
            existing = await self.storage.proposals.fetch(wallet.id, txp_id)
            if existing:
                return wallet, decorate_txp(WalletFacts.of(wallet), TxProposal.from_dict(existing))
        return wallet, None

    async def _store_txp(self, txp: TxProposal, *notes: Notification, expect: Optional[dict] = None) -> bool:
        """Store ``txp`` and the notifications announcing its new state together
        (one transaction: :meth:`bws.services.notifier.Notifier.notify_with_tx`),
        then publish them. ``expect``: conditions the stored proposal must still
        meet (e.g. ``{"status": "accepted"}``); False when it no longer did:
        someone else made the change first, nothing was stored or published."""
        stored = await self.notifier.notify_with_tx(txp.to_storage(), notes, expect=expect)
        return stored is not None

    @staticmethod
    def _require_v3(txp: Any) -> None:
        if txp.is_legacy():
            raise ServerError(LEGACY_UNSUPPORTED_MESSAGE)

    # ------------------------------------------------------------ send max (docs/spec/api.md §6.13)
    async def get_send_max_info(self, caller: Caller, opts: Optional[dict] = None) -> dict:
        """``GET /v1/sendmaxinfo/`` (docs/spec/api.md §4.19, §6.13).

        opts: ``{feeLevel?: str, feePerKb?: number (sat/kB),
        excludeUnconfirmedUtxos?: bool, returnInputs?: bool}`` ->
        ``{size (bytes), amount, fee, feePerKb, inputs: [utxo], utxosBelowFee,
        amountBelowFee, utxosAboveMaxSize, amountAboveMaxSize}`` (satoshis).
        Errors: "Only one of feeLevel/feePerKb can be specified", "Invalid fee
        level...", "Invalid fee per KB", WALLET_NEED_SCAN, explorer errors."""
        wallet = await self._fetch_wallet(caller.wallet_id)
        return await self._send_max_info(caller, wallet, opts or {})

    async def _send_max_info(self, caller: Caller, wallet: Wallet, opts: dict) -> dict:
        steps, rules = self._steps_for(wallet)
        return await steps.send_max_info(self, caller, wallet, rules, opts)

    # ------------------------------------------------------------ create (docs/spec/api.md §6.9)
    async def _check_backoff(self, caller: Caller, wallet: Wallet) -> None:
        """docs/spec/api.md §6.22: TX_CANNOT_CREATE while the caller's last proposals are more
        than BACKOFF_OFFSET consecutive rejections and the newest is younger
        than BACKOFF_TIME."""
        txs = await self.storage.proposals.fetch_last(wallet.id, caller.copayer_id, limit=5 + C.BACKOFF_OFFSET)
        run = 0
        for t in txs:
            if t.get("status") != C.TXP_REJECTED:
                break
            run += 1
        if run - C.BACKOFF_OFFSET <= 0:
            return
        if self.now_s() - (txs[0].get("createdOn") or 0) > C.BACKOFF_TIME:
            return
        raise Errors.TX_CANNOT_CREATE

    async def create_tx(self, caller: Caller, opts: Optional[dict] = None) -> dict:
        """Create a temporary proposal (docs/spec/api.md §4.9, §6.9) -> TxProposal dict with
        status "temporary".

        opts (all wire names): ``outputs: [{toAddress, amount, message?,
        script?}]``, ``message``, ``feeLevel`` | ``feePerKb`` (sat/kB) |
        ``fee`` (sat, only with ``inputs``), ``inputs``, ``changeAddress``,
        ``sendMax``, ``payProUrl``, ``excludeUnconfirmedUtxos``,
        ``validateOutputs`` (false disables), ``dryRun``, ``txProposalId``
        (idempotency key: an existing proposal is returned unchanged),
        ``customData``, ``noShuffleOutputs``, ``utxosToExclude: ["txid:vout"]``.

        Errors in check order: WALLET_NOT_FOUND, WALLET_NOT_COMPLETE,
        WALLET_NEED_SCAN; BADREQUEST fee/sendMax/change/outputs messages of
        docs/spec/api.md §7.2, "Invalid inputs"; UNAVAILABLE_UTXOS (an input that is not an
        unlocked UTXO of the wallet); INVALID_ADDRESS, INCORRECT_ADDRESS_NETWORK, DUST_AMOUNT;
        TX_CANNOT_CREATE; INVALID_CHANGE_ADDRESS; selection errors
        (INSUFFICIENT_FUNDS, LOCKED_FUNDS, INSUFFICIENT_FUNDS_FOR_FEE,
        TX_MAX_SIZE_EXCEEDED); 500 for build failures and explorer errors.
        ``dryRun`` stores nothing; otherwise the proposal, a newly derived
        change address and the wallet's advanced change index are stored
        together (all or nothing)."""
        if not isinstance(opts, dict):
            opts = {}
        opts = dict(opts)

        async def create() -> dict:
            wallet, existing = await self._create_preamble(caller, opts)
            if existing is not None:
                return existing
            txp_id = opts.get("txProposalId")  # validated by the preamble
            steps, rules = self._steps_for(wallet)
            return await steps.create(self, caller, wallet, rules, opts, txp_id)

        return await self._run_locked(caller.wallet_id, create)

    async def create_tx_v3(self, caller: Caller, opts: Optional[dict] = None) -> dict:
        """``POST /v3/txproposals/`` (bwc 10.x/11.x): :meth:`create_tx` after
        the v3 options are checked (bws/services/proposals_v3.py
        ``check_create_v3``: a set option we do not implement -- enableRBF,
        replaceTxByFee, isTokenSwap, tokenAddress, ... -- is a 400 naming it;
        ``chain`` must be the wallet's) -> TxProposal dict (version 3, status
        temporary).  Errors: those of :meth:`create_tx`, WALLET_NOT_FOUND
        first."""
        opts = opts if isinstance(opts, dict) else {}
        wallet = await self._fetch_wallet(caller.wallet_id)
        proposals_v3.check_create_v3(opts, wallet.coin)
        return await self.create_tx(caller, proposals_v3.create_opts_v3(opts))

    async def get_tx_by_hash(self, caller: Caller, opts: dict) -> dict:
        """``GET /v1/txproposalsbyhash/:txid/``: the caller's wallet's
        proposal with that txid, decorated as :meth:`get_tx` (with its
        ``note``).  Scoped to the caller's wallet (upstream reads any
        wallet's, docs/spec/protocol-bwc11.md §9).  Errors: "Invalid txid",
        TX_NOT_FOUND."""
        txid = proposals_v3.check_txid(opts.get("txid"))
        docs = await self.storage.proposals.fetch_by_txids(caller.wallet_id, [txid])
        if not docs:
            raise Errors.TX_NOT_FOUND
        return await self.get_tx(caller, {"txProposalId": docs[0]["id"]})

    async def get_coins_for_tx(self, caller: Caller, opts: dict) -> dict:
        """``GET /v1/txcoins/?coin=&network=&txId=`` -> ``{inputs: [coin],
        outputs: [coin]}`` of any transaction the wallet's explorer knows
        (shape: bws/services/proposals_v3.py ``coins_for_tx``);
        ``{inputs: [], outputs: []}`` for EVM wallets, as upstream.  Errors:
        "Required argument txId missing.", "Invalid txid", "<coin|chain|network>
        ... does not match the wallet", TX_NOT_FOUND (unknown to the node),
        explorer errors."""
        wallet = await self._fetch_wallet(caller.wallet_id)
        txid = proposals_v3.txcoins_opts_check(opts, wallet.coin, wallet.network)
        steps, rules = self._steps_for(wallet)
        return await steps.coins_for_tx(self, wallet, rules, txid)

    # ------------------------------------------------------------ publish / sign / reject (docs/spec/api.md §6.10)
    async def publish_tx(self, caller: Caller, opts: dict) -> dict:
        """Publish a temporary proposal (docs/spec/api.md §4.10) -> TxProposal (status pending).

        opts: ``{txProposalId, proposalSignature}``: the signature of the
        unsigned raw tx hex by one of the *caller's* request keys.  Already
        published proposals come back unchanged.  Errors: "Required argument
        ... missing.", TX_NOT_FOUND, BADREQUEST "Invalid proposal signature",
        UNAVAILABLE_UTXOS (an input locked by another pending proposal or
        spent).  Emits NewTxProposal."""
        check_required(opts, ["txProposalId", "proposalSignature"])
        proposals_v3.check_number_format(opts.get("numberFormat"))

        async def publish() -> dict:
            wallet = await self._fetch_wallet(caller.wallet_id)
            txp = await self._fetch_txp(caller, opts["txProposalId"], wallet.id)
            self._require_v3(txp)
            steps, rules = self._steps_for(wallet)
            return await steps.publish(self, caller, wallet, rules, txp, opts)

        return await self._run_locked(caller.wallet_id, publish)

    async def sign_tx(self, caller: Caller, opts: dict) -> dict:
        """Accept a pending proposal with the caller's signatures (docs/spec/api.md §4.11).

        opts: ``{txProposalId, signatures: [DER hex, one per input]}`` ->
        TxProposal; once accepted it carries ``raw`` (fully signed hex) and
        ``txid``.  Errors: TX_NOT_FOUND, COPAYER_VOTED, TX_NOT_PENDING,
        BAD_SIGNATURES.  Emits TxProposalAcceptedBy and, on quorum,
        TxProposalFinallyAccepted."""
        check_required(opts, ["txProposalId", "signatures"])
        proposals_v3.check_number_format(opts.get("numberFormat"))

        async def sign() -> dict:
            wallet = await self._fetch_wallet(caller.wallet_id)
            txp = await self._fetch_txp(caller, opts["txProposalId"], wallet.id)
            self._require_v3(txp)
            self._check_can_sign(caller, txp)
            copayer = wallet.get_copayer(caller.copayer_id)
            if copayer is None:
                raise Errors.BAD_SIGNATURES
            steps, rules = self._steps_for(wallet)
            return await steps.sign(self, caller, wallet, rules, txp, copayer, opts["signatures"])

        return await self._run_locked(caller.wallet_id, sign)

    def _check_can_vote(self, caller: Caller, txp: TxProposal, *, accepted_ok: bool) -> None:
        """The one check before a vote: COPAYER_VOTED when the caller already
        acted on ``txp``; TX_NOT_PENDING when it no longer takes this vote.
        accepted_ok: an accepted proposal still takes it -- True for signing
        (an extra signature on an accepted m-of-n, upstream lib/server.js
        ``signTx``: ``!txp.isPending()``), False for rejecting (upstream
        ``rejectTx``: ``txp.status != 'pending'``; tests/integration/proposals/test_txp_flow.py Q24)."""
        if txp.get_action_by(caller.copayer_id) is not None:
            raise Errors.COPAYER_VOTED
        pending = txp.is_pending() if accepted_ok else txp.status == C.TXP_PENDING
        if not pending:
            raise Errors.TX_NOT_PENDING

    def _check_can_sign(self, caller: Caller, txp: TxProposal) -> None:
        """:meth:`_check_can_vote` for a signature (BTC and EVM signing)."""
        self._check_can_vote(caller, txp, accepted_ok=True)

    async def _accept_and_notify(self, caller: Caller, txp, copayer, sigs: list, finalize) -> dict:
        """Record the caller's (already verified) accept on ``txp``; on quorum set
        ``raw``/``txid`` from ``finalize(txp) -> (raw hex, txid)``; store; emit
        TxProposalAcceptedBy and, on quorum, TxProposalFinallyAccepted -> TxProposal."""
        txp.accept(caller.copayer_id, list(sigs), copayer.xpub_key, now=self.now_s())
        data = txp.notification_data(copayerId=caller.copayer_id)
        notes = [self._new_notification(caller, "TxProposalAcceptedBy", data)]
        if txp.status == C.TXP_ACCEPTED:
            txp.raw, txp.txid = finalize(txp)
            notes.append(self._new_notification(caller, "TxProposalFinallyAccepted", txp.notification_data()))
        await self._store_txp(txp, *notes)
        return await self._as_read(caller, txp)

    async def _as_read(self, caller: Caller, txp: TxProposal) -> dict:
        """A proposal the way the reference answers one it read from storage
        (its ``fetchTx`` decorates: creatorName, derivationStrategy,
        actions[].copayerName, raw when accepted; docs/spec/api.md §5.4)."""
        return decorate_txp(await self._wallet_facts(caller, complete=True), txp)

    async def reject_tx(self, caller: Caller, opts: dict) -> dict:
        """Reject a pending proposal (docs/spec/api.md §4.12).  opts: ``{txProposalId,
        reason?}`` (reason opaque, stored as the action's comment) ->
        TxProposal.  Errors: NOT_AUTHORIZED (the caller is not a copayer of
        the wallet), TX_NOT_FOUND, COPAYER_VOTED, TX_NOT_PENDING
        (accepted proposals can no longer be rejected).  Emits
        TxProposalRejectedBy and, on quorum, TxProposalFinallyRejected
        ``{..., rejectedBy: [copayerId]}``."""
        check_required(opts, ["txProposalId"])
        check_length(opts.get("reason"), C.MAX_MESSAGE_LENGTH, "reason")
        await self._check_copayer(caller)

        async def reject() -> dict:
            txp = await self._fetch_txp(caller, opts["txProposalId"])
            self._check_can_vote(caller, txp, accepted_ok=False)
            txp.reject(caller.copayer_id, opts.get("reason", UNDEFINED), now=self.now_s())
            data = txp.notification_data(copayerId=caller.copayer_id)
            notes = [self._new_notification(caller, "TxProposalRejectedBy", data)]
            if txp.status == C.TXP_REJECTED:
                notes.append(
                    self._new_notification(
                        caller, "TxProposalFinallyRejected", txp.notification_data(rejectedBy=txp.get_rejecters())
                    )
                )
            await self._store_txp(txp, *notes)
            return await self._as_read(caller, txp)

        return await self._run_locked(caller.wallet_id, reject)

    # ------------------------------------------------------------ remove (docs/spec/api.md §6.12)
    async def remove_pending_tx(self, caller: Caller, opts: dict) -> dict:
        """Delete a pending proposal (docs/spec/api.md §4.13) -> ``{"success": True}``.
        Errors: NOT_AUTHORIZED (not a copayer of the wallet), TX_NOT_FOUND,
        TX_NOT_PENDING (also for temporary ones), TX_CANNOT_REMOVE (delete
        lock, docs/spec/api.md §6.12).  Emits TxProposalRemoved."""
        check_required(opts, ["txProposalId"])
        await self._check_copayer(caller)

        async def remove() -> dict:
            txp = await self._fetch_txp(caller, opts["txProposalId"])
            if not txp.is_pending():
                raise Errors.TX_NOT_PENDING
            if txp.remaining_delete_lock_time(caller.copayer_id, self.now_s()) > 0:
                raise Errors.TX_CANNOT_REMOVE
            # the deletion and its notification land together (issue 15 finding 7)
            await self.notifier.commit(
                [self._new_notification(caller, "TxProposalRemoved", txp.notification_data())],
                lambda docs, renew_id: self.storage.proposals.remove_with_notifications(
                    caller.wallet_id, txp.id, docs, renew_id
                ),
            )
            return {"success": True}

        return await self._run_locked(caller.wallet_id, remove)

    # ------------------------------------------------------------ get one (docs/spec/api.md §4.14)
    async def get_tx(self, caller: Caller, opts: dict) -> dict:
        """One proposal decorated as in the pending list (creatorName,
        derivationStrategy, actions[].copayerName, raw when accepted), plus
        ``note`` (TxNote with editedByName) when it has a txid and a note
        exists.  Errors: TX_NOT_FOUND."""
        check_required(opts, ["txProposalId"])
        wallet = await self._fetch_wallet(caller.wallet_id)
        txp = await self._fetch_txp(caller, opts["txProposalId"], wallet.id)
        out = decorate_txp(WalletFacts.of(wallet), txp)
        if txp.txid:
            note = await self.storage.notes.fetch(wallet.id, txp.txid)
            if note:
                out["note"] = await self.notes.note_out(caller, note, wallet)
        return out

    # ------------------------------------------------------------ broadcast (docs/spec/api.md §6.11)
    async def broadcast_tx(self, caller: Caller, opts: dict) -> dict:
        """Broadcast an accepted proposal (docs/spec/api.md §4.15) -> TxProposal (status
        broadcasted, ``broadcastedOn`` unix s).

        If the explorer refuses the tx but already knows its txid, the
        proposal is marked broadcast by a third party.  Errors: TX_NOT_FOUND,
        TX_ALREADY_BROADCASTED, TX_NOT_ACCEPTED, the explorer's error (500
        ``{"error": <node message>}``; status stays accepted)."""
        check_required(opts, ["txProposalId"])

        async def broadcast() -> dict:
            wallet = await self._fetch_wallet(caller.wallet_id)
            txp = await self._fetch_txp(caller, opts["txProposalId"], wallet.id)
            self._require_v3(txp)
            if txp.is_broadcasted():
                raise Errors.TX_ALREADY_BROADCASTED
            if txp.status != C.TXP_ACCEPTED:
                raise Errors.TX_NOT_ACCEPTED
            steps, rules = self._steps_for(wallet)
            return await steps.broadcast(self, caller, wallet, rules, txp)

        return await self._run_locked(caller.wallet_id, broadcast)

    # ------------------------------------------------------------ pending (docs/spec/api.md §4.8, §6.11, Q7)
    async def get_pending_txs(self, caller: Caller, opts: Optional[dict] = None) -> list[dict]:
        """Pending and accepted proposals, newest first (docs/spec/api.md §4.8),
        each decorated with ``creatorName``, ``derivationStrategy``,
        ``actions[].copayerName`` and ``deleteLockTime`` (int s).  Accepted
        proposals whose txid the explorer knows were broadcast by someone else
        (or by us, answer lost): they are marked (the one rule,
        :meth:`bws.services.broadcasts.BroadcastMarks.mark_seen_on_chain`: under
        the wallet lock, once) and left out.  Explorer errors keep the
        proposal listed (Q7).  opts: ``{numberFormat?}`` (``GET
        /v2/txproposals/``: only ``number``, bws/services/proposals_v3.py)."""
        proposals_v3.check_number_format((opts or {}).get("numberFormat"))
        docs = await self.storage.proposals.fetch_pending(caller.wallet_id)
        txps = [TxProposal.from_dict(d) for d in docs]
        on_chain = await self._accepted_on_chain(txps)
        for t in on_chain:
            await self.broadcasts.mark_seen_on_chain(t, creator_id=caller.copayer_id)
        gone = {t.id for t in on_chain}
        txps = [t for t in txps if t.id not in gone]
        if not txps:  # nothing to decorate: spare the wallet read (most polls)
            return []
        facts = await self._wallet_facts(caller, complete=True)
        out = []
        for t in txps:
            d = decorate_txp(facts, t)
            d["deleteLockTime"] = t.remaining_delete_lock_time(caller.copayer_id, self.now_s())
            out.append(d)
        return out


__all__ = ["ProposalSteps", "Proposals"]
