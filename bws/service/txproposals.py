"""Transaction proposals: create, publish, sign, reject, remove, get,
broadcast; raw broadcast; send-max info; the pending list's blockchain check
(spec api.md §4.8–§4.15, §4.19, §4.21, §5.4, §6.7–§6.13, §6.22, §10 Q7/Q10/Q11/Q19).

Shapes: a proposal on the wire is ``TxProposal.to_dict()`` (§5.4); amounts and
fees are int satoshis, ``feePerKb`` sat/kB, times unix seconds.

Lifecycle::

    create_tx  -> status "temporary" (nothing locked, not listed as pending)
    publish_tx -> "pending"   (NewTxProposal)
    sign_tx    -> "accepted" once requiredSignatures accepts (raw + txid set)
    reject_tx  -> "rejected" once requiredRejections rejects
    broadcast_tx -> "broadcasted" (NewOutgoingTx / NewOutgoingTxByThirdParty)

Every write runs under the wallet lock (sign/reject/broadcast too, Q19).
BTC/BCH only: ETH/TRY proposals (§9) are not implemented here and answer
500 "Unsupported operation for this coin".
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Optional

from bws.chains.address import validate_output_address
from bws.chains.selection import select_tx_inputs, send_max_info
from bws.chains.txbuild import is_raw_tx, signed_raw, unsigned_raw, verify_input_signatures
from bws.crypto import verify_message
from bws.errors import BWSError, ClientError, Errors, ServerError, bad_request
from bws.jsnum import is_number
from bws.model import UNDEFINED, LEGACY_UNSUPPORTED_MESSAGE, Notification, TxProposal, Wallet
from bws.model import constants as C

from .addresses import address_out, derive_wallet_address
from .base import ServiceBase, check_length, check_required, is_int, truthy
from .lookups import WalletFacts
from .feelevels import fee_level_names, invalid_fee_level_error

log = logging.getLogger(__name__)

_UNSUPPORTED_COIN = "Unsupported operation for this coin"


def _is_num(v: Any) -> bool:
    return is_number(v)


def _validate_outputs(wallet: Wallet, outputs: Any) -> None:
    """validateOutputs (§6.9): BADREQUEST "No outputs were specified",
    "Argument missing in output #<n>.", "Invalid amount", "Invalid script";
    INVALID_ADDRESS, INCORRECT_ADDRESS_NETWORK, DUST_AMOUNT."""
    if not isinstance(outputs, list) or not outputs:
        raise bad_request("No outputs were specified")
    for i, o in enumerate(outputs):
        if not isinstance(o, dict) or "toAddress" not in o or "amount" not in o:
            raise bad_request(f"Argument missing in output #{i + 1}.")
        if not isinstance(o["toAddress"], str):
            raise Errors.INVALID_ADDRESS
        validate_output_address(o["toAddress"], wallet.coin, wallet.network)
        _check_script(o)
        amount = o["amount"]
        # reference: not a number, NaN or <= 0; non-integers would only fail later in bitcore
        if not _is_num(amount) or amount <= 0 or not is_int(amount):
            raise bad_request("Invalid amount")
        if amount < max(C.MIN_OUTPUT_AMOUNT, C.DUST_AMOUNT):
            raise Errors.DUST_AMOUNT


def _check_output_shapes(outputs: Any) -> None:
    """Minimal shape check kept even with ``validateOutputs: false`` so a
    malformed body is a 400, never a 500."""
    if not isinstance(outputs, list) or not outputs:
        raise bad_request("No outputs were specified")
    for i, o in enumerate(outputs):
        if not isinstance(o, dict):
            raise bad_request(f"Argument missing in output #{i + 1}.")
        amount = o.get("amount")
        if not is_int(amount) or amount < 0:
            raise bad_request("Invalid amount")
        if not isinstance(o.get("toAddress"), str) and not isinstance(o.get("script"), str):
            raise bad_request(f"Argument missing in output #{i + 1}.")
        _check_script(o)


def _check_script(output: dict) -> None:
    """BADREQUEST "Invalid script" unless an output's ``script`` is absent,
    falsy (the build then pays ``toAddress``, as bitcore's ``if (o.script)``)
    or hex text.  Anything else reached ``bytes.fromhex`` in the build (a 500
    in the reference too: bitcore's Output refuses a non-string script)."""
    script = output.get("script")
    if not script:
        return
    try:
        bytes.fromhex(script)
    except (TypeError, ValueError):
        raise bad_request("Invalid script") from None


def _wallet_inputs(inputs: list[dict], utxos: list[dict]) -> list[dict]:
    """The wallet's own records of caller-supplied inputs, in the caller's
    order: UNAVAILABLE_UTXOS when one is not an unlocked UTXO of the wallet
    (made up, spent, or locked by a pending proposal).

    The reference takes ``inputs`` on trust ("todo: check inputs are ours",
    server.js _selectTxInputs): made-up ones failed later inside bitcore (a
    500) or only at publish (UNAVAILABLE_UTXOS).  The records come from the
    explorer, so the proposal's amounts, paths and keys are the chain's."""
    mine = {f"{u['txid']}|{u['vout']}": u for u in utxos if not u.get("locked")}
    out = []
    for i in inputs:
        u = mine.get(f"{i['txid'].lower()}|{i['vout']}")
        if u is None:
            raise Errors.UNAVAILABLE_UTXOS
        out.append(dict(u))
    return out


def _check_inputs(inputs: Any) -> list[dict]:
    """Caller-supplied ``inputs`` (as returned by utxos / sendmaxinfo):
    BADREQUEST "Invalid inputs" unless each has txid (hex 64), vout, satoshis
    (ints) and, when present, a string path and a list of hex publicKeys."""
    if inputs is None or inputs is UNDEFINED:
        return []
    if not isinstance(inputs, list):
        raise bad_request("Invalid inputs")
    for i in inputs:
        ok = (
            isinstance(i, dict)
            and isinstance(i.get("txid"), str)
            and len(i["txid"]) == 64
            and is_int(i.get("vout"))
            and i["vout"] >= 0
            and is_int(i.get("satoshis"))
            and i["satoshis"] > 0
            and isinstance(i.get("path", ""), str)
            and isinstance(i.get("publicKeys", []), list)
            and all(isinstance(k, str) for k in i.get("publicKeys", []))
        )
        if ok:
            try:
                bytes.fromhex(i["txid"])
                for k in i.get("publicKeys", []):
                    bytes.fromhex(k)
                if i.get("scriptPubKey") is not None:
                    bytes.fromhex(i["scriptPubKey"])
            except (ValueError, TypeError):
                ok = False
        if not ok:
            raise bad_request("Invalid inputs")
    return inputs


class TxProposalsMixin(ServiceBase):
    """createTx, publishTx, signTx, rejectTx, removePendingTx, getTx,
    broadcastTx, broadcastRawTx, getSendMaxInfo, and the pending-list check."""

    # ------------------------------------------------------------ helpers
    async def _fetch_txp(self, txp_id: Any, wallet_id: Optional[str] = None) -> TxProposal:
        """The proposal or TX_NOT_FOUND."""
        if not isinstance(txp_id, str) or not txp_id:
            raise Errors.TX_NOT_FOUND
        doc = await self.storage.proposals.fetch(wallet_id or self.wallet_id, txp_id)
        if not doc:
            raise Errors.TX_NOT_FOUND
        return TxProposal.from_dict(doc)

    async def _create_preamble(self, opts: dict) -> tuple[Wallet, Optional[dict]]:
        """Checks shared by every coin's createTx (§6.9): the wallet, complete and not
        needing a scan, and the proposal already stored under a client-chosen
        ``txProposalId`` (idempotency) or None. Errors: WALLET_NOT_FOUND,
        WALLET_NOT_COMPLETE, WALLET_NEED_SCAN, "Invalid txProposalId",
        "Invalid message|payProUrl|customData: longer than N characters"."""
        wallet = await self._fetch_wallet()
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
                return wallet, self.decorate_txp(WalletFacts.of(wallet), TxProposal.from_dict(existing))
        return wallet, None

    async def _store_txp(self, txp: TxProposal, *notes: Notification, expect: Optional[dict] = None) -> bool:
        """Store ``txp`` and the notifications announcing its new state together
        (one transaction: :meth:`bws.service.notifier.Notifier.notify_with_tx`),
        then publish them. ``expect``: conditions the stored proposal must still
        meet (e.g. ``{"status": "accepted"}``); False when it no longer did:
        someone else made the change first, nothing was stored or published."""
        stored = await self.notifier.notify_with_tx(txp.to_dict(for_storage=True), notes, expect=expect)
        return stored is not None

    @staticmethod
    def _require_v3(txp: Any) -> None:
        if txp.is_legacy():
            raise ServerError(LEGACY_UNSUPPORTED_MESSAGE)
        if txp.coin in C.EVM_COINS:
            raise ServerError(_UNSUPPORTED_COIN)

    # ------------------------------------------------------------ send max (§6.13)
    def _validate_fee_choice(self, wallet: Wallet, opts: dict, allow_fee: bool) -> dict:
        """The fee-argument rules shared by createTx and getSendMaxInfo; returns
        opts with ``feeLevel`` defaulted to "normal" when nothing was given."""
        opts = dict(opts)
        n_args = int(truthy(opts.get("feeLevel"))) + int(_is_num(opts.get("feePerKb")))
        if allow_fee:
            n_args += int(_is_num(opts.get("fee")))
            if n_args > 1:
                raise bad_request("Only one of feeLevel/feePerKb/fee can be specified")
        elif n_args > 1:
            raise bad_request("Only one of feeLevel/feePerKb can be specified")
        if n_args == 0:
            opts["feeLevel"] = C.DEFAULT_FEE_LEVEL
        if truthy(opts.get("feeLevel")) and opts["feeLevel"] not in fee_level_names(wallet.coin):
            raise invalid_fee_level_error(wallet.coin)
        if _is_num(opts.get("feePerKb")) and not (C.MIN_FEE_PER_KB <= opts["feePerKb"] <= C.MAX_FEE_PER_KB):
            raise bad_request("Invalid fee per KB")
        return opts

    async def get_send_max_info(self, opts: Optional[dict] = None) -> dict:
        """``GET /v1/sendmaxinfo/`` (§4.19, §6.13).

        opts: ``{feeLevel?: str, feePerKb?: number (sat/kB),
        excludeUnconfirmedUtxos?: bool, returnInputs?: bool}`` ->
        ``{size (bytes), amount, fee, feePerKb, inputs: [utxo], utxosBelowFee,
        amountBelowFee, utxosAboveMaxSize, amountAboveMaxSize}`` (satoshis).
        Errors: "Only one of feeLevel/feePerKb can be specified", "Invalid fee
        level...", "Invalid fee per KB", WALLET_NEED_SCAN, explorer errors."""
        wallet = await self._fetch_wallet()
        return await self._send_max_info(wallet, opts or {})

    async def _send_max_info(self, wallet: Wallet, opts: dict) -> dict:
        if wallet.coin in C.EVM_COINS:
            raise ServerError(_UNSUPPORTED_COIN)
        opts = self._validate_fee_choice(wallet, opts, allow_fee=False)
        fee_per_kb = await self._get_fee_per_kb(wallet, opts)
        utxos = await self.get_wallet_utxos({}, wallet=wallet)
        return send_max_info(
            utxos,
            fee_per_kb,
            m=wallet.m,
            n=wallet.n,
            address_type=wallet.address_type,
            exclude_unconfirmed=truthy(opts.get("excludeUnconfirmedUtxos")),
            return_inputs=truthy(opts.get("returnInputs")),
        )

    # ------------------------------------------------------------ create (§6.9)
    async def _check_backoff(self, wallet: Wallet) -> None:
        """§6.22: TX_CANNOT_CREATE while the caller's last proposals are more
        than BACKOFF_OFFSET consecutive rejections and the newest is younger
        than BACKOFF_TIME."""
        txs = await self.storage.proposals.fetch_last(wallet.id, self.copayer_id, limit=5 + C.BACKOFF_OFFSET)
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

    async def _change_address_for(self, wallet: Wallet, opts: dict) -> tuple[Any, Any]:
        """(change Address dict or UNDEFINED, newly derived Address or None).
        A derived address advances ``wallet``'s change index in memory only."""
        if truthy(opts.get("sendMax")) or wallet.coin in C.EVM_COINS:
            return UNDEFINED, None
        if wallet.single_address:
            addresses = await self.storage.addresses.fetch(wallet.id)
            if not addresses:
                raise bad_request("The wallet has no addresses")
            return address_out(addresses[0]), None
        given = opts.get("changeAddress")
        if given is not None and given is not UNDEFINED:
            doc = await self.storage.addresses.fetch_one(wallet.id, given) if isinstance(given, str) else None
            if not doc:
                raise Errors.INVALID_CHANGE_ADDRESS
            return address_out(doc), None  # Q10: reused as is, never re-inserted
        new = derive_wallet_address(wallet, True, now=self.now_s())
        return address_out(new.to_dict()), new

    async def create_tx(self, opts: Optional[dict] = None) -> dict:
        """Create a temporary proposal (§4.9, §6.9) -> TxProposal dict with
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
        §7.2, "Invalid inputs"; UNAVAILABLE_UTXOS (an input that is not an
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
            wallet, existing = await self._create_preamble(opts)
            if wallet.coin in C.EVM_COINS:
                raise ServerError(_UNSUPPORTED_COIN)
            if existing is not None:
                return existing
            txp_id = opts.get("txProposalId")  # validated by the preamble

            o = self._validate_fee_choice(wallet, opts, allow_fee=True)
            inputs = _check_inputs(o.get("inputs"))
            if _is_num(o.get("fee")):
                if not inputs:
                    raise bad_request("fee can only be set when inputs are specified")
                if not is_int(o["fee"]) or o["fee"] < C.MIN_TX_FEE:
                    raise bad_request("Invalid fee")
            if inputs:
                inputs = _wallet_inputs(inputs, await self.get_wallet_utxos({}, wallet=wallet))
            if wallet.single_address and o.get("changeAddress"):
                raise bad_request("Cannot specify change address on single-address wallet")
            outputs = o.get("outputs")
            if truthy(o.get("sendMax")):
                if not isinstance(outputs, list) or len(outputs) > 1:
                    raise bad_request("Only one output allowed when sendMax is specified")
                if not outputs or not isinstance(outputs[0], dict):
                    raise bad_request("No outputs were specified")
                if _is_num(outputs[0].get("amount")):
                    raise bad_request("Amount is not allowed when sendMax is specified")
                if _is_num(o.get("fee")):
                    raise bad_request("Fee is not allowed when sendMax is specified (use feeLevel/feePerKb instead)")
                info = await self._send_max_info(
                    wallet,
                    {  # Q11: the requested level, not "normal"
                        "feePerKb": o.get("feePerKb"),
                        "feeLevel": o.get("feeLevel") if not _is_num(o.get("feePerKb")) else None,
                        "excludeUnconfirmedUtxos": o.get("excludeUnconfirmedUtxos"),
                        "returnInputs": True,
                    },
                )
                outputs = [dict(outputs[0], amount=info["amount"])]
                inputs = info["inputs"]
            if o.get("validateOutputs") is not False:
                _validate_outputs(wallet, outputs)
            _check_output_shapes(outputs)
            excluded = o.get("utxosToExclude") or []
            if not isinstance(excluded, list) or not all(isinstance(x, str) for x in excluded):
                raise bad_request("Invalid utxosToExclude")

            await self._check_backoff(wallet)

            change, new_change = await self._change_address_for(wallet, o)
            fee_given = _is_num(o.get("fee")) and bool(inputs)
            fee_per_kb = UNDEFINED if fee_given else await self._get_fee_per_kb(wallet, o)

            txp = TxProposal.create(
                wallet.id,
                wallet.coin,
                wallet.network,
                wallet.m,
                wallet.n,
                outputs=outputs,
                creatorId=self.copayer_id,
                id=txp_id if isinstance(txp_id, str) and txp_id else None,
                message=o.get("message", UNDEFINED),
                payProUrl=o.get("payProUrl", UNDEFINED),
                changeAddress=change,
                feeLevel=o["feeLevel"] if truthy(o.get("feeLevel")) and not fee_given else UNDEFINED,
                feePerKb=fee_per_kb,
                excludeUnconfirmedUtxos=truthy(o.get("excludeUnconfirmedUtxos")),
                addressType=wallet.address_type,
                customData=o.get("customData", UNDEFINED),
                inputs=copy.deepcopy(inputs),
                fee=o["fee"] if fee_given else None,
                noShuffleOutputs=truthy(o.get("noShuffleOutputs")),
                now=self.now_s(),
            )
            utxos = [] if inputs else await self.get_wallet_utxos({}, wallet=wallet)
            select_tx_inputs(txp, utxos, excluded)

            if not truthy(o.get("dryRun")):
                if new_change is not None:
                    await self._register_addresses(wallet, [new_change])
                await self.storage.proposals.store_with_addresses_and_wallet(
                    txp.to_dict(for_storage=True),
                    wallet.to_dict(for_storage=True) if new_change is not None else None,
                    [new_change.to_dict()] if new_change is not None else [],
                )
            return txp.to_dict()

        return await self._run_locked(create)

    # ------------------------------------------------------------ publish / sign / reject (§6.10)
    async def publish_tx(self, opts: dict) -> dict:
        """Publish a temporary proposal (§4.10) -> TxProposal (status pending).

        opts: ``{txProposalId, proposalSignature}``: the signature of the
        unsigned raw tx hex by one of the *caller's* request keys.  Already
        published proposals come back unchanged.  Errors: "Required argument
        ... missing.", TX_NOT_FOUND, BADREQUEST "Invalid proposal signature",
        UNAVAILABLE_UTXOS (an input locked by another pending proposal or
        spent).  Emits NewTxProposal."""
        check_required(opts, ["txProposalId", "proposalSignature"])

        async def publish() -> dict:
            wallet = await self._fetch_wallet()
            txp = await self._fetch_txp(opts["txProposalId"], wallet.id)
            self._require_v3(txp)
            if not txp.is_temporary():
                return self.decorate_txp(WalletFacts.of(wallet), txp)
            raw = unsigned_raw(txp)
            sig = opts["proposalSignature"]
            copayer = wallet.get_copayer(self.copayer_id)
            keys = copayer.get_request_pub_keys() if copayer else []
            key = next((k for k in keys if isinstance(sig, str) and verify_message(raw, sig, k.get("key"))), None)
            if key is None:
                raise bad_request("Invalid proposal signature")
            txp.proposal_signature = sig
            if key.get("selfSigned"):
                txp.proposal_signature_pub_key = key.get("key")
                txp.proposal_signature_pub_key_sig = key.get("signature")

            seen: dict[str, dict] = {}
            for i in txp.inputs or []:
                seen.setdefault(i.get("address"), {"address": i.get("address"), "path": i.get("path"),
                                                   "publicKeys": i.get("publicKeys")})
            fresh = await self.get_wallet_utxos({"addresses": list(seen.values())}, wallet=wallet)
            available = {f"{u['txid']}|{u['vout']}" for u in fresh if not u.get("locked")}
            if any(f"{i.get('txid')}|{i.get('vout')}" not in available for i in txp.inputs or []):
                raise Errors.UNAVAILABLE_UTXOS
            txp.status = C.TXP_PENDING
            await self._store_txp(txp, self._new_notification("NewTxProposal", txp.notification_data()))
            return self.decorate_txp(WalletFacts.of(wallet), txp)

        return await self._run_locked(publish)

    async def sign_tx(self, opts: dict) -> dict:
        """Accept a pending proposal with the caller's signatures (§4.11).

        opts: ``{txProposalId, signatures: [DER hex, one per input]}`` ->
        TxProposal; once accepted it carries ``raw`` (fully signed hex) and
        ``txid``.  Errors: TX_NOT_FOUND, COPAYER_VOTED, TX_NOT_PENDING,
        BAD_SIGNATURES.  Emits TxProposalAcceptedBy and, on quorum,
        TxProposalFinallyAccepted."""
        check_required(opts, ["txProposalId", "signatures"])

        async def sign() -> dict:
            wallet = await self._fetch_wallet()
            txp = await self._fetch_txp(opts["txProposalId"], wallet.id)
            self._require_v3(txp)
            self._check_can_sign(txp)
            copayer = wallet.get_copayer(self.copayer_id)
            sigs = opts["signatures"]
            if copayer is None or not isinstance(sigs, list):
                raise Errors.BAD_SIGNATURES
            # BAD_SIGNATURES unless valid; the verified build carries every
            # signature, so on quorum it is the final transaction (built once)
            built = verify_input_signatures(txp, copayer.xpub_key, sigs)
            return await self._accept_and_notify(txp, copayer, sigs, lambda _t: (built.raw, built.txid))

        return await self._run_locked(sign)

    def _check_can_sign(self, txp: TxProposal) -> None:
        """COPAYER_VOTED when the caller already acted on ``txp``; TX_NOT_PENDING
        when it no longer takes signatures (BTC and EVM signing)."""
        if txp.get_action_by(self.copayer_id) is not None:
            raise Errors.COPAYER_VOTED
        if not txp.is_pending():
            raise Errors.TX_NOT_PENDING

    async def _accept_and_notify(self, txp, copayer, sigs: list, finalize) -> dict:
        """Record the caller's (already verified) accept on ``txp``; on quorum set
        ``raw``/``txid`` from ``finalize(txp) -> (raw hex, txid)``; store; emit
        TxProposalAcceptedBy and, on quorum, TxProposalFinallyAccepted -> TxProposal."""
        txp.accept(self.copayer_id, list(sigs), copayer.xpub_key, now=self.now_s())
        notes = [self._new_notification("TxProposalAcceptedBy", txp.notification_data(copayerId=self.copayer_id))]
        if txp.status == C.TXP_ACCEPTED:
            txp.raw, txp.txid = finalize(txp)
            notes.append(self._new_notification("TxProposalFinallyAccepted", txp.notification_data()))
        await self._store_txp(txp, *notes)
        return await self._as_read(txp)

    async def _as_read(self, txp: TxProposal) -> dict:
        """A proposal the way the reference answers one it read from storage
        (its ``fetchTx`` decorates: creatorName, derivationStrategy,
        actions[].copayerName, raw when accepted; §5.4)."""
        return self.decorate_txp(await self._wallet_facts(complete=True), txp)

    async def reject_tx(self, opts: dict) -> dict:
        """Reject a pending proposal (§4.12).  opts: ``{txProposalId,
        reason?}`` (reason opaque, stored as the action's comment) ->
        TxProposal.  Errors: NOT_AUTHORIZED (the caller is not a copayer of
        the wallet), TX_NOT_FOUND, COPAYER_VOTED, TX_NOT_PENDING
        (accepted proposals can no longer be rejected).  Emits
        TxProposalRejectedBy and, on quorum, TxProposalFinallyRejected
        ``{..., rejectedBy: [copayerId]}``."""
        check_required(opts, ["txProposalId"])
        check_length(opts.get("reason"), C.MAX_MESSAGE_LENGTH, "reason")
        await self._check_copayer()

        async def reject() -> dict:
            txp = await self._fetch_txp(opts["txProposalId"])
            if txp.get_action_by(self.copayer_id) is not None:
                raise Errors.COPAYER_VOTED
            if txp.status != C.TXP_PENDING:
                raise Errors.TX_NOT_PENDING
            txp.reject(self.copayer_id, opts.get("reason", UNDEFINED), now=self.now_s())
            notes = [self._new_notification("TxProposalRejectedBy", txp.notification_data(copayerId=self.copayer_id))]
            if txp.status == C.TXP_REJECTED:
                notes.append(
                    self._new_notification("TxProposalFinallyRejected", txp.notification_data(rejectedBy=txp.get_rejecters()))
                )
            await self._store_txp(txp, *notes)
            return await self._as_read(txp)

        return await self._run_locked(reject)

    # ------------------------------------------------------------ remove (§6.12)
    async def remove_pending_tx(self, opts: dict) -> dict:
        """Delete a pending proposal (§4.13) -> ``{"success": True}``.
        Errors: NOT_AUTHORIZED (not a copayer of the wallet), TX_NOT_FOUND,
        TX_NOT_PENDING (also for temporary ones), TX_CANNOT_REMOVE (delete
        lock, §6.12).  Emits TxProposalRemoved."""
        check_required(opts, ["txProposalId"])
        await self._check_copayer()

        async def remove() -> dict:
            txp = await self._fetch_txp(opts["txProposalId"])
            if not txp.is_pending():
                raise Errors.TX_NOT_PENDING
            if txp.remaining_delete_lock_time(self.copayer_id, self.now_s()) > 0:
                raise Errors.TX_CANNOT_REMOVE
            # the deletion and its notification land together (issue 15 finding 7)
            await self.notifier.commit(
                [self._new_notification("TxProposalRemoved", txp.notification_data())],
                lambda docs, renew_id: self.storage.proposals.remove_with_notifications(self.wallet_id, txp.id, docs, renew_id),
            )
            return {"success": True}

        return await self._run_locked(remove)

    # ------------------------------------------------------------ get one (§4.14)
    async def get_tx(self, opts: dict) -> dict:
        """One proposal decorated as in the pending list (creatorName,
        derivationStrategy, actions[].copayerName, raw when accepted), plus
        ``note`` (TxNote with editedByName) when it has a txid and a note
        exists.  Errors: TX_NOT_FOUND."""
        check_required(opts, ["txProposalId"])
        wallet = await self._fetch_wallet()
        txp = await self._fetch_txp(opts["txProposalId"], wallet.id)
        out = self.decorate_txp(WalletFacts.of(wallet), txp)
        if txp.txid:
            note = await self.storage.notes.fetch(wallet.id, txp.txid)
            if note:
                out["note"] = await self._note_out(note, wallet)
        return out

    # ------------------------------------------------------------ broadcast (§6.11)
    async def _process_broadcast(self, txp: TxProposal, by_third_party: bool) -> bool:
        """Mark ``txp`` broadcast and store it with its NewOutgoingTx(ByThirdParty)
        notification ``{txProposalId, creatorId, amount, message, txid}``
        (together, issue 10), publish, soft-reset the wallet's history cache.

        Idempotent: the mark only lands on a proposal still stored as
        accepted, so of several processes marking the same proposal (API
        requests, block monitors) exactly one stores and announces it.
        Returns False when someone else had already marked it."""
        txp.set_broadcasted(self.now_s())
        kind = "NewOutgoingTxByThirdParty" if by_third_party else "NewOutgoingTx"
        n = self._new_notification(kind, txp.notification_data(txid=txp.txid), wallet_id=txp.wallet_id)
        if not await self._store_txp(txp, n, expect={"status": C.TXP_ACCEPTED}):
            log.info("proposal %s was already marked broadcast", txp.id)
            return False
        try:
            await self.storage.cache.soft_reset(txp.wallet_id)
        except Exception as e:  # a stale history cache is refreshed by the next block
            log.warning("history cache reset for %s failed: %r", txp.wallet_id, e)
        return True

    async def broadcast_tx(self, opts: dict) -> dict:
        """Broadcast an accepted proposal (§4.15) -> TxProposal (status
        broadcasted, ``broadcastedOn`` unix s).

        If the explorer refuses the tx but already knows its txid, the
        proposal is marked broadcast by a third party.  Errors: TX_NOT_FOUND,
        TX_ALREADY_BROADCASTED, TX_NOT_ACCEPTED, the explorer's error (500
        ``{"error": <node message>}``; status stays accepted)."""
        check_required(opts, ["txProposalId"])

        async def broadcast() -> dict:
            wallet = await self._fetch_wallet()
            txp = await self._fetch_txp(opts["txProposalId"], wallet.id)
            self._require_v3(txp)
            if txp.is_broadcasted():
                raise Errors.TX_ALREADY_BROADCASTED
            if txp.status != C.TXP_ACCEPTED:
                raise Errors.TX_NOT_ACCEPTED
            raw = txp.raw or signed_raw(txp)
            try:
                txid = await self._explorer_call(wallet.coin, wallet.network, "broadcast", raw)
            except BWSError as err:
                if not txp.txid:
                    raise
                found = await self._explorer_call(wallet.coin, wallet.network, "get_transaction", txp.txid)
                if not found:
                    raise err
                await self._process_broadcast(txp, by_third_party=True)
                return self.decorate_txp(WalletFacts.of(wallet), txp)
            if not txp.txid and isinstance(txid, str):
                txp.txid = txid
            await self._process_broadcast(txp, by_third_party=False)
            return self.decorate_txp(WalletFacts.of(wallet), txp)

        return await self._run_locked(broadcast)

    async def broadcast_raw_tx(self, opts: dict) -> str:
        """``POST /v1/broadcast_raw/`` (§4.21): push any signed raw tx.
        opts: ``{network (key required), rawTx, coin?: "btc"}`` -> txid
        string.  Errors: "Required argument ...", "Invalid coin", "Invalid
        network", "Invalid rawTx" (btc/bch: not the hex of a transaction
        with inputs and outputs), 500 with the node's verdict on a
        well-formed transaction (e.g. "bad-txns-inputs-missingorspent")."""
        check_required(opts, ["network", "rawTx"])
        coin = opts.get("coin") or C.DEFAULT_COIN
        if coin not in C.COINS:
            raise bad_request("Invalid coin")
        network = opts.get("network")
        if network not in C.NETWORKS:
            raise bad_request("Invalid network")
        raw = opts.get("rawTx")
        if not isinstance(raw, str) or not raw or (coin in C.UTXO_COINS and not is_raw_tx(raw)):
            # the node's "TX decode failed" came back as a 500
            raise bad_request("Invalid rawTx")
        return await self._explorer_call(coin, network, "broadcast", raw)

    # ------------------------------------------------------------ pending check (§6.11, Q7)
    async def _check_pending_broadcasts(self, txps: list, *, take_lock: bool = True) -> list:
        """Accepted proposals whose txid the explorer knows were broadcast by
        someone else: mark them (NewOutgoingTxByThirdParty, see
        :meth:`_mark_broadcast_by_third_party`) and drop them.  Explorer
        errors are logged and the proposal kept (Q7)."""
        out = []
        for t in txps:
            if (
                not t.is_legacy()
                and t.status == C.TXP_ACCEPTED
                and t.txid
                and t.coin in C.UTXO_COINS
            ):
                try:
                    found = await self._explorer_call(t.coin, t.network, "get_transaction", t.txid)
                except Exception as e:  # noqa: BLE001 - Q7: never fail the listing
                    log.warning("pending check of %s (%s) failed: %r", t.id, t.txid, e)
                    found = None
                if found:
                    await self._mark_broadcast_by_third_party(t, take_lock=take_lock)
                    continue
            out.append(t)
        return out

    async def _mark_broadcast_by_third_party(self, txp: TxProposal, *, take_lock: bool) -> None:
        """Mark ``txp``, found on chain, broadcast by a third party, once
        (issue 15 finding 8): under the wallet lock, re-read, and only if still
        accepted; the store itself is conditional too (:meth:`_process_broadcast`),
        which keeps block monitors (no wallet lock) and callers that pass
        ``take_lock=False`` (those that may already hold the lock: the
        wallet's UTXOs are read inside createTx, publish and the balance,
        and the lock is not reentrant) from announcing it twice.

        The explorer was asked outside the lock, so the lock is held only for
        the re-read and the write. WALLET_BUSY is logged, not raised: the
        proposal is on chain either way and the next listing marks it."""

        async def mark() -> None:
            doc = await self.storage.proposals.fetch(txp.wallet_id, txp.id)
            if doc and doc.get("status") == C.TXP_ACCEPTED:
                await self._process_broadcast(TxProposal.from_dict(doc), by_third_party=True)

        if not take_lock:
            await mark()
            return
        try:
            await self._run_locked(mark, txp.wallet_id)
        except ClientError as e:
            if e.code != "WALLET_BUSY":
                raise
            log.warning("proposal %s (%s) is on chain; wallet busy, marking it on the next listing", txp.id, txp.txid)


__all__ = ["TxProposalsMixin"]
