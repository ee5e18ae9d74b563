"""Transaction notes shared by a wallet's copayers (docs/spec/api.md §4.25, §6.18)."""

from __future__ import annotations

from typing import Optional

from bws.errors import bad_request
from bws.jsnum import js_integral
from bws.model import TxNote, Wallet
from bws.model import constants as C

from .base import Aggregate, check_length, check_required
from .context import Caller


def copayer_name(wallet: Wallet, copayer_id: Optional[str]) -> str:
    """Name of the wallet's copayer ``copayer_id``, or "unknown"."""
    c = wallet.get_copayer(copayer_id) if copayer_id else None
    return c.name if c is not None else "unknown"


class Notes(Aggregate):
    """getTxNote, editTxNote, getTxNotes."""

    async def note_out(self, caller: Caller, doc: dict, wallet: Optional[Wallet] = None) -> dict:
        wallet = wallet or await self._fetch_wallet(caller.wallet_id)
        note = TxNote.from_dict(doc).to_dict()
        note["editedByName"] = copayer_name(wallet, note.get("editedBy"))
        return note

    async def get_tx_note(self, caller: Caller, opts: dict) -> Optional[dict]:
        """The note of ``opts["txid"]`` ``{version, createdOn, walletId, txid,
        body, editedOn, editedBy, editedByName}`` or None (empty body)."""
        check_required(opts, ["txid"])
        doc = await self.storage.notes.fetch(caller.wallet_id, str(opts["txid"]))
        return await self.note_out(caller, doc) if doc else None

    async def edit_tx_note(self, caller: Caller, opts: dict) -> dict:
        """Create or edit the note of ``opts["txid"]`` with ``opts["body"]``
        (opaque, may be null; at most MAX_MESSAGE_LENGTH characters), under
        the wallet lock -> the stored note with ``editedByName``.  A signed
        request that already edited the note is not applied again: a re-send
        answers the note, a replay after a newer edit is NOT_AUTHORIZED
        "Request already applied" (:meth:`_already_applied`)."""
        check_required(opts, ["txid"])
        txid = opts["txid"]
        if not isinstance(txid, str) or not txid:
            raise bad_request("Invalid txid")
        check_length(txid, C.MAX_TXID_LENGTH, "txid")
        body = opts.get("body")
        check_length(body, C.MAX_MESSAGE_LENGTH, "body")

        async def edit() -> dict:
            wallet = await self._fetch_wallet(caller.wallet_id)
            doc = await self.storage.notes.fetch(caller.wallet_id, txid)
            if doc:
                note = TxNote.from_dict(doc)
                if self._already_applied(caller, note):
                    return await self.note_out(caller, doc, wallet)
                note.edit(body, caller.copayer_id, now=self.now_s())
            else:
                note = TxNote.create(caller.wallet_id, txid, body, caller.copayer_id, now=self.now_s())
            note.record_request(caller.request_digest)
            await self.storage.notes.store(note.to_dict(for_storage=True))
            stored = await self.storage.notes.fetch(caller.wallet_id, txid)
            return await self.note_out(caller, stored, wallet)

        return await self._run_locked(caller.wallet_id, edit)

    async def get_tx_notes(self, caller: Caller, opts: Optional[dict] = None) -> list[dict]:
        """Notes of the wallet with ``editedOn >= opts["minTs"]`` (unix
        seconds, a number or its text; all when absent or not a number;
        ``1e400`` is infinity: none), each with ``editedByName``."""
        opts = opts or {}
        min_ts = opts.get("minTs")
        if isinstance(min_ts, str):
            try:
                min_ts = float(min_ts)
            except ValueError:
                min_ts = None
        if not isinstance(min_ts, (int, float)) or isinstance(min_ts, bool) or min_ts != min_ts:
            min_ts = None
        elif isinstance(min_ts, float):
            # a double, as the reference's +req.query.minTs: 1e400 is Infinity (no note is newer);
            # int() of it raised, and int(1e308) is too big for a BSON query
            min_ts = js_integral(min_ts)
        wallet = await self._fetch_wallet(caller.wallet_id)
        docs = await self.storage.notes.fetch_since(caller.wallet_id, min_ts)
        return [await self.note_out(caller, d, wallet) for d in docs]
