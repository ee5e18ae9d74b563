"""The business rules of BWS, transport-free (docs/spec/api.md §4–§6): one
class per aggregate, built once per process by :class:`Services`.

=================  ================================================================
aggregate          methods (each ``async def name(caller, opts)``)
=================  ================================================================
``wallets``        create_wallet, join_wallet, add_access, get_wallet, get_status,
                   get_wallet_from_identifier
``preferences``    get_preferences, save_preferences
``addresses``      create_address, get_main_addresses, get_addresses, clear_cache
``balance``        get_wallet_utxos, get_utxos, get_balance (two-step, fast cache)
``proposals``      create_tx, publish_tx, sign_tx, reject_tx, remove_pending_tx,
                   get_tx, broadcast_tx, get_send_max_info, get_pending_txs,
                   create_tx_v3, get_tx_by_hash, get_coins_for_tx
                   (EVM steps: proposals_evm.py; decorations: proposal_views.py;
                   bwc 10.x/11.x option checks: proposals_v3.py)
``history``        get_tx_history
``scan``           start_scan, scan
``notes``          get_tx_note, edit_tx_note, get_tx_notes
``notifications``  get_notifications
``sessions``       login, logout (+ check_session for the HTTP auth)
``subscriptions``  push_notifications_(un)subscribe, tx_confirmation_(un)subscribe
``webhooks``       webhook_register, webhook_list, webhook_remove, webhook_deliveries
``fees``           get_fee_levels (+ fee_per_kb)
``fiat``           get_fiat_rate, get_coin_rates
``stats``          get_service_version, get_stats
``chain``          get_address_nonce, get_transaction_pending_status, broadcast_raw_tx
=================  ================================================================

``caller`` is the authenticated :class:`~bws.services.context.Caller` (the HTTP
layer builds it, bws/http/auth.py; :data:`~bws.services.context.ANONYMOUS` for
routes without authentication).  Every aggregate shares the process's
:class:`~bws.services.context.Deps` and :class:`~bws.services.context.State`
and is handed the peer aggregates it calls, explicitly.  Coin differences are
asked of ``bws.chains.rules.rules_for(wallet.coin)``; marking a proposal
broadcast is bws/services/broadcasts.py (shared with bcmonitor).

To add an aggregate: write ``bws/services/<aggregate>.py`` with
``class X(Aggregate)`` and build it in :class:`Services` (its peers as
keyword arguments).

Typical use::

    services = Services(storage, LocalLock(reactor), LocalBroker(), {("btc", "testnet"): ex}, clock=reactor)
    await services.wallets.create_wallet(ANONYMOUS, {...})
    me = Caller(wallet_id, copayer_id)
    await services.addresses.create_address(me, {})
"""

from __future__ import annotations

from typing import Any, Optional

from twisted.internet.interfaces import IReactorTime

from bws.model import NotificationIds
from bws.model import constants as C

from .addresses import Addresses
from .balance import Balance
from .base import SERVICE_VERSION, Aggregate, check_required
from .broadcasts import BroadcastMarks
from .chain import Chain
from .context import ANONYMOUS, Caller, Deps, Explorers, State, Tunables
from .fees import Fees
from .fiat import Fiat
from .history import History
from .notes import Notes
from .notifications import Notifications
from .notifier import Notifier
from .preferences import Preferences
from .proposals import Proposals
from .scan import Scan
from .sessions import Sessions
from .stats import Stats
from .subscriptions import Subscriptions
from .wallets import Wallets
from .webhooks import Webhooks


class Services:
    """Every aggregate of the process, built once.

    storage: :class:`bws.storage.Storage`; lock: a :class:`bws.interfaces.Lock`
    (the wallet lock); broker: a :class:`bws.interfaces.Broker` or None;
    explorers: :data:`~bws.services.context.Explorers`; clock:
    ``IReactorTime`` (unix seconds; background jobs and request coalescing
    are scheduled on it); notifier: the process's
    :class:`~bws.services.notifier.Notifier` (default: one on ``storage`` and
    ``broker`` with a :class:`bws.model.NotificationIds` on ``clock``);
    lock_wait / lock_max_hold: seconds (WALLET_BUSY after ``lock_wait``);
    tunables: :class:`~bws.services.context.Tunables`; state: the process's
    :class:`~bws.services.context.State` (default: fresh)."""

    def __init__(
        self,
        storage: Any,
        lock: Any,
        broker: Any = None,
        explorers: Optional[Explorers] = None,
        *,
        clock: IReactorTime,
        notifier: Optional[Notifier] = None,
        lock_wait: float = C.LOCK_WAIT_TIME,
        lock_max_hold: float = C.LOCK_EXE_TIME,
        tunables: Optional[Tunables] = None,
        state: Optional[State] = None,
    ) -> None:
        if notifier is None:
            notifier = Notifier(storage, broker, NotificationIds(lambda: int(clock.seconds() * 1000)))
        self.deps = Deps(
            storage,
            lock,
            broker,
            notifier,
            explorers if explorers is not None else {},
            clock,
            lock_wait,
            lock_max_hold,
            tunables or Tunables(),
        )
        self.state = state if state is not None else State.build(storage, clock)
        #: the ONE mark-broadcast rule (bws/services/broadcasts.py), also used by bcmonitor
        self.broadcasts = BroadcastMarks(
            storage, notifier, lock, clock, lock_wait=lock_wait, lock_max_hold=lock_max_hold
        )
        shared = (self.deps, self.state, self.broadcasts)
        self.preferences = Preferences(*shared)
        self.notes = Notes(*shared)
        self.fees = Fees(*shared)
        self.addresses = Addresses(*shared)
        self.balance = Balance(*shared)
        self.proposals = Proposals(
            *shared, addresses=self.addresses, balance=self.balance, fees=self.fees, notes=self.notes
        )
        self.wallets = Wallets(*shared, balance=self.balance, proposals=self.proposals, preferences=self.preferences)
        self.history = History(*shared, notes=self.notes, fees=self.fees)
        self.scan = Scan(*shared)
        self.notifications = Notifications(*shared)
        self.sessions = Sessions(*shared)
        self.subscriptions = Subscriptions(*shared)
        self.webhooks = Webhooks(*shared)
        self.fiat = Fiat(*shared)
        self.stats = Stats(*shared)
        self.chain = Chain(*shared)

    # the process-wide dependencies, for the HTTP layer's health checks and
    # metrics (bws/http/health.py, bws/http/metrics.py)
    @property
    def storage(self) -> Any:
        return self.deps.storage

    @property
    def broker(self) -> Any:
        return self.deps.broker

    @property
    def explorers(self) -> Explorers:
        return self.deps.explorers

    @property
    def lock(self) -> Any:
        return self.deps.lock

    @lock.setter
    def lock(self, lock: Any) -> None:
        """Replace the wallet lock of every aggregate (bws/http/metrics.py wraps it)."""
        self.deps.lock = lock

    @property
    def clock(self) -> IReactorTime:
        return self.deps.clock

    @clock.setter
    def clock(self, clock: IReactorTime) -> None:
        self.deps.clock = clock

    @property
    def copayer_lookups(self) -> Any:
        """The per-process copayer look-up cache (bws/http/auth.py)."""
        return self.state.copayer_lookups


__all__ = [
    "ANONYMOUS",
    "Aggregate",
    "Caller",
    "SERVICE_VERSION",
    "Services",
    "check_required",
]
