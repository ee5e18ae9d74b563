"""TxProposal (version 3) and TxProposalAction (docs/spec/api.md §5.4, §6.10-6.12).

Wire / storage shape of a v3 proposal (``UNDEFINED`` fields omitted)::

    {"version": 3, "createdOn": int s, "id": str, "walletId", "creatorId", "coin", "network",
     "message": opaque, "payProUrl", "changeAddress": Address dict | absent,
     "outputs": [{"amount": int, "toAddress"?, "message"?, "script"?}],
     "outputOrder": [int] (permutation of 0..len(outputs)),
     "walletM", "walletN", "requiredSignatures", "requiredRejections": int,
     "status": "temporary"|"pending"|"accepted"|"rejected"|"broadcasted",
     "actions": [TxProposalAction], "feeLevel"?, "feePerKb": int, "excludeUnconfirmedUtxos": bool,
     "addressType": "P2SH"|"P2PKH", "customData"?, "amount": int (sum of outputs),
     "inputs": [utxo dict], "inputPaths": [str], "fee": int,
     "proposalSignature"?, "proposalSignaturePubKey"?, "proposalSignaturePubKeySig"?,
     "txid"?, "raw"?, "broadcastedOn": int s?}

Stored copies (``to_dict(for_storage=True)``) add ``isPending``.  Read-time
decorations (creatorName, derivationStrategy, actions[].copayerName,
deleteLockTime, note) are the service's business: add them to the API dict.

Documents with ``version < 3`` load as :class:`TxProposalLegacy` (readable,
cannot be signed or broadcast).
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from . import constants as C
from .address import Address
from .base import UNDEFINED, Model, js_number, to_seconds

#: message of the reference's plain ``Error`` for legacy proposals (HTTP 500)
LEGACY_UNSUPPORTED_MESSAGE = "Unsupported operation on this transaction proposal"

_OUTPUT_KEYS = ("amount", "toAddress", "message", "script")
_NOT_PENDING = (C.TXP_TEMPORARY, C.TXP_BROADCASTED, C.TXP_REJECTED)


class TxProposalAction(Model):
    """One vote on a proposal.

    Shape: ``{"version": "1.0.0", "createdOn": int s, "copayerId", "type": "accept"|"reject",
    "signatures": [hex] (accept only), "xpub": str (accept only), "comment": reason | null}``.
    """

    FIELDS = (
        ("version", "version"),
        ("created_on", "createdOn"),
        ("copayer_id", "copayerId"),
        ("type", "type"),
        ("signatures", "signatures"),
        ("xpub", "xpub"),
        ("comment", "comment"),
    )

    @classmethod
    def create(
        cls,
        copayerId: str,
        type: str,
        signatures: Any = UNDEFINED,
        xpub: Any = UNDEFINED,
        comment: Any = UNDEFINED,
        now: float | None = None,
    ) -> "TxProposalAction":
        """New action; ``now``: unix seconds (default current time)."""
        x = cls()
        x.version = "1.0.0"
        x.created_on = to_seconds(now)
        x.copayer_id = copayerId
        x.type = type
        x.signatures = signatures
        x.xpub = xpub
        x.comment = comment
        return x


class _TxProposalBase(Model):
    """Behaviour shared by v3 and legacy proposals."""

    DERIVED = ("isPending",)

    # -------------------------------------------------------- (de)serialise
    def _encode(self, attr: str, value: Any) -> Any:
        if attr == "actions":
            return [a.to_dict() for a in value]
        return super()._encode(attr, value)

    @classmethod
    def _decode(cls, attr: str, value: Any) -> Any:
        if attr == "actions":
            return [TxProposalAction.from_dict(a) for a in (value or [])]
        if attr == "change_address" and isinstance(value, dict):
            return Address.from_dict(value)
        return super()._decode(attr, value)

    def _derived(self) -> dict[str, Any]:
        return {"isPending": self.is_pending()}

    @classmethod
    def _fix_common(cls, x):
        if not x.coin:
            x.coin = C.DEFAULT_COIN
        if x.actions is UNDEFINED:
            x.actions = []
        return x

    # -------------------------------------------------------- status
    def is_legacy(self) -> bool:
        """True for version < 3 proposals (cannot be signed or broadcast)."""
        return False

    def is_temporary(self) -> bool:
        """status == "temporary" (created, not yet published)."""
        return self.status == C.TXP_TEMPORARY

    def is_pending(self) -> bool:
        """status not in {temporary, broadcasted, rejected} (``accepted`` is pending)."""
        return self.status not in _NOT_PENDING

    def _votes(self, kind: str) -> int:
        return sum(1 for a in self.actions if a.type == kind)

    def is_accepted(self) -> bool:
        """count(accept actions) >= requiredSignatures."""
        req = self.required_signatures
        return isinstance(req, (int, float)) and self._votes("accept") >= req

    def is_rejected(self) -> bool:
        """count(reject actions) >= requiredRejections."""
        req = self.required_rejections
        return isinstance(req, (int, float)) and self._votes("reject") >= req

    def is_broadcasted(self) -> bool:
        """status == "broadcasted"."""
        return self.status == C.TXP_BROADCASTED

    def _update_status(self) -> None:
        if self.status != C.TXP_PENDING:
            return
        if self.is_rejected():
            self.status = C.TXP_REJECTED
        elif self.is_accepted():
            self.status = C.TXP_ACCEPTED

    # -------------------------------------------------------- actions
    def get_actors(self) -> list[str]:
        """copayerIds of every action (accept and reject), in order."""
        return [a.copayer_id for a in self.actions]

    def get_approvers(self) -> list[str]:
        """copayerIds of the accept actions, in order."""
        return [a.copayer_id for a in self.actions if a.type == "accept"]

    def get_rejecters(self) -> list[str]:
        """copayerIds of the reject actions, in order (``rejectedBy``)."""
        return [a.copayer_id for a in self.actions if a.type == "reject"]

    def get_action_by(self, copayer_id: str) -> TxProposalAction | None:
        """First action of that copayer, or None (COPAYER_VOTED check)."""
        for a in self.actions:
            if a.copayer_id == copayer_id:
                return a
        return None

    def add_action(
        self,
        copayer_id: str,
        type: str,
        signatures: Any = UNDEFINED,
        xpub: Any = UNDEFINED,
        comment: Any = UNDEFINED,
        now: float | None = None,
    ) -> TxProposalAction:
        """Append an action, then (if status is pending) update the status:
        rejected wins over accepted.  Returns the action."""
        action = TxProposalAction.create(copayer_id, type, signatures, xpub, comment, now=now)
        self.actions.append(action)
        self._update_status()
        return action

    def accept(self, copayer_id: str, signatures: list[str], xpub: str, now: float | None = None) -> TxProposalAction:
        """Record an accept vote (signatures already verified by the caller);
        comment is ``null`` like the reference.  Setting ``raw``/``txid`` when the
        proposal becomes accepted is the caller's job (needs the chain code)."""
        return self.add_action(copayer_id, "accept", signatures, xpub, None, now=now)

    def reject(self, copayer_id: str, reason: Any = UNDEFINED, now: float | None = None) -> TxProposalAction:
        """Record a reject vote with ``reason`` as comment."""
        return self.add_action(copayer_id, "reject", comment=reason, now=now)

    def set_broadcasted(self, now: float | None = None) -> None:
        """status -> broadcasted, ``broadcastedOn`` = now (int unix seconds).
        Requires ``txid`` to be set (ValueError otherwise)."""
        if not self.txid:
            raise ValueError("txid required before set_broadcasted")
        self.status = C.TXP_BROADCASTED
        self.broadcasted_on = to_seconds(now)

    def remaining_delete_lock_time(self, copayer_id: str, now: float | None = None) -> int:
        """Seconds (int >= 0) before ``copayer_id`` may delete this pending
        proposal (docs/spec/api.md §6.12): 0 once DELETE_LOCKTIME passed since createdOn; the
        creator gets 0 unless someone else accepted; others wait."""
        remaining = self.created_on + C.DELETE_LOCKTIME - to_seconds(now)
        if remaining < 0:
            return 0
        if self.creator_id != copayer_id:
            return remaining
        approvers = self.get_approvers()
        if len(approvers) > 1 or (len(approvers) == 1 and approvers[0] != copayer_id):
            return remaining
        return 0

    def set_inputs(self, inputs: list[dict] | None) -> None:
        """Set ``inputs`` (list of utxo dicts) and ``inputPaths`` (their paths)."""
        self.inputs = list(inputs or [])
        self.input_paths = [i.get("path") for i in self.inputs]

    def get_total_amount(self) -> int:
        """Sum of output amounts (change excluded); int."""
        return sum(o.get("amount") or 0 for o in (self.outputs or []))

    def notification_data(self, **more: Any) -> dict[str, Any]:
        """``{txProposalId, creatorId, amount, message}`` (+ ``more``) for the
        TxProposal* notifications; UNDEFINED values are dropped on output."""
        data = {
            "txProposalId": self.id,
            "creatorId": self.creator_id,
            "amount": self.get_total_amount(),
            "message": self.message,
        }
        data.update(more)
        return data


class TxProposal(_TxProposalBase):
    """Transaction proposal, version 3.  Attributes are the snake_case forms of
    the wire names (``created_on`` int unix seconds, ``broadcasted_on`` int unix
    seconds, amounts/fees int satoshi or wei)."""

    FIELDS = (
        ("version", "version"),
        ("created_on", "createdOn"),
        ("id", "id"),
        ("wallet_id", "walletId"),
        ("creator_id", "creatorId"),
        ("coin", "coin"),
        ("network", "network"),
        ("message", "message"),
        ("pay_pro_url", "payProUrl"),
        ("change_address", "changeAddress"),
        ("outputs", "outputs"),
        ("output_order", "outputOrder"),
        ("wallet_m", "walletM"),
        ("wallet_n", "walletN"),
        ("required_signatures", "requiredSignatures"),
        ("required_rejections", "requiredRejections"),
        ("status", "status"),
        ("actions", "actions"),
        ("fee_level", "feeLevel"),
        ("fee_per_kb", "feePerKb"),
        ("exclude_unconfirmed_utxos", "excludeUnconfirmedUtxos"),
        ("address_type", "addressType"),
        ("custom_data", "customData"),
        ("amount", "amount"),
        ("inputs", "inputs"),
        ("input_paths", "inputPaths"),
        ("fee", "fee"),
        ("enable_rbf", "enableRBF"),
        ("proposal_signature", "proposalSignature"),
        ("proposal_signature_pub_key", "proposalSignaturePubKey"),
        ("proposal_signature_pub_key_sig", "proposalSignaturePubKeySig"),
        ("txid", "txid"),
        ("raw", "raw"),
        ("broadcasted_on", "broadcastedOn"),
    )

    @classmethod
    def create(
        cls,
        walletId: str,
        coin: str,
        network: str,
        walletM: int,
        walletN: int,
        outputs: list[dict] | None = None,
        creatorId: Any = UNDEFINED,
        id: str | None = None,
        message: Any = UNDEFINED,
        payProUrl: Any = UNDEFINED,
        changeAddress: Any = UNDEFINED,
        feeLevel: Any = UNDEFINED,
        feePerKb: Any = UNDEFINED,
        excludeUnconfirmedUtxos: Any = UNDEFINED,
        addressType: str | None = None,
        customData: Any = UNDEFINED,
        inputs: list[dict] | None = None,
        fee: Any = UNDEFINED,
        noShuffleOutputs: bool = False,
        enableRBF: bool = False,
        now: float | None = None,
        rng: random.Random | None = None,
    ) -> "TxProposal":
        """New temporary proposal (reference ``TxProposal.create``).

        ``outputs`` keep only amount/toAddress/message/script (absent keys stay
        absent); ``outputOrder`` = ``range(len(outputs) + 1)`` shuffled unless
        ``noShuffleOutputs``; requiredSignatures = m; requiredRejections =
        min(m, n - m + 1); addressType defaults to P2SH if n > 1 else P2PKH;
        amount = sum of output amounts; ``enableRBF``: bool, stored as
        ``enableRBF`` (upstream model/txproposal.ts; every input then signals
        BIP125 replaceability, sequence 0xfffffffd, bws/chains/txbuild.py);
        ``now``: unix seconds; ``rng``: a ``random.Random`` for the shuffle
        (default SystemRandom)."""
        if coin not in C.COINS:
            raise ValueError(f"invalid coin {coin!r}")
        if network not in C.NETWORKS:
            raise ValueError(f"invalid network {network!r}")
        x = cls()
        x.version = 3
        x.created_on = to_seconds(now)
        x.id = id or str(uuid.uuid4())
        x.wallet_id = walletId
        x.creator_id = creatorId
        x.coin = coin
        x.network = network
        x.message = message
        x.pay_pro_url = payProUrl
        if isinstance(changeAddress, dict):
            changeAddress = Address.from_dict(changeAddress)
        x.change_address = changeAddress
        x.outputs = [{k: o[k] for k in _OUTPUT_KEYS if k in o} for o in (outputs or [])]
        order = list(range(len(x.outputs) + 1))
        if not noShuffleOutputs:
            (rng or random.SystemRandom()).shuffle(order)
        x.output_order = order
        x.wallet_m = walletM
        x.wallet_n = walletN
        x.required_signatures = walletM
        x.required_rejections = min(walletM, walletN - walletM + 1)
        x.status = C.TXP_TEMPORARY
        x.actions = []
        x.fee_level = feeLevel
        x.fee_per_kb = feePerKb
        x.exclude_unconfirmed_utxos = excludeUnconfirmedUtxos
        x.address_type = addressType or (C.P2SH if walletN > 1 else C.P2PKH)
        if x.address_type not in C.SCRIPT_TYPES:
            raise ValueError(f"invalid address type {x.address_type!r}")
        x.custom_data = customData
        x.amount = x.get_total_amount()
        x.set_inputs(inputs)
        x.fee = fee
        x.enable_rbf = enableRBF is True
        return x

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TxProposal | TxProposalLegacy":
        """From a stored document.  ``version < 3`` (incl. "1.0.0"/"2.0.0")
        returns a :class:`TxProposalLegacy`.  Missing coin -> ``btc``."""
        if cls is TxProposal:
            v = js_number(d.get("version"))
            if v is None or not v >= 3:
                return TxProposalLegacy.from_dict(d)
        return cls._fix_common(super().from_dict(d))


class TxProposalLegacy(_TxProposalBase):
    """Proposal with version < 3 (types simple / multiple_outputs / external).
    Readable only: the service must answer signing / broadcasting with
    ``LEGACY_UNSUPPORTED_MESSAGE`` (a 500 in the reference)."""

    TYPES = ("simple", "multiple_outputs", "external")

    FIELDS = (
        ("version", "version"),
        ("type", "type"),
        ("created_on", "createdOn"),
        ("id", "id"),
        ("wallet_id", "walletId"),
        ("creator_id", "creatorId"),
        ("outputs", "outputs"),
        ("to_address", "toAddress"),
        ("amount", "amount"),
        ("message", "message"),
        ("pay_pro_url", "payProUrl"),
        ("proposal_signature", "proposalSignature"),
        ("change_address", "changeAddress"),
        ("inputs", "inputs"),
        ("required_signatures", "requiredSignatures"),
        ("required_rejections", "requiredRejections"),
        ("wallet_n", "walletN"),
        ("status", "status"),
        ("txid", "txid"),
        ("broadcasted_on", "broadcastedOn"),
        ("input_paths", "inputPaths"),
        ("actions", "actions"),
        ("output_order", "outputOrder"),
        ("coin", "coin"),
        ("network", "network"),
        ("fee", "fee"),
        ("fee_per_kb", "feePerKb"),
        ("exclude_unconfirmed_utxos", "excludeUnconfirmedUtxos"),
        ("proposal_signature_pub_key", "proposalSignaturePubKey"),
        ("proposal_signature_pub_key_sig", "proposalSignaturePubKeySig"),
        ("address_type", "addressType"),
        ("derivation_strategy", "derivationStrategy"),
        ("custom_data", "customData"),
        ("raw", "raw"),
    )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TxProposalLegacy":
        """Version "1.0.0" -> type ``simple``; defaults coin btc, addressType
        P2SH, derivationStrategy BIP45."""
        x = cls._fix_common(super().from_dict(d))
        if x.version == "1.0.0":
            x.type = "simple"
        if not x.address_type:
            x.address_type = C.P2SH
        if not x.derivation_strategy:
            x.derivation_strategy = C.BIP45
        return x

    def is_legacy(self) -> bool:
        return True

    def get_total_amount(self) -> int:
        """multiple_outputs / external: sum of outputs; simple: ``amount``."""
        if self.type in ("multiple_outputs", "external"):
            return sum(o.get("amount") or 0 for o in (self.outputs or []))
        return self.amount if isinstance(self.amount, int) else 0


__all__ = ["TxProposal", "TxProposalAction", "TxProposalLegacy", "LEGACY_UNSUPPORTED_MESSAGE"]
