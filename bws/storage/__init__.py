"""Storage: the only code that talks to MongoDB.

Rule: **only bws/storage/ imports pymongo or bson.** Every other layer gets
plain dicts with the reference's wire field names (bws/model converts them)
and, for failures, the types of bws/errors.py: StorageUnavailable (database
unreachable or too slow), StorageBusy (a transactional write kept
conflicting), StorageError. MongoDB's ``_id`` never leaves this package.
Every method is ``async def``; drive it from Twisted code with ``await``.

One :class:`Storage` per process owns the connection
(bws/storage/mongo.py: client, codecs, indexes, transactions, error mapping)
and exposes one repository per aggregate:

==========================  =======================================================
``storage.wallets``         wallets and copayer lookups (wallets.py)
``storage.proposals``       transaction proposals (proposals.py)
``storage.addresses``       wallet addresses (addresses.py)
``storage.notifications``   notifications and the store-with-notifications step
                            every announced write uses (notifications.py)
``storage.stream``          durable stream cursors and deliveries (stream.py)
``storage.outbox``          email / push / webhook delivery rows (outbox.py)
``storage.webhooks``        webhook registrations (webhooks.py)
``storage.cache``           balance and history caches, the history soft reset (cache.py)
``storage.chain_index``     the EVM transaction index and block monitor cursors (chain_index.py)
``storage.fiat``            fiat rate history (fiat.py)
``storage.subscriptions``   push and transaction-confirmation subscriptions (subscriptions.py)
``storage.sessions``        login sessions (sessions.py)
``storage.notes``           transaction notes (notes.py)
``storage.preferences``     copayer preferences (preferences.py)
``storage.stats``           the GET /v1/stats reads (stats.py)
``storage.processes``       the process registry (processes.py)
==========================  =======================================================

Rules for old documents (legacy lookups, documents without a coin, the
notification-id floor) live in compat.py only.

Writes that must not be half-done (a wallet and its copayer lookups, addresses
and the wallet index that produced them, a state change and the notifications
announcing it) run in one multi-document transaction; MongoDB needs a replica
set for that, so on a standalone server they fall back to ordered single
writes (logged once at start). Transient transaction errors are retried for a
bounded time, then raised as StorageBusy (mongo.py Mongo.in_transaction).
"""

from __future__ import annotations

from typing import Optional

from bws.storage.addresses import AddressesRepo
from bws.storage.cache import CacheRepo
from bws.storage.chain_index import ChainIndexRepo
from bws.storage.fiat import FiatRepo
from bws.storage.mongo import INDEXES, TRANSACTION_TIMEOUT_MS, Mongo
from bws.storage.notes import NotesRepo
from bws.storage.notifications import NotificationsRepo
from bws.storage.outbox import OutboxRepo
from bws.storage.preferences import PreferencesRepo
from bws.storage.processes import ProcessesRepo
from bws.storage.proposals import ProposalsRepo
from bws.storage.sessions import SessionsRepo
from bws.storage.stats import StatsRepo
from bws.storage.stream import StreamRepo
from bws.storage.subscriptions import SubscriptionsRepo
from bws.storage.wallets import WalletsRepo
from bws.storage.webhooks import WebhooksRepo


class Storage:
    """The process's storage: one connection, one repository per aggregate.

    uri: ``mongodb://host:port/dbname`` (the database name comes from the URI,
    default ``bws``). server_selection_timeout_ms, timeout_ms,
    transaction_timeout_ms: ``storageOpts.mongoDb.serverSelectionTimeoutMS``,
    ``timeoutMS``, ``transactionTimeoutMS`` (bws/config/options.py; bws/storage/mongo.py
    Mongo explains each). Call :meth:`connect` once before use; it creates
    every index (idempotent) and is safe to call from several processes at once.
    """

    def __init__(
        self,
        uri: str,
        *,
        server_selection_timeout_ms: int = 10_000,
        timeout_ms: Optional[int] = None,
        transaction_timeout_ms: int = TRANSACTION_TIMEOUT_MS,
    ):
        self.mongo = m = Mongo(
            uri,
            server_selection_timeout_ms=server_selection_timeout_ms,
            timeout_ms=timeout_ms,
            transaction_timeout_ms=transaction_timeout_ms,
        )
        self.notifications = NotificationsRepo(m)
        self.wallets = WalletsRepo(m, self.notifications)
        self.proposals = ProposalsRepo(m, self.notifications)
        self.addresses = AddressesRepo(m, self.notifications)
        self.stream = StreamRepo(m)
        self.outbox = OutboxRepo(m)
        self.webhooks = WebhooksRepo(m)
        self.cache = CacheRepo(m)
        self.chain_index = ChainIndexRepo(m)
        self.fiat = FiatRepo(m)
        self.subscriptions = SubscriptionsRepo(m)
        self.sessions = SessionsRepo(m)
        self.notes = NotesRepo(m)
        self.preferences = PreferencesRepo(m)
        self.stats = StatsRepo(m)
        self.processes = ProcessesRepo(m)

    @property
    def uri(self) -> str:
        return self.mongo.uri

    async def connect(self) -> "Storage":
        """Check the server answers and create all indexes; returns self."""
        await self.mongo.create_indexes()
        return self

    async def ping(self) -> None:
        """Round-trip to the server (health checks); raises StorageUnavailable when it does not answer."""
        await self.mongo.ping()

    async def close(self) -> None:
        await self.mongo.close()

    async def drop_database(self) -> None:
        """Tests and dev tools only: remove every collection of this database."""
        await self.mongo.drop_database()


__all__ = ["Storage", "INDEXES"]
