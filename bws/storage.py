"""The only module that talks to MongoDB.

Collections, keys and indexes follow the reference (spec/services.md §7.2);
collections we added are marked *added*. Every method is ``async def`` (drive
it from Twisted code with ``await``) and takes and returns plain dicts with the
reference wire field names; the model layer (bws/model) converts them.
MongoDB's ``_id`` never leaves this module.

The same code runs against real MongoDB in production and against the embedded
SecantusDB server (``python -m bws.embedded_db``) by default and in tests.

Writes that must not be half-done (a wallet and its copayer lookups, addresses
and the wallet index that produced them, a state change and the notifications
announcing it) run in one multi-document transaction; MongoDB needs a replica
set for that, so on a standalone server they fall back to ordered single
writes (logged once at start). Transient transaction errors are retried for a
bounded time, then raised as :class:`StorageBusy` (see ``_in_transaction``).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any, Awaitable, Callable, Iterable, Mapping, Optional

import decimal

import pymongo
from bson.codec_options import CodecOptions, TypeDecoder, TypeRegistry
from bson.decimal128 import Decimal128
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, ReturnDocument
from pymongo.errors import ConnectionFailure, DuplicateKeyError, ExecutionTimeout, OperationFailure, PyMongoError

from bws.aio import as_deferred

log = logging.getLogger(__name__)

Doc = dict[str, Any]

#: collection -> indexes (spec/services.md §7.2). ``unique`` where the key must not repeat.
INDEXES: dict[str, list[IndexModel]] = {
    "wallets": [
        IndexModel([("id", ASCENDING)], unique=True),
        # added: the BTC monitor asks for wallets whose scan is running (fetch_scanning_wallet_ids)
        IndexModel([("scanStatus", ASCENDING)], sparse=True),
    ],
    "copayers_lookup": [
        IndexModel([("copayerId", ASCENDING)], unique=True),
        IndexModel([("walletId", ASCENDING)]),
    ],
    "txs": [
        IndexModel([("walletId", ASCENDING), ("id", ASCENDING)], unique=True),
        IndexModel([("walletId", ASCENDING), ("isPending", ASCENDING), ("txid", ASCENDING)]),
        IndexModel([("walletId", ASCENDING), ("createdOn", DESCENDING)]),
        IndexModel([("txid", ASCENDING)]),
        # added: the BTC monitor looks for accepted proposals once per block (fetch_accepted_txs)
        IndexModel([("status", ASCENDING)]),
    ],
    "addresses": [
        IndexModel([("walletId", ASCENDING), ("createdOn", ASCENDING)]),
        IndexModel([("address", ASCENDING)]),
        IndexModel([("walletId", ASCENDING), ("address", ASCENDING)], unique=True),
        # added: monitors match outputs by scriptPubKey, never by address text
        IndexModel([("scriptPubKey", ASCENDING)], sparse=True),
        # added: the BTC monitor's incremental refresh of its watched scripts (fetch_address_scripts)
        IndexModel([("createdOn", ASCENDING)]),
    ],
    "notifications": [
        IndexModel([("walletId", ASCENDING), ("id", ASCENDING)]),
        # added: ids are unique across processes; the durable stream reads by id
        IndexModel([("id", ASCENDING)], unique=True),
    ],
    "preferences": [
        IndexModel([("walletId", ASCENDING)]),
        IndexModel([("walletId", ASCENDING), ("copayerId", ASCENDING)], unique=True),
    ],
    "email_queue": [
        IndexModel([("id", ASCENDING)], unique=True),
        IndexModel([("notificationId", ASCENDING)]),
        IndexModel([("status", ASCENDING)]),
    ],
    "cache": [IndexModel([("walletId", ASCENDING), ("type", ASCENDING), ("key", ASCENDING)])],
    "fiat_rates": [
        IndexModel([("provider", ASCENDING), ("code", ASCENDING), ("ts", ASCENDING)]),
        # added: the look-up filters by coin too (newest at or before ts, per provider/coin/code)
        IndexModel([("provider", ASCENDING), ("coin", ASCENDING), ("code", ASCENDING), ("ts", DESCENDING)]),
    ],
    "tx_notes": [IndexModel([("walletId", ASCENDING), ("txid", ASCENDING)], unique=True)],
    "sessions": [IndexModel([("copayerId", ASCENDING)], unique=True)],
    "push_notification_subs": [
        IndexModel([("copayerId", ASCENDING)]),
        IndexModel([("copayerId", ASCENDING), ("token", ASCENDING)], unique=True),
    ],
    "tx_confirmation_subs": [
        IndexModel([("copayerId", ASCENDING), ("txid", ASCENDING)], unique=True),
        IndexModel([("txid", ASCENDING), ("isActive", ASCENDING)]),
    ],
    "eth_txs": [
        IndexModel([("from", ASCENDING)]),
        IndexModel([("to", ASCENDING)]),
        IndexModel([("hash", ASCENDING)], unique=True),
    ],
    "try_txs": [
        IndexModel([("from", ASCENDING)]),
        IndexModel([("to", ASCENDING)]),
        IndexModel([("hash", ASCENDING)]),
        IndexModel([("hash", ASCENDING), ("logIndex", ASCENDING)], unique=True),
    ],
    # added: native txs of the Trias chain (coin tri), same shape as eth_txs
    "tri_txs": [
        IndexModel([("from", ASCENDING)]),
        IndexModel([("to", ASCENDING)]),
        IndexModel([("hash", ASCENDING)], unique=True),
    ],
    "eth_balance_cache": [IndexModel([("address", ASCENDING)], unique=True)],
    "try_balance_cache": [IndexModel([("address", ASCENDING)], unique=True)],
    "stats_wallets": [],
    "stats_txps": [],
    # added: durable notification stream (consumer cursors and delivered keys)
    "stream_cursors": [IndexModel([("consumer", ASCENDING)], unique=True)],
    "stream_deliveries": [IndexModel([("consumer", ASCENDING), ("notificationId", ASCENDING)], unique=True)],
    # added: block monitors' chain cursors (height + hash per coin/network)
    "monitor_cursors": [IndexModel([("coin", ASCENDING), ("network", ASCENDING)], unique=True)],
    # added: outbox rows of the push service (one per notification x device token)
    "push_deliveries": [
        IndexModel([("id", ASCENDING)], unique=True),
        IndexModel([("notificationId", ASCENDING)]),
        IndexModel([("status", ASCENDING), ("nextAttemptOn", ASCENDING)]),
    ],
    # added: webhook registrations (one per wallet x copayer) and their deliveries
    "webhooks": [
        IndexModel([("id", ASCENDING)], unique=True),
        IndexModel([("walletId", ASCENDING), ("copayerId", ASCENDING)], unique=True),
    ],
    "webhook_deliveries": [
        IndexModel([("id", ASCENDING)], unique=True),
        IndexModel([("notificationId", ASCENDING)]),
        IndexModel([("webhookId", ASCENDING), ("createdOn", ASCENDING)]),
        IndexModel([("status", ASCENDING), ("nextAttemptOn", ASCENDING)]),
    ],
    # added: running processes and their heartbeats (bws/process_registry.py)
    "processes": [IndexModel([("id", ASCENDING)], unique=True), IndexModel([("kind", ASCENDING)])],
}

_NO_ID = {"_id": False}

#: Seconds the index builds of :meth:`Storage.connect` may take (instead of timeoutMS).
INDEX_BUILD_TIMEOUT = 3600.0


# Integers beyond int64 (wei / token amounts of eth, tri, try) are stored as
# Decimal128 (34 exact digits; more raises decimal.Inexact) and read back as int.
def _bigint_encoder(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal128(decimal.Decimal(value))
    return value


class _BigIntDecoder(TypeDecoder):
    bson_type = Decimal128

    def transform_bson(self, value: Decimal128) -> Any:
        d = value.to_decimal()
        return int(d) if d == d.to_integral_value() else d


CODEC_OPTIONS: CodecOptions = CodecOptions(
    tz_aware=False, type_registry=TypeRegistry([_BigIntDecoder()], fallback_encoder=_bigint_encoder)
)


def _clean(doc: Optional[Doc]) -> Optional[Doc]:
    if doc is not None:
        doc.pop("_id", None)
    return doc


def _now() -> int:
    return int(time.time())


def _ts_range(field: str, min_ts: Optional[int], max_ts: Optional[int]) -> Doc:
    """``{field: {$gte: min_ts, $lte: max_ts}}`` with the absent bounds left out ({} when both are)."""
    rng = {op: v for op, v in (("$gte", min_ts), ("$lte", max_ts)) if v is not None}
    return {field: rng} if rng else {}


def _new_rev() -> str:
    """A fresh write token for a wallet document (compare-and-swap in update_wallet)."""
    return uuid.uuid4().hex


#: default ``transaction_timeout_ms`` (``storageOpts.mongoDb.transactionTimeoutMS``, bws/config.py):
#: how long a transactional write may take, retries of transient errors included
TRANSACTION_TIMEOUT_MS = 5000


class StorageError(Exception):
    """A write was refused by the database for a reason the caller may want to report."""


class StorageBusy(StorageError):
    """A transactional write kept failing for a transient reason (a write
    conflict, typically with the transaction a killed process left open,
    which the server aborts only after its transaction lifetime, 60 s by
    default) for longer than ``transaction_timeout_ms``. The API answers 503
    SERVICE_UNAVAILABLE and the client may retry. Nothing was written, unless
    the last attempt was a commit whose answer was lost: then the whole
    transaction may have landed (never a part of it)."""


def _transient(e: PyMongoError) -> bool:
    """A transaction error worth retrying later: the driver's labels for a
    transient failure or a commit of unknown outcome, or its client-side
    timeout ending the retries (``ExecutionTimeout``)."""
    return (
        isinstance(e, ExecutionTimeout)
        or e.has_error_label("TransientTransactionError")
        or e.has_error_label("UnknownTransactionCommitResult")
    )


class Storage:
    """Async MongoDB storage.

    uri: ``mongodb://host:port/dbname`` (the database name comes from the URI,
    default ``bws``). Call :meth:`connect` once before use; it creates every
    index (idempotent) and is safe to call from several processes at once.
    """

    def __init__(
        self,
        uri: str,
        *,
        server_selection_timeout_ms: int = 10_000,
        timeout_ms: Optional[int] = None,
        transaction_timeout_ms: int = TRANSACTION_TIMEOUT_MS,
    ):
        """timeout_ms: pymongo ``timeoutMS``, the most one operation may take in all
        (server selection, connection, retries, server work); a timeout raises a
        ``PyMongoError`` whose ``.timeout`` is true (the API answers 503). None =
        no limit. Config: ``storageOpts.mongoDb.timeoutMS`` (bws/config.py).
        transaction_timeout_ms: the most a transactional write may take, its
        retries of transient errors included (then StorageBusy); config
        ``storageOpts.mongoDb.transactionTimeoutMS``."""
        self.uri = uri
        #: ms a transactional write may take, its retries of transient errors included
        self.transaction_timeout_ms = transaction_timeout_ms
        options: Doc = {"serverSelectionTimeoutMS": server_selection_timeout_ms, "tz_aware": False}
        if timeout_ms is not None:
            options["timeoutMS"] = timeout_ms
        self.client: AsyncMongoClient = AsyncMongoClient(uri, **options)
        self.db = self.client.get_default_database("bws", codec_options=CODEC_OPTIONS)
        self._transactions: Optional[bool] = None

    # -- lifecycle ---------------------------------------------------------

    async def connect(self) -> "Storage":
        """Check the server answers and create all indexes; returns self."""
        await as_deferred(self.db.command("ping"))

        async def build_indexes() -> None:
            # Exempt from the per-operation timeoutMS: building a new index on a large
            # collection after an upgrade takes as long as it takes, and a timeout
            # would abort the build and fail every start-up.
            with pymongo.timeout(INDEX_BUILD_TIMEOUT):
                for name, indexes in INDEXES.items():
                    if indexes:
                        await self.db[name].create_indexes(indexes)

        await as_deferred(build_indexes())
        return self

    async def ping(self) -> None:
        """Round-trip to the server (health checks); raises when it does not answer."""
        await as_deferred(self.db.command("ping"))

    async def count_sent(self, collection: str) -> int:
        """Delivered rows (``status: "sent"``) in an outbox collection (metrics)."""
        return await as_deferred(self._c(collection).count_documents({"status": "sent"}))

    async def close(self) -> None:
        await as_deferred(self.client.close())

    async def drop_database(self) -> None:
        """Tests only: remove every collection of this database."""
        await as_deferred(self.client.drop_database(self.db.name))

    def _c(self, name: str):
        return self.db[name]

    async def _run(self, awaitable: Awaitable[Any]) -> Any:
        return await as_deferred(awaitable)

    async def _find(self, coll: str, query: Doc, sort=None, limit: int = 0, skip: int = 0) -> list[Doc]:
        async def go():
            cursor = self._c(coll).find(query, _NO_ID)
            if sort:
                cursor = cursor.sort(sort)
            if skip:
                cursor = cursor.skip(skip)
            if limit:
                cursor = cursor.limit(limit)
            return await cursor.to_list(None)

        return await as_deferred(go())

    async def _find_one(self, coll: str, query: Doc, sort=None) -> Optional[Doc]:
        return await as_deferred(self._c(coll).find_one(query, _NO_ID, sort=sort))

    async def _replace(self, coll: str, query: Doc, doc: Doc, upsert: bool = True) -> None:
        doc = {k: v for k, v in doc.items() if k != "_id"}
        await as_deferred(self._c(coll).replace_one(query, doc, upsert=upsert))

    async def _in_transaction(self, work: Callable[[Any], Awaitable[None]]) -> None:
        """Run ``work(session)`` atomically when the server supports transactions.

        Transient failures are retried by the driver's ``with_transaction``:
        the whole transaction again after a ``TransientTransactionError``
        (e.g. a WriteConflict with the transaction a process killed mid-write
        left open until the server's transaction lifetime ends), the commit
        alone after ``UnknownTransactionCommitResult`` (so it lands at most
        once), with jittered backoff. The driver's client-side timeout
        (``pymongo.timeout``) bounds all of it to ``transaction_timeout_ms``;
        then :class:`StorageBusy`. ``work`` may therefore run several times
        and must write only through ``session``.

        On a standalone MongoDB (no replica set) transactions are refused; the
        writes then run in order without a session. Callers order their writes
        so that the last one "commits" (e.g. the wallet document after its
        addresses), which keeps a crash between writes harmless.
        """
        if self._transactions is not False:
            try:
                async def txn():
                    with pymongo.timeout(self.transaction_timeout_ms / 1000):
                        async with self.client.start_session() as session:
                            await session.with_transaction(work)

                await as_deferred(txn())
                self._transactions = True
                return
            except PyMongoError as e:
                if isinstance(e, OperationFailure) and self._transactions is None and e.code in (20, 263, 303):
                    # IllegalOperation / no replica set
                    log.warning("storage: server has no transactions; writes run unbatched (%s)", e)
                    self._transactions = False
                elif _transient(e):
                    # the driver's timeout error names the last failure as its cause
                    last = e.__cause__ if isinstance(e.__cause__, PyMongoError) else e
                    if isinstance(last, ConnectionFailure):
                        raise last  # unreachable, not busy: the callers' (and the API's) database-down path
                    log.warning("storage: transaction still failing after %d ms: %s",
                                self.transaction_timeout_ms, str(last)[:200])
                    raise StorageBusy(f"transaction not committed within {self.transaction_timeout_ms} ms") from e
                else:
                    raise
        await as_deferred(work(None))

    # -- wallets & copayer lookups (reference: fetchWallet, storeWallet, ...) --

    async def fetch_wallet(self, wallet_id: str) -> Optional[Doc]:
        """The stored wallet dict (wire names) or None."""
        doc = await self._find_one("wallets", {"id": wallet_id})
        if doc:
            doc.pop("_rev", None)
        return doc

    async def store_wallet(self, wallet: Doc) -> None:
        """Replace-upsert the whole wallet by ``id`` (renews its ``_rev`` write token)."""
        doc = {k: v for k, v in wallet.items() if k not in ("_id", "_rev")}
        await as_deferred(self._c("wallets").replace_one({"id": doc["id"]}, {**doc, "_rev": _new_rev()}, upsert=True))

    async def update_wallet(self, wallet_id: str, mutate: Callable[[Doc], Optional[Doc]], retries: int = 50) -> Optional[Doc]:
        """Read-modify-write one wallet without losing concurrent updates.

        mutate(doc) -> new doc (or mutates in place and returns None). The write
        only lands if nobody stored the wallet meanwhile (compare-and-swap on the
        ``_rev`` token, which every wallet write renews); otherwise it re-reads
        and retries. Returns the stored
        doc, or None if the wallet does not exist.
        """
        for _ in range(retries):
            current = await as_deferred(self._c("wallets").find_one({"id": wallet_id}))
            if current is None:
                return None
            rev = current.pop("_rev", None)
            current.pop("_id", None)
            new = mutate(current)
            new = current if new is None else new
            new = {k: v for k, v in new.items() if k not in ("_id", "_rev")}
            # findAndModify: the filter match and the write are one atomic step on the
            # server (a plain replace_one with the same filter lost updates on SecantusDB).
            before = await as_deferred(
                self._c("wallets").find_one_and_replace({"id": wallet_id, "_rev": rev}, {**new, "_rev": _new_rev()})
            )
            if before is not None:
                return new
        raise StorageError(f"wallet {wallet_id}: too many concurrent updates")

    async def store_wallet_and_update_copayers_lookup(self, wallet: Doc) -> None:
        """Store the wallet and rebuild its copayer lookups in one step.

        Lookup docs: ``{copayerId, walletId, requestPubKeys}``; support-staff
        flags already present on a lookup are kept.
        """
        await self.store_wallet_lookups_and_notifications(wallet, ())

    async def store_wallet_lookups_and_notifications(
        self, wallet: Doc, notifications: Iterable[Doc], renew_id: Optional[Callable[[], str]] = None
    ) -> list[Doc]:
        """:meth:`store_wallet_and_update_copayers_lookup` and the insert of
        ``notifications`` (in order) in one step: one transaction when the
        server has them, otherwise lookups, wallet, then notifications.

        Returns the stored notifications. After a notification id collision
        every notification takes a fresh id from ``renew_id()`` (in order, so
        the ids keep the given order) and the whole write is retried; other
        duplicate keys (a copayer lookup) are raised."""
        wallet_id = wallet["id"]
        staff = {
            d["copayerId"]
            for d in await self._find("copayers_lookup", {"walletId": wallet_id, "isSupportStaff": True})
        }
        lookups = []
        for c in wallet.get("copayers", []):
            doc = {"copayerId": c["id"], "walletId": wallet_id, "requestPubKeys": c.get("requestPubKeys", [])}
            if c["id"] in staff:
                doc["isSupportStaff"] = True
            lookups.append(doc)

        async def write(session):
            await self._c("copayers_lookup").delete_many({"walletId": wallet_id}, session=session)
            if lookups:
                await self._c("copayers_lookup").insert_many([dict(d) for d in lookups], session=session)
            doc = {k: v for k, v in wallet.items() if k not in ("_id", "_rev")}
            await self._c("wallets").replace_one({"id": wallet_id}, {**doc, "_rev": _new_rev()}, upsert=True, session=session)

        return await self._store_with_notifications(write, notifications, renew_id)

    async def fetch_copayer_lookup(self, copayer_id: str) -> Optional[Doc]:
        """``{copayerId, walletId, requestPubKeys:[{key, signature, ...}], isSupportStaff?}`` or None.

        Legacy lookups (``requestPubKey`` + ``signature``) are upgraded on read.
        """
        doc = await self._find_one("copayers_lookup", {"copayerId": copayer_id})
        if doc and not doc.get("requestPubKeys") and doc.get("requestPubKey"):
            doc["requestPubKeys"] = [{"key": doc["requestPubKey"], "signature": doc.get("signature")}]
        return doc

    async def remove_wallet(self, wallet_id: str) -> None:
        """Delete the wallet and every document of it in every collection."""
        await as_deferred(self._c("wallets").delete_one({"id": wallet_id}))
        for name in INDEXES:
            if name != "wallets":
                await as_deferred(self._c(name).delete_many({"walletId": wallet_id}))

    # -- transaction proposals (txs) ---------------------------------------

    async def fetch_tx(self, wallet_id: str, txp_id: str) -> Optional[Doc]:
        return await self._find_one("txs", {"walletId": wallet_id, "id": txp_id})

    async def fetch_tx_by_hash(self, txid: str) -> Optional[Doc]:
        """The proposal (any wallet) whose broadcast transaction id is ``txid``."""
        return await self._find_one("txs", {"txid": txid})

    async def fetch_last_txs(self, wallet_id: str, creator_id: str, limit: int = 5) -> list[Doc]:
        return await self._find(
            "txs", {"walletId": wallet_id, "creatorId": creator_id}, sort=[("createdOn", DESCENDING)], limit=limit
        )

    async def fetch_pending_txs(self, wallet_id: str) -> list[Doc]:
        """Pending and accepted proposals, newest first."""
        return await self._find("txs", {"walletId": wallet_id, "isPending": True}, sort=[("createdOn", DESCENDING)])

    async def fetch_txs(
        self, wallet_id: str, min_ts: Optional[int] = None, max_ts: Optional[int] = None, limit: int = 0
    ) -> list[Doc]:
        """Proposals with ``createdOn`` in [min_ts, max_ts] (seconds), newest first."""
        q: Doc = {"walletId": wallet_id}
        q.update(_ts_range("createdOn", min_ts, max_ts))
        return await self._find("txs", q, sort=[("createdOn", DESCENDING)], limit=limit)

    async def fetch_broadcasted_txs(
        self, wallet_id: str, min_ts: Optional[int] = None, max_ts: Optional[int] = None, limit: int = 0
    ) -> list[Doc]:
        """Broadcast proposals with ``broadcastedOn`` in [min_ts, max_ts], newest created first."""
        q: Doc = {"walletId": wallet_id, "status": "broadcasted"}
        q.update(_ts_range("broadcastedOn", min_ts, max_ts))
        return await self._find("txs", q, sort=[("createdOn", DESCENDING)], limit=limit)

    async def store_tx(self, txp: Doc) -> None:
        """Replace-upsert a proposal by (walletId, id). ``txp`` must carry ``isPending``."""
        await self._replace("txs", {"walletId": txp["walletId"], "id": txp["id"]}, txp)

    async def remove_tx(self, wallet_id: str, txp_id: str) -> bool:
        result = await as_deferred(self._c("txs").delete_one({"walletId": wallet_id, "id": txp_id}))
        return result.deleted_count == 1

    # -- notifications -------------------------------------------------------

    async def store_notification(self, notification: Doc, renew_id: Optional[Callable[[], str]] = None) -> Doc:
        """Insert a notification; returns it (possibly with a renewed ``id``).

        ``id`` is unique across processes. Two processes that build the same id
        in the same millisecond collide on the unique index; the loser takes a
        fresh id from ``renew_id()`` and retries.
        """
        return (await self._store_with_notifications(None, [notification], renew_id))[0]

    async def store_tx_and_notifications(
        self,
        txp: Doc,
        notifications: Iterable[Doc],
        renew_id: Optional[Callable[[], str]] = None,
        *,
        expect: Optional[Doc] = None,
    ) -> Optional[list[Doc]]:
        """Replace-upsert a proposal and insert the notifications announcing
        its new state (in order), atomically (one transaction when the server
        has them; otherwise the proposal first). Returns the stored
        notifications (ids renewed after a collision, as :meth:`store_notification`).

        expect: conditions on the stored proposal, e.g. ``{"status": "accepted"}``
        (marking it broadcast): the proposal is then only replaced if it still
        matches, never inserted; when it no longer does (a concurrent request
        or a block monitor already made the change) nothing is written and
        None is returned, so the change is announced once."""
        tdoc = {k: v for k, v in txp.items() if k != "_id"}
        key = {"walletId": tdoc["walletId"], "id": tdoc["id"]}

        async def write(session) -> bool:
            if expect is None:
                await self._c("txs").replace_one(key, tdoc, upsert=True, session=session)
                return True
            r = await self._c("txs").replace_one({**key, **expect}, tdoc, session=session)
            return r.matched_count == 1

        return await self._store_with_notifications(write, notifications, renew_id)

    async def remove_tx_and_notifications(
        self, wallet_id: str, txp_id: str, notifications: Iterable[Doc], renew_id: Optional[Callable[[], str]] = None
    ) -> Optional[list[Doc]]:
        """Delete a proposal and insert the notifications announcing it, atomically
        (as :meth:`store_tx_and_notifications`). None, and nothing written, when
        the proposal was already gone."""

        async def write(session) -> bool:
            r = await self._c("txs").delete_one({"walletId": wallet_id, "id": txp_id}, session=session)
            return r.deleted_count == 1

        return await self._store_with_notifications(write, notifications, renew_id)

    async def _store_with_notifications(
        self,
        write: Optional[Callable[[Any], Awaitable[Optional[bool]]]],
        notifications: Iterable[Doc],
        renew_id: Optional[Callable[[], str]],
    ) -> Optional[list[Doc]]:
        """``write(session)`` then the insert of ``notifications`` (in order),
        atomically when there is a ``write`` (one transaction, or those writes in
        order on a server without transactions); returns the stored notifications.

        Every write that announces a state change goes through here, so the
        change and its notifications commit together (a crash or a failed
        write leaves neither); callers publish the result after the commit.
        A ``write`` that returns False found nothing to change (its condition
        no longer held): no notification is stored and None is returned.

        Notification ids are unique across processes: after a collision every
        notification not yet stored takes a fresh id from ``renew_id()`` (in
        order, so the ids keep the given order) and the step is retried, up to
        20 times (StorageError). Any other duplicate key raises."""
        docs = [dict(n) for n in notifications]
        # written / kept: the write / the first ``kept`` notifications done for good (no
        # transaction); changed: False when the write's condition no longer held
        state = {"collided": False, "written": False, "kept": 0, "changed": True}

        async def work(session):
            state["changed"] = True  # a transaction may run several times (transient retries)
            if write is not None and not state["written"]:
                if await write(session) is False:
                    state["changed"] = False
                    return
                state["written"] = session is None
            for i in range(state["kept"], len(docs)):
                try:
                    await self._c("notifications").insert_one(dict(docs[i]), session=session)
                except DuplicateKeyError:
                    state["collided"] = True
                    raise
                if session is None:
                    state["kept"] = i + 1

        for _ in range(20):
            state["collided"] = False
            try:
                if write is None:  # a lone insert: no transaction needed
                    await as_deferred(work(None))
                else:
                    await self._in_transaction(work)
                return docs if state["changed"] else None
            except DuplicateKeyError:
                if not state["collided"] or renew_id is None:
                    raise
                for d in docs[state["kept"]:]:
                    d["id"] = renew_id()
        raise StorageError("could not allocate a unique notification id")

    async def fetch_notifications(
        self,
        wallet_ids: Iterable[str],
        notification_id: Optional[str] = None,
        min_ts_ms: Optional[int] = None,
        *,
        scoped: Optional[Mapping[str, Iterable[str]]] = None,
    ) -> list[Doc]:
        """Notifications of the given wallet ids with id > max(notification_id,
        pad14(min_ts_ms)+"0000"), ascending.  scoped: more walletIds, each
        with the only notification types taken from it (a network name ->
        NewBlock)."""
        floor = ""
        if min_ts_ms is not None:
            floor = str(int(min_ts_ms)).zfill(14) + "0000"
        if notification_id and notification_id > floor:
            floor = notification_id
        # One $in on the (walletId, id) index; the scoped ids' other types are
        # dropped here: an $or of per-scope filters made SecantusDB scan the
        # collection (4x the database CPU per poll in bench.run).
        own = list(wallet_ids)
        allowed = {wallet_id: set(types) for wallet_id, types in (scoped or {}).items()}
        docs = await self._find(
            "notifications", {"walletId": {"$in": own + list(allowed)}, "id": {"$gt": floor}}, sort=[("id", ASCENDING)]
        )
        if not allowed:
            return docs
        mine = set(own)
        return [d for d in docs if d.get("walletId") in mine or d.get("type") in allowed.get(d.get("walletId"), ())]

    async def fetch_latest_notification_id(self) -> str:
        """The greatest notification id stored ("" when there is none)."""
        doc = await as_deferred(self._c("notifications").find_one({}, {"id": True}, sort=[("id", DESCENDING)]))
        return doc["id"] if doc else ""

    async def fetch_notifications_after(self, after_id: str, limit: int = 500) -> list[Doc]:
        """The global stream: every notification with id > after_id, ascending (durable consumers)."""
        return await self._find("notifications", {"id": {"$gt": after_id}}, sort=[("id", ASCENDING)], limit=limit)

    # -- addresses -----------------------------------------------------------

    async def fetch_addresses(self, wallet_id: str) -> list[Doc]:
        """All addresses of a wallet in creation order."""
        return await self._find("addresses", {"walletId": wallet_id}, sort=[("createdOn", ASCENDING), ("_id", ASCENDING)])

    async def fetch_address_version(self, wallet_id: str) -> Optional[str]:
        """A token that changes whenever addresses are added to the wallet, or
        None (no wallet, or a wallet stored before write tokens existed).

        It is the wallet's write token ``_rev``: every path that inserts
        addresses (store_address_and_wallet, store_tx_with_address_and_wallet)
        stores the wallet with them and renews it, and so does every other
        wallet write. One indexed single-document read, so callers can keep
        an address list in memory and re-read it only when this changes."""
        doc = await as_deferred(self._c("wallets").find_one({"id": wallet_id}, {"_id": False, "_rev": True}))
        rev = (doc or {}).get("_rev")
        return rev if isinstance(rev, str) else None

    async def fetch_address_keys(self, wallet_id: str) -> list[Doc]:
        """``{address, isChange?}`` of every address of a wallet, in creation
        order like :meth:`fetch_addresses` (history needs nothing else).

        Projected, and sorted here rather than by the server: on SecantusDB
        this is ~4x cheaper than fetch_addresses for 1,000 addresses."""
        docs = await self._find_projected("addresses", {"walletId": wallet_id}, ("address", "isChange", "createdOn"))

        def order(d: Doc) -> tuple:
            c = d.get("createdOn")
            # the server's sort: missing/null before numbers, then _id (insertion) order
            return (isinstance(c, (int, float)), c if isinstance(c, (int, float)) else 0, d["_id"])

        docs.sort(key=order)
        return [{k: d[k] for k in ("address", "isChange") if k in d} for d in docs]

    async def _find_projected(self, coll: str, query: Doc, fields: Iterable[str]) -> list[Doc]:
        """Like _find, unsorted, only ``fields`` (+ ``_id``, for the caller's ordering)."""
        cursor = self._c(coll).find(query, {f: True for f in fields})
        return await as_deferred(cursor.to_list(None))

    async def fetch_new_addresses(self, wallet_id: str, from_ts: int) -> list[Doc]:
        return await self._find(
            "addresses",
            {"walletId": wallet_id, "createdOn": {"$gte": from_ts}},
            sort=[("createdOn", ASCENDING), ("_id", ASCENDING)],
        )

    async def count_addresses(self, wallet_id: str) -> int:
        return await as_deferred(self._c("addresses").count_documents({"walletId": wallet_id}))

    async def store_address(self, address: Doc) -> None:
        """Replace an existing address by (walletId, address); no insert (reference semantics)."""
        await self._replace("addresses", {"walletId": address["walletId"], "address": address["address"]}, address, upsert=False)

    async def store_address_and_wallet(
        self,
        wallet: Doc,
        addresses: list[Doc],
        notifications: Iterable[Doc] = (),
        renew_id: Optional[Callable[[], str]] = None,
    ) -> list[Doc]:
        """Insert new addresses, then store the wallet whose index produced
        them, then insert ``notifications`` (e.g. NewAddress), atomically (see
        :meth:`_store_with_notifications`). Returns the stored notifications.

        Addresses already stored for the wallet are skipped (never duplicated).
        """
        wallet_id = wallet["id"]

        async def work(session):
            for a in addresses:
                await self._c("addresses").update_one(
                    {"walletId": a["walletId"], "address": a["address"]},
                    {"$setOnInsert": {k: v for k, v in a.items() if k != "_id"}},
                    upsert=True,
                    session=session,
                )
            doc = {k: v for k, v in wallet.items() if k not in ("_id", "_rev")}
            await self._c("wallets").replace_one({"id": wallet_id}, {**doc, "_rev": _new_rev()}, upsert=True, session=session)

        return await self._store_with_notifications(work, notifications, renew_id) or []

    async def fetch_address_by_wallet_id(self, wallet_id: str, address: str) -> Optional[Doc]:
        return await self._find_one("addresses", {"walletId": wallet_id, "address": address})

    async def fetch_address_by_coin(self, coin: str, address: str) -> Optional[Doc]:
        """The address record for this string; when several wallets share it, the one of ``coin``."""
        docs = await self._find("addresses", {"address": address})
        if not docs:
            return None
        if len(docs) == 1:
            return docs[0]
        for d in docs:
            if d.get("coin", "btc") == coin:
                return d
        return None

    async def fetch_addresses_by_script(self, scripts: Iterable[str]) -> list[Doc]:
        """Address records whose ``scriptPubKey`` (hex) is in ``scripts`` (monitors)."""
        return await self._find("addresses", {"scriptPubKey": {"$in": list(scripts)}})

    async def fetch_all_addresses(self, coin: str, network: str) -> list[Doc]:
        return await self._find("addresses", {"coin": coin, "network": network})

    async def find_addresses(self, coin: str, addresses: Iterable[str]) -> list[Doc]:
        return await self._find("addresses", {"coin": coin, "address": {"$in": list(addresses)}})

    # -- preferences ---------------------------------------------------------

    async def fetch_preferences(self, wallet_id: str, copayer_id: Optional[str] = None):
        """One copayer's preferences dict (or None), or the list of every copayer's."""
        if copayer_id is not None:
            return await self._find_one("preferences", {"walletId": wallet_id, "copayerId": copayer_id})
        return await self._find("preferences", {"walletId": wallet_id}, sort=[("_id", ASCENDING)])

    async def store_preferences(self, prefs: Doc) -> None:
        await self._replace("preferences", {"walletId": prefs["walletId"], "copayerId": prefs["copayerId"]}, prefs)

    # -- email queue ---------------------------------------------------------

    async def store_email(self, email: Doc) -> None:
        await self._replace("email_queue", {"id": email["id"]}, email)

    async def fetch_unsent_emails(self) -> list[Doc]:
        return await self._find("email_queue", {"status": "fail"})

    async def fetch_email_by_notification(self, notification_id: str) -> Optional[Doc]:
        return await self._find_one("email_queue", {"notificationId": notification_id})

    async def fetch_emails(self, query: Doc) -> list[Doc]:
        return await self._find("email_queue", query, sort=[("id", ASCENDING)])

    # -- cache (spec/services.md §7.3) ---------------------------------------

    async def get_cache(self, wallet_id: Optional[str], type_: str, key: Any = None) -> Optional[Doc]:
        return await self._find_one("cache", {"walletId": wallet_id, "type": type_, "key": key})

    async def set_cache(self, wallet_id: Optional[str], type_: str, key: Any, fields: Doc) -> None:
        """Upsert ``fields`` ($set) into the cache document (walletId, type, key)."""
        await as_deferred(
            self._c("cache").update_one(
                {"walletId": wallet_id, "type": type_, "key": key}, {"$set": fields}, upsert=True
            )
        )

    async def delete_cache(self, wallet_id: Optional[str], type_: str, key: Any = ...) -> None:
        q: Doc = {"walletId": wallet_id, "type": type_}
        if key is not ...:
            q["key"] = key
        await as_deferred(self._c("cache").delete_many(q))

    async def fetch_cache_range(self, wallet_id: str, type_: str, key_min: int, key_max: int) -> list[Doc]:
        """Cache docs with integer keys in [key_min, key_max) (history cache positions)."""
        return await self._find(
            "cache", {"walletId": wallet_id, "type": type_, "key": {"$gte": key_min, "$lt": key_max}}, sort=[("key", ASCENDING)]
        )

    async def soft_reset_tx_history_cache(self, wallet_id: Optional[str] = None) -> None:
        """Mark history caches stale (next read misses); all wallets when wallet_id is None.

        Also renews the status's ``rev``, so a fill that read the status before
        the reset does not mark it updated again (see store_tx_history_cache)
        and readers can tell a reset happened even when it was already stale.
        For one wallet a missing status is created (``isUpdated: false``) for
        the same reason; the global reset only touches existing ones."""
        change = {"$set": {"isUpdated": False, "rev": _new_rev()}}
        if wallet_id is None:
            await as_deferred(self._c("cache").update_many({"type": "historyCacheStatus"}, change))
            return
        await as_deferred(
            self._c("cache").update_many(
                {"walletId": wallet_id, "type": "historyCacheStatus", "key": None}, change, upsert=True
            )
        )

    async def init_tx_history_cache_status(self, wallet_id: str) -> Optional[str]:
        """Make sure the wallet has a history-cache status (a new one is
        ``{isUpdated: false, rev}``) and return its ``rev`` (None for a status
        written before revs existed). A fill that found no status calls this
        before asking the explorer, then stores with this rev as expected."""
        rev = _new_rev()
        q: Doc = {"walletId": wallet_id, "type": "historyCacheStatus", "key": None}
        res = await as_deferred(
            self._c("cache").update_one(q, {"$setOnInsert": {"isUpdated": False, "rev": rev}}, upsert=True)
        )
        if res.upserted_id is not None:
            return rev
        doc = await self._find_one("cache", q)
        return (doc or {}).get("rev")

    async def store_tx_history_cache(
        self, wallet_id: str, first_position: int, txs: list[Doc], status: Doc, expected_rev: Optional[str]
    ) -> bool:
        """One history-cache fill: ``txs`` at positions first_position,
        first_position+1, ... (one batched write), then ``status`` with a
        fresh ``rev`` -- only if the status still has ``expected_rev`` (the rev
        the fill read before asking the explorer; None = a status without
        rev). False when it changed meanwhile (soft reset, scan, another
        fill): the positions are still written (a position always holds the
        same tx, they count from the oldest), the status is left alone."""
        if txs:
            ops = [
                pymongo.UpdateOne(
                    {"walletId": wallet_id, "type": "historyCache", "key": first_position + i}, {"$set": {"tx": tx}}, upsert=True
                )
                for i, tx in enumerate(txs)
            ]
            await as_deferred(self._c("cache").bulk_write(ops, ordered=True))
        res = await as_deferred(
            self._c("cache").update_one(
                {"walletId": wallet_id, "type": "historyCacheStatus", "key": None, "rev": expected_rev},
                {"$set": {**status, "rev": _new_rev()}},
            )
        )
        return res.matched_count == 1

    async def fetch_history_proposals(
        self, wallet_id: str, txids: Iterable[str], min_ts: Optional[int] = None, max_ts: Optional[int] = None
    ) -> list[Doc]:
        """The proposals a history page merges: those with ``txid`` in ``txids``
        and ``createdOn`` in [min_ts, max_ts], newest first (the page's subset of
        fetch_txs(wallet_id, min_ts, max_ts), same order)."""
        q: Doc = {"walletId": wallet_id, "txid": {"$in": list(txids)}}
        q.update(_ts_range("createdOn", min_ts, max_ts))
        return await self._find("txs", q, sort=[("createdOn", DESCENDING)])

    async def fetch_history_notes(self, wallet_id: str, txids: Iterable[str], min_ts: Optional[int] = None) -> list[Doc]:
        """The notes a history page merges: those of ``txids`` edited at or after
        min_ts (the page's subset of fetch_tx_notes(wallet_id, min_ts))."""
        q: Doc = {"walletId": wallet_id, "txid": {"$in": list(txids)}}
        q.update(_ts_range("editedOn", min_ts, None))
        return await self._find("tx_notes", q)

    async def clear_tx_history_cache(self, wallet_id: str) -> None:
        await as_deferred(
            self._c("cache").delete_many({"walletId": wallet_id, "type": {"$in": ["historyCache", "historyCacheStatus"]}})
        )

    # -- tx notes --------------------------------------------------------------

    async def fetch_tx_note(self, wallet_id: str, txid: str) -> Optional[Doc]:
        return await self._find_one("tx_notes", {"walletId": wallet_id, "txid": txid})

    async def fetch_tx_notes(self, wallet_id: str, min_ts: Optional[float] = None) -> list[Doc]:
        q: Doc = {"walletId": wallet_id}
        if min_ts is not None:
            q["editedOn"] = {"$gte": min_ts}
        return await self._find("tx_notes", q)

    async def store_tx_note(self, note: Doc) -> None:
        await self._replace("tx_notes", {"walletId": note["walletId"], "txid": note["txid"]}, note)

    # -- sessions --------------------------------------------------------------

    async def get_session(self, copayer_id: str) -> Optional[Doc]:
        return await self._find_one("sessions", {"copayerId": copayer_id})

    async def store_session(self, session: Doc) -> None:
        await self._replace("sessions", {"copayerId": session["copayerId"]}, session)

    async def remove_session(self, copayer_id: str) -> None:
        await as_deferred(self._c("sessions").delete_many({"copayerId": copayer_id}))

    # -- push & confirmation subscriptions --------------------------------------

    async def fetch_push_notification_subs(self, copayer_id: str) -> list[Doc]:
        return await self._find("push_notification_subs", {"copayerId": copayer_id}, sort=[("_id", ASCENDING)])

    async def store_push_notification_sub(self, sub: Doc) -> None:
        await self._replace("push_notification_subs", {"copayerId": sub["copayerId"], "token": sub["token"]}, sub)

    async def remove_push_notification_sub(self, copayer_id: str, token: str) -> int:
        r = await as_deferred(self._c("push_notification_subs").delete_many({"copayerId": copayer_id, "token": token}))
        return r.deleted_count

    async def remove_push_notification_token(self, token: str) -> int:
        """Remove a device token from every copayer (the provider said it is unregistered)."""
        r = await as_deferred(self._c("push_notification_subs").delete_many({"token": token}))
        return r.deleted_count

    async def fetch_active_tx_confirmation_subs(
        self, copayer_id: Optional[str] = None, txids: Optional[Iterable[str]] = None
    ) -> list[Doc]:
        q: Doc = {"isActive": True}
        if copayer_id is not None:
            q["copayerId"] = copayer_id
        if txids is not None:
            q["txid"] = {"$in": list(txids)}
        return await self._find("tx_confirmation_subs", q)

    async def store_tx_confirmation_sub(self, sub: Doc) -> None:
        await self._replace("tx_confirmation_subs", {"copayerId": sub["copayerId"], "txid": sub["txid"]}, sub)

    async def remove_tx_confirmation_sub(self, copayer_id: str, txid: str) -> int:
        r = await as_deferred(self._c("tx_confirmation_subs").delete_many({"copayerId": copayer_id, "txid": txid}))
        return r.deleted_count

    # -- durable stream (added) -------------------------------------------------

    async def get_stream_cursor(self, consumer: str) -> str:
        """Last notification id handled by ``consumer`` ("" when it never ran)."""
        doc = await self._find_one("stream_cursors", {"consumer": consumer})
        return doc["lastId"] if doc else ""

    async def set_stream_cursor(self, consumer: str, last_id: str) -> None:
        """Advance (never rewind) the consumer's cursor."""
        await as_deferred(
            self._c("stream_cursors").update_one(
                {"consumer": consumer}, {"$max": {"lastId": last_id}, "$set": {"updatedOn": _now()}}, upsert=True
            )
        )

    async def claim_delivery(self, consumer: str, notification_id: str, extra: Optional[Doc] = None) -> bool:
        """Record that ``consumer`` takes ``notification_id``; False if it was already taken.

        The unique (consumer, notificationId) index makes this the idempotency
        key: of several racing consumers exactly one gets True.
        """
        try:
            await as_deferred(
                self._c("stream_deliveries").insert_one(
                    {"consumer": consumer, "notificationId": notification_id, "createdOn": _now(), **(extra or {})}
                )
            )
            return True
        except DuplicateKeyError:
            return False

    async def update_delivery(self, consumer: str, notification_id: str, fields: Doc) -> None:
        await as_deferred(
            self._c("stream_deliveries").update_one(
                {"consumer": consumer, "notificationId": notification_id}, {"$set": fields}
            )
        )

    async def fetch_delivery(self, consumer: str, notification_id: str) -> Optional[Doc]:
        return await self._find_one("stream_deliveries", {"consumer": consumer, "notificationId": notification_id})

    # -- monitor cursors (added) -------------------------------------------------

    async def get_monitor_cursor(self, coin: str, network: str) -> Optional[Doc]:
        """``{coin, network, height, hash, ...}`` of the last block a monitor applied, or None."""
        return await self._find_one("monitor_cursors", {"coin": coin, "network": network})

    async def set_monitor_cursor(self, coin: str, network: str, height: int, block_hash: str, **extra: Any) -> None:
        await as_deferred(
            self._c("monitor_cursors").update_one(
                {"coin": coin, "network": network},
                {"$set": {"height": height, "hash": block_hash, "updatedOn": _now(), **extra}},
                upsert=True,
            )
        )

    # -- ETH / TRY chain data (fork collections) ----------------------------------

    async def store_eth_tx(self, tx: Doc) -> None:
        await as_deferred(self._c("eth_txs").update_one({"hash": tx["hash"]}, {"$set": tx}, upsert=True))

    async def store_try_tx(self, tx: Doc) -> None:
        await as_deferred(
            self._c("try_txs").update_one({"hash": tx["hash"], "logIndex": tx["logIndex"]}, {"$set": tx}, upsert=True)
        )

    async def fetch_eth_txs(self, addresses: Iterable[str]) -> list[Doc]:
        a = list(addresses)
        return await self._find("eth_txs", {"$or": [{"from": {"$in": a}}, {"to": {"$in": a}}]})

    async def fetch_try_txs(self, addresses: Iterable[str]) -> list[Doc]:
        a = list(addresses)
        return await self._find("try_txs", {"$or": [{"from": {"$in": a}}, {"to": {"$in": a}}]})

    async def remove_chain_txs_from_height(self, collection: str, height: int) -> int:
        """Reorg support: delete indexed txs of blocks at or above ``height``."""
        r = await as_deferred(self._c(collection).delete_many({"blockNumber": {"$gte": height}}))
        return r.deleted_count

    # -- outboxes: email_queue, push_deliveries, webhook_deliveries (added) -------
    # A row is one (notification, recipient) delivery with a deterministic unique
    # ``id``; ``status`` pending -> sent | fail, ``nextAttemptOn`` (s) when it is
    # due again (null: never), ``leaseUntil`` (s) while one sender works on it.

    async def outbox_insert(self, collection: str, rows: list[Doc]) -> int:
        """Insert rows in one command; rows whose ``id`` exists are skipped. Returns how many were new."""
        if not rows:
            return 0
        try:
            r = await as_deferred(self._c(collection).insert_many([dict(x) for x in rows], ordered=False))
            return len(r.inserted_ids)
        except pymongo.errors.BulkWriteError as e:
            if any(err.get("code") != 11000 for err in e.details.get("writeErrors", [])):
                raise
            return e.details.get("nInserted", 0)

    async def outbox_lease(self, collection: str, row_id: str, now: float, lease_seconds: float) -> Optional[Doc]:
        """Take the row for ``lease_seconds`` if it is not sent and nobody holds it; None otherwise."""
        return _clean(
            await as_deferred(
                self._c(collection).find_one_and_update(
                    {
                        "id": row_id,
                        "status": {"$ne": "sent"},
                        "$or": [{"leaseUntil": None}, {"leaseUntil": {"$lt": now}}],
                    },
                    {"$set": {"leaseUntil": now + lease_seconds}},
                    return_document=ReturnDocument.AFTER,
                )
            )
        )

    async def outbox_update(self, collection: str, row_id: str, fields: Doc) -> None:
        await as_deferred(self._c(collection).update_one({"id": row_id}, {"$set": fields}))

    async def outbox_due(self, collection: str, now: float, limit: int = 100) -> list[Doc]:
        """Unsent rows whose ``nextAttemptOn`` has come and that nobody holds, in (notificationId, seq) order."""
        return await self._find(
            collection,
            {
                "status": {"$ne": "sent"},
                "nextAttemptOn": {"$lte": now},
                "$or": [{"leaseUntil": None}, {"leaseUntil": {"$lt": now}}],
            },
            sort=[("notificationId", ASCENDING), ("seq", ASCENDING)],
            limit=limit,
        )

    async def outbox_find(self, collection: str, query: Doc) -> list[Doc]:
        return await self._find(collection, query, sort=[("notificationId", ASCENDING), ("seq", ASCENDING)])

    # -- webhooks (added) ------------------------------------------------------------

    async def store_webhook(self, hook: Doc) -> None:
        """Upsert the (walletId, copayerId) registration."""
        await self._replace("webhooks", {"walletId": hook["walletId"], "copayerId": hook["copayerId"]}, hook)

    async def fetch_webhooks(self, wallet_id: str, copayer_id: Optional[str] = None) -> list[Doc]:
        q: Doc = {"walletId": wallet_id}
        if copayer_id is not None:
            q["copayerId"] = copayer_id
        return await self._find("webhooks", q, sort=[("createdOn", ASCENDING), ("id", ASCENDING)])

    async def fetch_webhook(self, webhook_id: str) -> Optional[Doc]:
        return await self._find_one("webhooks", {"id": webhook_id})

    async def remove_webhook(self, wallet_id: str, copayer_id: str, webhook_id: str) -> int:
        r = await as_deferred(
            self._c("webhooks").delete_many({"walletId": wallet_id, "copayerId": copayer_id, "id": webhook_id})
        )
        return r.deleted_count

    async def fetch_webhook_deliveries(self, webhook_id: str, limit: int = 50) -> list[Doc]:
        """Newest first."""
        return await self._find(
            "webhook_deliveries", {"webhookId": webhook_id}, sort=[("createdOn", DESCENDING), ("id", DESCENDING)], limit=limit
        )

    # -- fiat rates (spec/services.md §6; history: one document per provider, coin, code, fetch) --

    async def store_fiat_rates(self, provider: str, coin: str, rates: Iterable[Doc], ts: int) -> int:
        """Insert one ``{provider, coin, code, ts, value}`` document per rate; never overwrites.

        rates: ``[{code: str, value: float}]`` (value = fiat per 1 coin); ts: int, epoch ms of
        the fetch. Returns the number of documents inserted.
        """
        docs = [{"provider": provider, "coin": coin, "code": r["code"], "ts": ts, "value": r["value"]} for r in rates]
        if not docs:
            return 0
        await as_deferred(self._c("fiat_rates").insert_many(docs, ordered=False))
        return len(docs)

    async def fetch_fiat_rate(self, provider: str, code: str, ts: int, coin: str = "btc") -> Optional[Doc]:
        """Newest ``{provider, coin, code, ts, value}`` with ``ts`` <= the given ts (epoch ms), or None."""
        return await self._find_one(
            "fiat_rates",
            {"provider": provider, "coin": coin, "code": code, "ts": {"$lte": ts}},
            sort=[("ts", DESCENDING)],
        )

    # -- block monitors (added; bcmonitor) ------------------------------------------

    async def find_notification(self, wallet_id: str, type_: str, match: Optional[Doc] = None) -> Optional[Doc]:
        """One notification of ``wallet_id`` and ``type_`` whose fields equal ``match``
        (dotted keys, e.g. ``{"data.txid": t, "data.address": a}``), or None (monitor dedup)."""
        return await self._find_one("notifications", {"walletId": wallet_id, "type": type_, **(match or {})})

    async def fetch_tx_confirmation_subs_by_block(self, block_hashes: Iterable[str]) -> list[Doc]:
        """Subscriptions a monitor fired for one of these blocks (``confirmedBlock``; reorg undo)."""
        return await self._find("tx_confirmation_subs", {"confirmedBlock": {"$in": list(block_hashes)}})

    async def fetch_address_scripts(
        self, since: Optional[int] = None, wallet_ids: Optional[Iterable[str]] = None
    ) -> list[Doc]:
        """``[{scriptPubKey, coin?, network?, isChange?}]`` of the address records that
        have a ``scriptPubKey`` (the BTC monitor's in-memory watch set; only these
        fields are read). All of them by default; with ``since`` (unix s) only those with
        ``createdOn >= since`` (createdOn index); with ``wallet_ids`` only those of
        these wallets (walletId index). ``coin``/``network`` are absent when the
        record has none (callers apply the defaults)."""
        # no ``scriptPubKey: {$exists: true}`` in the query: SecantusDB then scans the
        # whole collection instead of using the createdOn / walletId index
        q: Doc = {}
        if since is not None:
            q["createdOn"] = {"$gte": since}
        if wallet_ids is not None:
            q["walletId"] = {"$in": list(wallet_ids)}

        async def go():
            cursor = self._c("addresses").find(q, {"_id": 0, "scriptPubKey": 1, "coin": 1, "network": 1, "isChange": 1})
            return [d for d in await cursor.to_list(None) if d.get("scriptPubKey")]

        return await as_deferred(go())

    async def fetch_scanning_wallet_ids(self) -> list[str]:
        """Ids of the wallets whose ``scanStatus`` is ``"running"`` (scanStatus index)."""
        async def go():
            cursor = self._c("wallets").find({"scanStatus": "running"}, {"_id": 0, "id": 1})
            return [d["id"] for d in await cursor.to_list(None) if "id" in d]

        return await as_deferred(go())

    async def fetch_accepted_txs(self) -> list[Doc]:
        """Every proposal (any wallet) with ``status == "accepted"`` (signed, not yet
        known broadcast; status index): a block monitor intersects their txids with
        a block's instead of one :meth:`fetch_tx_by_hash` per transaction."""
        return await self._find("txs", {"status": "accepted"})

    async def fetch_notifications_for_txids(
        self, type_: str, wallet_ids: Iterable[str], txids: Iterable[str]
    ) -> list[Doc]:
        """``[{walletId, data}]`` of the notifications of ``type_`` of these wallets
        whose ``data.txid`` is in ``txids`` (monitor dedup for a whole block; one
        query instead of one :meth:`find_notification` per payment)."""
        q = {"walletId": {"$in": list(wallet_ids)}, "type": type_, "data.txid": {"$in": list(txids)}}

        async def go():
            return await self._c("notifications").find(q, {"_id": 0, "walletId": 1, "data": 1}).to_list(None)

        return await as_deferred(go())

    async def soft_reset_tx_history_caches(self, wallet_ids: Iterable[str]) -> None:
        """:meth:`soft_reset_tx_history_cache` for several wallets in one write."""
        q = {"walletId": {"$in": list(wallet_ids)}, "type": "historyCacheStatus"}
        await as_deferred(self._c("cache").update_many(q, {"$set": {"isUpdated": False}}))

    async def get_caches(self, wallet_ids: Iterable[str], type_: str, key: Any = None) -> dict[str, Doc]:
        """walletId -> cache document (walletId, type_, key), for those that exist (one query)."""
        docs = await self._find("cache", {"walletId": {"$in": list(wallet_ids)}, "type": type_, "key": key})
        return {d["walletId"]: d for d in docs}

    async def set_caches(self, type_: str, key: Any, fields_by_wallet: dict[str, Doc]) -> None:
        """:meth:`set_cache` (upsert, ``$set``) for several wallets in one bulk write."""
        if not fields_by_wallet:
            return
        ops = [
            pymongo.UpdateOne({"walletId": w, "type": type_, "key": key}, {"$set": fields}, upsert=True)
            for w, fields in fields_by_wallet.items()
        ]
        await as_deferred(self._c("cache").bulk_write(ops, ordered=False))

    # -- durable stream: recovery of unfinished deliveries (added; bws/delivery/stream.py) --

    async def fetch_due_deliveries(
        self, consumer: str, claimed_before_ms: int, now_ms: int, limit: int = 100
    ) -> list[Doc]:
        """Deliveries of ``consumer`` to run again: ``state`` "claimed" with ``claimedAt`` <
        ``claimed_before_ms`` (the claimer died), or "failed" with ``retryAt`` <= ``now_ms``."""
        return await self._find(
            "stream_deliveries",
            {
                "consumer": consumer,
                "$or": [
                    {"state": "claimed", "claimedAt": {"$lt": claimed_before_ms}},
                    {"state": "failed", "retryAt": {"$lte": now_ms}},
                ],
            },
            sort=[("notificationId", ASCENDING)],
            limit=limit,
        )

    async def retake_delivery(self, consumer: str, notification_id: str, expect: Doc, fields: Doc) -> bool:
        """Compare-and-set on a delivery: ``$set`` ``fields`` only if it still matches ``expect``.

        True for exactly one of several processes racing to take over the same delivery.
        """
        r = await as_deferred(
            self._c("stream_deliveries").update_one(
                {"consumer": consumer, "notificationId": notification_id, **expect}, {"$set": fields}
            )
        )
        return r.modified_count == 1

    async def fetch_notification_by_id(self, notification_id: str) -> Optional[Doc]:
        return await self._find_one("notifications", {"id": notification_id})

    # -- stats (GET /v1/stats, spec/api.md §4.28) --------------------------------

    async def fetch_stats_wallets(self, coin: str, network: str, from_ts: int, to_ts: int) -> list[Doc]:
        """Wallets of coin/network created in [from_ts, to_ts] (unix s): ``[{createdOn, coin}]``.
        Legacy wallets without ``coin`` count as btc."""
        coin_q: Doc = {"$in": [coin, None]} if coin == "btc" else coin
        return await self._find(
            "wallets",
            {"network": network, "coin": coin_q, "createdOn": {"$gte": from_ts, "$lte": to_ts}},
            sort=[("createdOn", ASCENDING)],
        )

    async def fetch_stats_txps(self, coin: str, network: str, from_ts: int, to_ts: int) -> list[Doc]:
        """Broadcast proposals of coin/network with ``broadcastedOn`` in [from_ts, to_ts] (unix s)."""
        coin_q: Doc = {"$in": [coin, None]} if coin == "btc" else coin
        return await self._find(
            "txs",
            {"network": network, "coin": coin_q, "status": "broadcasted",
             "broadcastedOn": {"$gte": from_ts, "$lte": to_ts}},
            sort=[("broadcastedOn", ASCENDING)],
        )

    # -- proposals with a new change address (createTx, spec/api.md §6.9) ----------

    async def store_tx_with_address_and_wallet(self, txp: Doc, wallet: Optional[Doc], addresses: list[Doc]) -> None:
        """Store a new proposal together with the change address(es) it uses and
        the wallet whose change index produced them, atomically (one
        transaction when the server has them; otherwise addresses, wallet, then
        the proposal last, so a crash leaves at most an unused address).

        txp must carry ``isPending``; wallet None / addresses [] store only the
        proposal. Addresses already stored for the wallet are not duplicated.
        """

        async def work(session):
            for a in addresses:
                await self._c("addresses").update_one(
                    {"walletId": a["walletId"], "address": a["address"]},
                    {"$setOnInsert": {k: v for k, v in a.items() if k != "_id"}},
                    upsert=True,
                    session=session,
                )
            if wallet is not None:
                doc = {k: v for k, v in wallet.items() if k not in ("_id", "_rev")}
                await self._c("wallets").replace_one(
                    {"id": doc["id"]}, {**doc, "_rev": _new_rev()}, upsert=True, session=session
                )
            tdoc = {k: v for k, v in txp.items() if k != "_id"}
            await self._c("txs").replace_one(
                {"walletId": tdoc["walletId"], "id": tdoc["id"]}, tdoc, upsert=True, session=session
            )

        await self._in_transaction(work)

    # -- EVM tx index, any chain (eth_txs / tri_txs / try_txs; issue 6) -----------

    _EVM_TX_COLLECTIONS = {"eth_txs": ("hash",), "tri_txs": ("hash",), "try_txs": ("hash", "logIndex")}

    async def store_chain_tx(self, collection: str, tx: Doc) -> None:
        """Upsert one indexed EVM tx (``$set``) by its key: ``hash`` (eth_txs,
        tri_txs) or ``(hash, logIndex)`` (try_txs)."""
        keys = self._EVM_TX_COLLECTIONS[collection]
        await as_deferred(
            self._c(collection).update_one({k: tx[k] for k in keys}, {"$set": tx}, upsert=True)
        )

    async def fetch_chain_txs(self, collection: str, addresses: Iterable[str]) -> list[Doc]:
        """Indexed txs of ``collection`` whose ``from`` or ``to`` is in ``addresses``."""
        self._EVM_TX_COLLECTIONS[collection]
        a = list(addresses)
        return await self._find(collection, {"$or": [{"from": {"$in": a}}, {"to": {"$in": a}}]})

    async def delete_chain_tx(self, collection: str, key: Doc) -> None:
        """Delete the indexed tx(s) matching ``key`` (e.g. ``{hash, logIndex}``)."""
        self._EVM_TX_COLLECTIONS[collection]
        await as_deferred(self._c(collection).delete_many(dict(key)))

    # -- process registry (added; bws/process_registry.py) ----------------------------

    async def register_process(self, entry: Doc) -> Doc:
        """Insert (or overwrite) the entry ``{id, kind, ...}`` of a running process;
        ``startedAt`` and ``heartbeatAt`` are set to the database server's clock
        (one clock for every host, so ages compare without clock skew). Returns
        the stored entry, datetimes naive UTC."""
        fields = {k: v for k, v in entry.items() if k not in ("_id", "startedAt", "heartbeatAt")}
        return await as_deferred(self._c("processes").find_one_and_update(
            {"id": entry["id"]},
            {"$set": fields, "$currentDate": {"startedAt": True, "heartbeatAt": True}},
            projection=_NO_ID, upsert=True, return_document=ReturnDocument.AFTER,
        ))

    async def touch_process(self, process_id: str) -> Optional[Doc]:
        """Set the entry's ``heartbeatAt`` to the server's clock; the entry, or None when it is gone."""
        return await as_deferred(self._c("processes").find_one_and_update(
            {"id": process_id}, {"$currentDate": {"heartbeatAt": True}},
            projection=_NO_ID, return_document=ReturnDocument.AFTER,
        ))

    async def fetch_processes(self, kind: str) -> list[Doc]:
        """Every registered entry of ``kind`` (e.g. ``"bws"``), live or stale, oldest first."""
        return await self._find("processes", {"kind": kind}, sort=[("startedAt", ASCENDING)])

    async def remove_process(self, process_id: str) -> None:
        """Delete one process entry (clean shutdown, refused start, a dead pid)."""
        await as_deferred(self._c("processes").delete_one({"id": process_id}))


async def open_storage(uri: str) -> Storage:
    """Create a Storage for ``uri`` and connect it (indexes created)."""
    return await Storage(uri).connect()
