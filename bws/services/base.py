"""Aggregate: what every aggregate service shares (dependencies, per-process
state, wallet lock, notifications, explorers, argument checks).

No HTTP here: methods take ``opts`` dicts with the reference wire names
(exactly what the client sends as JSON body / query) and return JSON-ready
values (dicts/lists of plain values) or None ("no result": empty body).
Errors are :class:`bws.errors.ClientError` (400/401 on the wire) or
:class:`bws.errors.ServerError` (500 ``{"error": ...}``).

Identity: every method of an aggregate takes the authenticated
:class:`~bws.services.context.Caller` as its first argument (the reference's
``getInstanceWithAuth`` result); the objects, built once per process by
:class:`bws.services.Services`, hold no caller.
"""

from __future__ import annotations

import inspect
import json
import logging
from typing import Any, Awaitable, Callable, Iterable, Mapping, Optional, TypeVar

from twisted.internet.interfaces import IReactorTime

from bws.chains.checks import is_int, truthy  # noqa: F401  (re-exported to the service areas)
from bws.chains.rules import find_rules
from bws.errors import BWSError, Errors, ServerError, bad_request, client_error
from bws.interfaces import run_locked
from bws.model import Notification, Wallet
from bws.model import constants as C
from bws.model.base import RequestLog

from .broadcasts import BroadcastMarks
from .context import Caller, Deps, Explorers, State, Tunables
from .lookups import WalletFacts
from .notifier import Notifier

log = logging.getLogger(__name__)

T = TypeVar("T")

SERVICE_VERSION = "bws-2.5.1"


async def maybe_await(value: Any) -> Any:
    """Await ``value`` if it is awaitable (coroutine, Deferred, future), else return it."""
    if inspect.isawaitable(value):
        return await value
    return value


class Aggregate:
    """What every aggregate service (bws/services/<aggregate>.py) shares: the
    process's :class:`~bws.services.context.Deps` and
    :class:`~bws.services.context.State`, and helpers that take the caller
    explicitly (no caller is stored on the object: one object serves every
    request of the process).

    deps: storage (:class:`bws.storage.Storage`), the wallet lock, the broker,
    the one :class:`~bws.services.notifier.Notifier`, the explorers, the clock
    (``IReactorTime``: unix seconds from ``seconds()``) and the typed tunables;
    read through at call time (``Services.lock = ...`` wraps the lock for
    every aggregate, bws/http/metrics.py); state: the per-process caches and
    job tracker; broadcasts: the one mark-broadcast rule
    (bws/services/broadcasts.py, shared with bcmonitor)."""

    def __init__(self, deps: Deps, state: State, broadcasts: BroadcastMarks) -> None:
        self.deps = deps
        self.state = state
        self.broadcasts = broadcasts

    # ------------------------------------------------------------ dependencies
    @property
    def storage(self) -> Any:
        return self.deps.storage

    @property
    def lock(self) -> Any:
        return self.deps.lock

    @property
    def broker(self) -> Any:
        return self.deps.broker

    @property
    def notifier(self) -> Notifier:
        return self.deps.notifier

    @property
    def explorers(self) -> Explorers:
        return self.deps.explorers

    @property
    def clock(self) -> IReactorTime:
        return self.deps.clock

    @property
    def tunables(self) -> Tunables:
        return self.deps.tunables

    @property
    def wallet_facts(self) -> Any:
        return self.state.wallet_facts

    @property
    def copayer_lookups(self) -> Any:
        return self.state.copayer_lookups

    # ------------------------------------------------------------ caller checks
    async def _check_copayer(self, caller: Caller) -> None:
        """NOT_AUTHORIZED unless the caller is a copayer of its wallet
        (support staff acting on another wallet are not; docs/security.md §8,
        finding 3).  Served from the wallet-facts cache; a miss re-reads the
        wallet, which may have gained the copayer since (WALLET_NOT_FOUND)."""
        facts = await self._wallet_facts(caller)
        if caller.copayer_id in facts.copayer_names:
            return
        facts = self.wallet_facts.remember(await self._fetch_wallet(caller.wallet_id))
        if caller.copayer_id not in facts.copayer_names:
            raise client_error("NOT_AUTHORIZED", "Copayer not in wallet")

    def _already_applied(self, caller: Caller, target: Optional[RequestLog]) -> bool:
        """Replay guard of the last-writer-wins writes (tx note, preferences,
        logout; docs/security.md §4).  ``target``: the stored document the
        caller's signed request is about to change, or None.

        True when this very request (``caller.request_digest``) already made
        the latest change of ``target`` (a re-send: answer as the first time,
        write nothing).  NOT_AUTHORIZED "Request already applied" when it
        changed ``target`` before and something changed it since: a replay
        must not undo that newer change.  False (go ahead, then
        ``target.record_request(caller.request_digest)``) otherwise, and for
        calls that are not signed requests."""
        digest = caller.request_digest
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
        return int(self.clock.seconds())

    def now_ms(self) -> int:
        """Current time, int unix milliseconds."""
        return int(self.clock.seconds() * 1000)

    # ------------------------------------------------------------ wallet
    async def _fetch_wallet(self, wallet_id: Optional[str]) -> Wallet:
        """The wallet ``wallet_id`` or ClientError WALLET_NOT_FOUND."""
        doc = await self.storage.wallets.fetch(wallet_id)
        if not doc:
            raise Errors.WALLET_NOT_FOUND
        return Wallet.from_dict(doc)

    async def _wallet_facts(self, caller: Caller, *, complete: bool = False) -> WalletFacts:
        """The caller's :class:`~bws.services.lookups.WalletFacts`, from the
        per-process cache when possible (``complete``: names and derivation
        strategy needed, trusted only from a complete wallet), else read
        (WALLET_NOT_FOUND)."""
        facts = self.wallet_facts.get(caller.wallet_id, complete=complete)
        if facts is None:
            facts = self.wallet_facts.remember(await self._fetch_wallet(caller.wallet_id))
        return facts

    async def _run_locked(self, wallet_id: Optional[str], task: Callable[[], Awaitable[T]]) -> T:
        """Run ``task()`` under the lock of wallet ``wallet_id`` (docs/spec/api.md
        docs/spec/api.md §6.17); ClientError('WALLET_BUSY') after ``deps.lock_wait`` seconds."""
        return await run_locked(
            self.lock, wallet_id, task, wait_time=self.deps.lock_wait, max_hold=self.deps.lock_max_hold
        )

    # ------------------------------------------------------------ notifications
    async def _notify(
        self,
        caller: Caller,
        type_: str,
        data: dict,
        *,
        is_global: bool = False,
        wallet_id: Optional[str] = None,
        creator_id: Any = ...,
    ) -> dict:
        """Create, store, then publish a notification (docs/spec/api.md §5.7, §6.19).

        walletId = ``wallet_id`` or the caller's wallet; creatorId = None for
        global notifications, else ``creator_id`` or the caller.  Returns the
        stored notification dict.  A failure to publish is logged, never raised
        (the database is the source of truth)."""
        n = self._new_notification(caller, type_, data, is_global=is_global, wallet_id=wallet_id, creator_id=creator_id)
        return await self.notifier.notify(n)

    def _new_notification(
        self,
        caller: Caller,
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
            creator = caller.copayer_id
        return self.notifier.new(type_, data, wallet_id or caller.wallet_id, creator, now_ms=self.now_ms())

    # ------------------------------------------------------------ explorers
    def _explorer(self, coin: str, network: str) -> Any:
        """The explorer for (coin, network) (EVM coins: livenet only,
        docs/spec/api.md §9.1; their explorers get the storage holding the tx
        index); ServerError("Could not get blockchain explorer instance") when
        none is configured."""
        rules = find_rules(coin)
        if rules is not None:
            network = rules.explorer_network(network)
        ex = None
        if callable(self.explorers) and not isinstance(self.explorers, Mapping):
            ex = self.explorers(coin, network)
        else:
            ex = self.explorers.get((coin, network))
        if ex is None:
            raise ServerError("Could not get blockchain explorer instance")
        return ex

    async def _accepted_on_chain(self, txps: Iterable[Any]) -> list[Any]:
        """The accepted proposals (:class:`bws.model.TxProposal`, any coin)
        whose txid the explorer knows: broadcast by someone else, or by us
        with the answer lost.  A read: nothing is marked here (the pending
        listing marks them, :meth:`bws.services.proposals.Proposals.get_pending_txs`).
        Explorer errors are logged and the proposal left out (docs/spec/api.md
        docs/spec/api.md §10 Q7: never fail the caller)."""
        out = []
        for t in txps:
            if t.is_legacy() or t.status != C.TXP_ACCEPTED or not t.txid:
                continue
            try:
                found = await self._explorer_call(t.coin, t.network, "get_transaction", t.txid)
            except Exception as e:  # noqa: BLE001 - Q7: never fail the listing
                log.warning("pending check of %s (%s) failed: %r", t.id, t.txid, e)
                found = None
            if found:
                out.append(t)
        return out

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


def query_flag(value: Any) -> bool:
    """Query-string boolean as the reference reads it: ``'1'`` / ``'true'`` -> True."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value in ("1", "true")
