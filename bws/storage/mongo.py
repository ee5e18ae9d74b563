"""The MongoDB connection every repository of bws/storage/ shares.

:class:`Mongo` owns the driver client (pymongo's ``AsyncMongoClient``), the
database, the codecs and the indexes, and gives the repositories four things:
reads (:meth:`Mongo.find`, :meth:`Mongo.find_one`), awaiting any driver call
(:meth:`Mongo.run`), replace-upserts (:meth:`Mongo.replace`) and multi-document
transactions (:meth:`Mongo.in_transaction`).

Errors: every driver call goes through :meth:`Mongo.run` or
:meth:`Mongo.in_transaction`, which turn "database unreachable or too slow"
into :class:`bws.errors.StorageUnavailable` and "a transactional write kept
conflicting" into :class:`bws.errors.StorageBusy` (the driver's error is the
``__cause__``), so no code outside bws/storage/ needs pymongo's exception
types. Other driver errors (a duplicate key, a refused operation) pass
unchanged: the repositories that expect them catch them.

The same code runs against real MongoDB in production and against the
embedded SecantusDB server (``python -m ops.embedded_db``) by default and in
tests. Collections, keys and indexes follow the reference
(docs/spec/services.md §7.2); collections we added are marked *added*.
"""

from __future__ import annotations

import decimal
import logging
import uuid
from typing import Any, Awaitable, Callable, Optional

import pymongo
from bson.codec_options import CodecOptions, TypeDecoder, TypeRegistry
from bson.decimal128 import Decimal128
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.errors import ConnectionFailure, ExecutionTimeout, OperationFailure, PyMongoError

from bws.aio import as_deferred
from bws.errors import StorageBusy, StorageUnavailable

log = logging.getLogger(__name__)

Doc = dict[str, Any]

#: collection -> indexes (docs/spec/services.md §7.2). ``unique`` where the key must not repeat.
INDEXES: dict[str, list[IndexModel]] = {
    "wallets": [
        IndexModel([("id", ASCENDING)], unique=True),
        # added: the BTC monitor asks for wallets whose scan is running (WalletsRepo.fetch_scanning_ids)
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
        # added: the BTC monitor looks for accepted proposals once per block (ProposalsRepo.fetch_accepted)
        IndexModel([("status", ASCENDING)]),
    ],
    "addresses": [
        IndexModel([("walletId", ASCENDING), ("createdOn", ASCENDING)]),
        IndexModel([("address", ASCENDING)]),
        IndexModel([("walletId", ASCENDING), ("address", ASCENDING)], unique=True),
        # added: monitors match outputs by scriptPubKey, never by address text
        IndexModel([("scriptPubKey", ASCENDING)], sparse=True),
        # added: the BTC monitor's incremental refresh of its watched scripts (AddressesRepo.fetch_scripts)
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
    "push_subs_v2": [IndexModel([("copayerId", ASCENDING), ("externalUserId", ASCENDING)], unique=True)],
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

NO_ID = {"_id": False}

#: Seconds the index builds of :meth:`Mongo.create_indexes` may take (instead of timeoutMS).
INDEX_BUILD_TIMEOUT = 3600.0

#: default ``transaction_timeout_ms`` (``storageOpts.mongoDb.transactionTimeoutMS``, bws/config/options.py):
#: how long a transactional write may take, retries of transient errors included
TRANSACTION_TIMEOUT_MS = 5000


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


def clean(doc: Optional[Doc]) -> Optional[Doc]:
    """The document without MongoDB's ``_id`` (which never leaves bws/storage/)."""
    if doc is not None:
        doc.pop("_id", None)
    return doc


def ts_range(field: str, min_ts: Optional[int], max_ts: Optional[int]) -> Doc:
    """``{field: {$gte: min_ts, $lte: max_ts}}`` with the absent bounds left out ({} when both are)."""
    rng = {op: v for op, v in (("$gte", min_ts), ("$lte", max_ts)) if v is not None}
    return {field: rng} if rng else {}


def new_rev() -> str:
    """A fresh write token (a wallet's ``_rev``, a history-cache status's ``rev``)."""
    return uuid.uuid4().hex


def wallet_doc(wallet: Doc) -> Doc:
    """The document a wallet write stores: the wallet with a renewed ``_rev``
    (bws/storage/addresses.py AddressesRepo.fetch_version explains why every
    wallet write renews it)."""
    doc = {k: v for k, v in wallet.items() if k not in ("_id", "_rev")}
    return {**doc, "_rev": new_rev()}


def _transient(e: PyMongoError) -> bool:
    """A transaction error worth retrying later: the driver's labels for a
    transient failure or a commit of unknown outcome, or its client-side
    timeout ending the retries (``ExecutionTimeout``)."""
    return (
        isinstance(e, ExecutionTimeout)
        or e.has_error_label("TransientTransactionError")
        or e.has_error_label("UnknownTransactionCommitResult")
    )


def storage_error(e: PyMongoError) -> Exception:
    """The error a caller outside bws/storage/ sees for the driver's ``e``:
    StorageUnavailable for an unreachable or too slow database
    (``ConnectionFailure``: server selection timeout, AutoReconnect, network
    timeout; any error whose ``timeout`` is true, e.g. ExecutionTimeout when
    ``storageOpts.mongoDb.timeoutMS`` runs out), StorageBusy for a write still
    labelled ``TransientTransactionError``, ``e`` itself otherwise."""
    if isinstance(e, ConnectionFailure) or e.timeout:
        return StorageUnavailable(str(e).split(",", 1)[0][:200])
    if e.has_error_label("TransientTransactionError"):
        return StorageBusy(str(e)[:200])
    return e


class Mongo:
    """One client and database; the repositories' shared access to them.

    uri: ``mongodb://host:port/dbname`` (the database name comes from the URI,
    default ``bws``). server_selection_timeout_ms: how long an operation waits
    for a reachable server (``storageOpts.mongoDb.serverSelectionTimeoutMS``).
    timeout_ms: pymongo ``timeoutMS``, the most one operation may take in all
    (server selection, connection, retries, server work), then
    StorageUnavailable; None = no limit (``storageOpts.mongoDb.timeoutMS``).
    transaction_timeout_ms: the most a transactional write may take, its
    retries of transient errors included, then StorageBusy
    (``storageOpts.mongoDb.transactionTimeoutMS``).
    """

    def __init__(
        self,
        uri: str,
        *,
        server_selection_timeout_ms: int = 10_000,
        timeout_ms: Optional[int] = None,
        transaction_timeout_ms: int = TRANSACTION_TIMEOUT_MS,
    ):
        self.uri = uri
        self.transaction_timeout_ms = transaction_timeout_ms
        options: Doc = {"serverSelectionTimeoutMS": server_selection_timeout_ms, "tz_aware": False}
        if timeout_ms is not None:
            options["timeoutMS"] = timeout_ms
        self.client: AsyncMongoClient = AsyncMongoClient(uri, **options)
        self.db = self.client.get_default_database("bws", codec_options=CODEC_OPTIONS)
        #: None until the first transaction says whether the server has them
        self._transactions: Optional[bool] = None

    def c(self, name: str):
        """The collection ``name``."""
        return self.db[name]

    async def run(self, awaitable: Awaitable[Any]) -> Any:
        """Await a driver call (or a coroutine of driver calls) from Twisted
        code; driver errors mapped by :func:`storage_error`."""
        try:
            return await as_deferred(awaitable)
        except PyMongoError as e:
            mapped = storage_error(e)
            if mapped is e:
                raise
            raise mapped from e

    # -- lifecycle -----------------------------------------------------------

    async def create_indexes(self) -> None:
        """Check the server answers and create every index of :data:`INDEXES`
        (idempotent; safe from several processes at once)."""
        await self.ping()

        async def build() -> None:
            # Exempt from the per-operation timeoutMS: building a new index on a large
            # collection after an upgrade takes as long as it takes, and a timeout
            # would abort the build and fail every start-up.
            with pymongo.timeout(INDEX_BUILD_TIMEOUT):
                for name, indexes in INDEXES.items():
                    if indexes:
                        await self.db[name].create_indexes(indexes)

        await self.run(build())

    async def ping(self) -> None:
        """Round-trip to the server; raises StorageUnavailable when it does not answer."""
        await self.run(self.db.command("ping"))

    async def close(self) -> None:
        await self.run(self.client.close())

    async def drop_database(self) -> None:
        await self.run(self.client.drop_database(self.db.name))

    # -- reads and writes ------------------------------------------------------

    async def find(
        self, coll: str, query: Doc, sort=None, limit: int = 0, skip: int = 0, projection: Optional[Doc] = None
    ) -> list[Doc]:
        """Every matching document (without ``_id`` unless ``projection`` says otherwise)."""

        async def go():
            cursor = self.c(coll).find(query, NO_ID if projection is None else projection)
            if sort:
                cursor = cursor.sort(sort)
            if skip:
                cursor = cursor.skip(skip)
            if limit:
                cursor = cursor.limit(limit)
            return await cursor.to_list(None)

        return await self.run(go())

    async def find_one(self, coll: str, query: Doc, sort=None) -> Optional[Doc]:
        return await self.run(self.c(coll).find_one(query, NO_ID, sort=sort))

    async def replace(self, coll: str, query: Doc, doc: Doc, upsert: bool = True) -> None:
        """Replace the document matching ``query`` with ``doc`` (insert it when
        none matches and ``upsert``)."""
        doc = {k: v for k, v in doc.items() if k != "_id"}
        await self.run(self.c(coll).replace_one(query, doc, upsert=upsert))

    async def in_transaction(self, work: Callable[[Any], Awaitable[None]]) -> None:
        """Run ``work(session)`` atomically when the server supports transactions.

        Transient failures are retried by the driver's ``with_transaction``:
        the whole transaction again after a ``TransientTransactionError``
        (e.g. a WriteConflict with the transaction a process killed mid-write
        left open until the server's transaction lifetime ends), the commit
        alone after ``UnknownTransactionCommitResult`` (so it lands at most
        once), with jittered backoff. The driver's client-side timeout
        (``pymongo.timeout``) bounds all of it to ``transaction_timeout_ms``;
        then StorageBusy (StorageUnavailable when the last failure was the
        database being unreachable). ``work`` may therefore run several times
        and must write only through ``session``.

        On a standalone MongoDB (no replica set) transactions are refused; the
        writes then run in order without a session (logged once). Callers
        order their writes so that the last one "commits" (e.g. the wallet
        document after its addresses), which keeps a crash between writes
        harmless.
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
                        # unreachable, not busy: the callers' (and the API's) database-down path
                        raise StorageUnavailable(str(last).split(",", 1)[0][:200]) from last
                    log.warning("storage: transaction still failing after %d ms: %s",
                                self.transaction_timeout_ms, str(last)[:200])
                    raise StorageBusy(f"transaction not committed within {self.transaction_timeout_ms} ms") from e
                else:
                    mapped = storage_error(e)
                    if mapped is e:
                        raise
                    raise mapped from e
        await self.run(work(None))

