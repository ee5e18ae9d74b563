"""ServiceBase: what every WalletService area shares (dependencies, caller
identity, wallet lock, notifications, explorers, argument checks).

No HTTP here: methods take ``opts`` dicts with the reference wire names
(exactly what the client sends as JSON body / query) and return JSON-ready
values (dicts/lists of plain values) or None ("no result": empty body).
Errors are :class:`bws.errors.ClientError` (400/401 on the wire) or
:class:`bws.errors.ServerError` (500 ``{"error": ...}``).

Identity: the shared service object (built once per process) has no caller;
:meth:`ServiceBase.bind` returns a shallow copy acting as one copayer of one
wallet (the reference's ``getInstanceWithAuth``).
"""

from __future__ import annotations

import copy
import inspect
import json
import logging
import time
from typing import Any, Awaitable, Callable, Iterable, Mapping, Optional, TypeVar

from bws.errors import BWSError, Errors, ServerError, bad_request, client_error
from bws.interfaces import run_locked
from bws.model import Notification, NotificationIds, Wallet
from bws.model import constants as C
from bws.model.base import RequestLog
from bws.service.lookups import CopayerLookups, WalletFacts, WalletFactsCache
from bws.service.notifier import Notifier

log = logging.getLogger(__name__)

T = TypeVar("T")

SERVICE_VERSION = "bws-2.5.1"

#: explorers: a mapping ``{(coin, network): explorer}`` or a callable
#: ``(coin, network) -> explorer | None``.
Explorers = Mapping[tuple[str, str], Any] | Callable[[str, str], Any]


async def maybe_await(value: Any) -> Any:
    """Await ``value`` if it is awaitable (coroutine, Deferred, future), else return it."""
    if inspect.isawaitable(value):
        return await value
    return value


class ServiceBase:
    """Dependencies and shared helpers of :class:`bws.service.WalletService`.

    storage: :class:`bws.storage.Storage`; lock: a :class:`bws.interfaces.Lock`;
    broker: a :class:`bws.interfaces.Broker` (or None); explorers: see
    :data:`Explorers`; notifier: the process's
    :class:`bws.service.notifier.Notifier` (stores, then publishes on
    ``broker``); default: one on ``storage`` and ``broker`` with a fresh
    :class:`bws.model.NotificationIds`;
    time_fn: ``() -> float`` unix seconds (tests move time);
    lock_wait: seconds before WALLET_BUSY.
    """

    def __init__(
        self,
        storage: Any,
        lock: Any,
        broker: Any = None,
        explorers: Optional[Explorers] = None,
        *,
        notifier: Any = None,
        time_fn: Callable[[], float] = time.time,
        lock_wait: float = C.LOCK_WAIT_TIME,
        lock_max_hold: float = C.LOCK_EXE_TIME,
        options: Optional[dict] = None,
    ) -> None:
        self.storage = storage
        self.lock = lock
        self.broker = broker
        self.explorers = explorers if explorers is not None else {}
        self.notifier = notifier if notifier is not None else Notifier(storage, broker, NotificationIds())
        self.time_fn = time_fn
        self.lock_wait = lock_wait
        self.lock_max_hold = lock_max_hold
        #: free-form tunables read by service areas (e.g. "maxMainAddressGap")
        self.options: dict = dict(options or {})
        #: per-process caches of immutable facts (shared by bound copies)
        self.copayer_lookups = CopayerLookups(storage)
        self.wallet_facts = WalletFactsCache()
        # caller identity (set by bind())
        self.wallet_id: Optional[str] = None
        self.copayer_id: Optional[str] = None
        self.is_support_staff = False
        self.client_version: Optional[str] = None
        self.user_agent: Optional[str] = None
        #: digest of the caller's signed write (bws.http.auth.request_digest), else None
        self.request_digest: Optional[str] = None

    # ------------------------------------------------------------ identity
    def bind(
        self,
        wallet_id: Optional[str],
        copayer_id: Optional[str],
        *,
        is_support_staff: bool = False,
        client_version: Optional[str] = None,
        user_agent: Optional[str] = None,
        request_digest: Optional[str] = None,
    ):
        """A copy of this service acting as ``copayer_id`` on ``wallet_id``
        (dependencies shared).  request_digest: the signed write being served
        (the replay guard of :meth:`_already_applied`)."""
        other = copy.copy(self)
        other.wallet_id = wallet_id
        other.copayer_id = copayer_id
        other.is_support_staff = is_support_staff
        other.client_version = client_version
        other.user_agent = user_agent
        other.request_digest = request_digest
        return other

    async def _check_copayer(self) -> None:
        """NOT_AUTHORIZED unless the caller is a copayer of the bound wallet
        (support staff bound to another wallet are not; docs/security.md §8,
        finding 3).  Served from the wallet-facts cache; a miss re-reads the
        wallet, which may have gained the copayer since (WALLET_NOT_FOUND)."""
        facts = await self._wallet_facts()
        if self.copayer_id in facts.copayer_names:
            return
        facts = self.wallet_facts.remember(await self._fetch_wallet())
        if self.copayer_id not in facts.copayer_names:
            raise client_error("NOT_AUTHORIZED", "Copayer not in wallet")

    def _already_applied(self, target: Optional[RequestLog]) -> bool:
        """Replay guard of the last-writer-wins writes (tx note, preferences,
        logout; docs/security.md §4).  ``target``: the stored document the
        caller's signed request is about to change, or None.

        True when this very request already made the latest change of
        ``target`` (a re-send: answer as the first time, write nothing).
        NOT_AUTHORIZED "Request already applied" when it changed ``target``
        before and something changed it since: a replay must not undo that
        newer change.  False (go ahead, then ``target.record_request(
        self.request_digest)``) otherwise, and for calls that are not signed
        requests."""
        digest = self.request_digest
        if target is None or not digest or digest not in target.applied_requests:
            return False
        if target.last_request() == digest:
            return True
        raise client_error(
            "NOT_AUTHORIZED",
            "Request already applied: this signed request was used before and would undo a newer change",
        )

    # ------------------------------------------------------------ time
    def now_s(self) -> int:
        """Current time, int unix seconds."""
        return int(self.time_fn())

    def now_ms(self) -> int:
        """Current time, int unix milliseconds."""
        return int(self.time_fn() * 1000)

    # ------------------------------------------------------------ wallet
    async def _fetch_wallet(self, wallet_id: Optional[str] = None) -> Wallet:
        """The wallet (default: the caller's) or ClientError WALLET_NOT_FOUND."""
        doc = await self.storage.wallets.fetch(wallet_id or self.wallet_id)
        if not doc:
            raise Errors.WALLET_NOT_FOUND
        return Wallet.from_dict(doc)

    async def _wallet_facts(self, *, complete: bool = False) -> WalletFacts:
        """The caller's :class:`~bws.service.lookups.WalletFacts`, from the
        per-process cache when possible (``complete``: names and derivation
        strategy needed, trusted only from a complete wallet), else read
        (WALLET_NOT_FOUND)."""
        facts = self.wallet_facts.get(self.wallet_id, complete=complete)
        if facts is None:
            facts = self.wallet_facts.remember(await self._fetch_wallet())
        return facts

    async def _run_locked(self, task: Callable[[], Awaitable[T]], wallet_id: Optional[str] = None) -> T:
        """Run ``task()`` under the wallet lock (default: the caller's wallet)
        (spec §6.17); WALLET_BUSY after ``lock_wait`` seconds."""
        return await run_locked(
            self.lock, wallet_id or self.wallet_id, task, wait_time=self.lock_wait, max_hold=self.lock_max_hold
        )

    # ------------------------------------------------------------ notifications
    async def _notify(
        self,
        type_: str,
        data: dict,
        *,
        is_global: bool = False,
        wallet_id: Optional[str] = None,
        creator_id: Any = ...,
    ) -> dict:
        """Create, store, then publish a notification (spec §5.7, §6.19).

        walletId = ``wallet_id`` or the caller's wallet; creatorId = None for
        global notifications, else ``creator_id`` or the caller.  Returns the
        stored notification dict.  A failure to publish is logged, never raised
        (the database is the source of truth)."""
        n = self._new_notification(type_, data, is_global=is_global, wallet_id=wallet_id, creator_id=creator_id)
        return await self.notifier.notify(n)

    def _new_notification(
        self,
        type_: str,
        data: dict,
        *,
        is_global: bool = False,
        wallet_id: Optional[str] = None,
        creator_id: Any = ...,
    ) -> Notification:
        """The notification :meth:`_notify` would emit, built but not stored
        (for callers that store it in the same transaction as their write:
        ``self.notifier.commit`` / ``notify_with_tx``)."""
        if is_global:
            creator = None
        elif creator_id is not ...:
            creator = creator_id
        else:
            creator = self.copayer_id
        return self.notifier.new(type_, data, wallet_id or self.wallet_id, creator, now_ms=self.now_ms())

    # ------------------------------------------------------------ explorers
    def _explorer(self, coin: str, network: str) -> Any:
        """The explorer for (coin, network); ServerError("Could not get
        blockchain explorer instance") when none is configured."""
        ex = None
        if callable(self.explorers) and not isinstance(self.explorers, Mapping):
            ex = self.explorers(coin, network)
        else:
            ex = self.explorers.get((coin, network))
        if ex is None:
            raise ServerError("Could not get blockchain explorer instance")
        return ex

    async def _explorer_call(self, coin: str, network: str, method: str, *args: Any) -> Any:
        """``await explorer.<method>(*args)``; explorer errors that are not
        already BWS errors become ServerError(message) (500 ``{"error": ...}``)."""
        ex = self._explorer(coin, network)
        try:
            return await maybe_await(getattr(ex, method)(*args))
        except BWSError:
            raise  # ClientError / ServerError (ExplorerError) reach the envelope as they are
        except Exception as e:
            log.warning("explorer %s/%s %s failed: %r", coin, network, method, e)
            raise ServerError(str(e) or type(e).__name__) from e


# ---------------------------------------------------------------- arguments


def check_required(opts: Mapping, fields: Iterable[str]) -> None:
    """Reference ``checkRequired``: every field must be a *present key* (value
    may be null) else BADREQUEST "Required argument <f> missing."."""
    for f in fields:
        if not isinstance(opts, Mapping) or f not in opts:
            raise bad_request(f"Required argument {f} missing.")


def check_length(value: Any, limit: int, field: str) -> None:
    """BADREQUEST "Invalid <field>: longer than <limit> characters" when
    ``value`` (a string, or any other value measured as compact JSON; None is
    never too long) is longer than ``limit`` (bounds in bws/model/constants.py,
    issue 15 finding 5)."""
    if value is None:
        return
    if isinstance(value, str):
        size = len(value)
    else:
        size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str))
    if size > limit:
        raise bad_request(f"Invalid {field}: longer than {limit} characters")


def is_int(value: Any) -> bool:
    """A real integer (bools excluded; 3.0 from JSON counts)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer()


def truthy(value: Any) -> bool:
    """JS truthiness of a JSON value ("", 0, null, false are falsy)."""
    if isinstance(value, float) and value != value:
        return False
    return bool(value)


def query_flag(value: Any) -> bool:
    """Query-string boolean as the reference reads it: ``'1'`` / ``'true'`` -> True."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value in ("1", "true")
