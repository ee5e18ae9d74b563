"""What every service call is given: who is calling (:class:`Caller`), what
the services talk to (:class:`Deps`) and the per-process objects they share
(:class:`State`) -- all built once at start-up and passed in, none of it
module-level (issue 16 "No hidden global state"; the reference's
bitcore-wallet-service lib/server.js keeps the equivalents as module
variables set by ``WalletService.initialize``; here bws/services/__init__.py ``Services`` builds them).

* :class:`Caller`: the authenticated caller the HTTP layer's authentication
  hands to the services (upstream lib/server.js ``getInstanceWithAuth``). A
  plain frozen value: the services never read HTTP headers, and the HTTP
  layer never writes into the services (issue 16, "HTTP layer").
* :class:`Deps`: storage, wallet lock, broker, notifier, explorers, clock and
  the typed tunables.
* :class:`State`: caches and trackers that live as long as the process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from twisted.internet.interfaces import IReactorTime

from bws.model import constants as C

from .history_state import HistoryState
from .jobs import JobTracker
from .lookups import CopayerLookups, WalletFactsCache


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one request.

    wallet_id: str | None, the wallet acted on (support staff: the one
    ``x-wallet-id`` names); copayer_id: str | None, the signing copayer
    (None for unauthenticated routes such as wallet creation);
    is_support_staff: bool, read-only access to other wallets;
    client_version: str | None, ``x-client-version`` (e.g. "bwc-6.7.5");
    user_agent: str | None; request_digest: str | None, digest of a signed
    write (bws/http/auth.py ``request_digest``: the replay guard), None for reads.
    """

    wallet_id: Optional[str] = None
    copayer_id: Optional[str] = None
    is_support_staff: bool = False
    client_version: Optional[str] = None
    user_agent: Optional[str] = None
    request_digest: Optional[str] = None


#: the caller of routes that need no identity (create wallet, join, version, fiat rates)
ANONYMOUS = Caller()

#: explorers: a mapping ``{(coin, network): explorer}`` or a callable
#: ``(coin, network) -> explorer | None``.
Explorers = Mapping[tuple[str, str], Any] | Callable[[str, str], Any]


@dataclass(frozen=True)
class Tunables:
    """Service tunables (config ``service.options``-era keys, now typed; the
    defaults are the reference's, bws/model/constants.py).

    max_main_address_gap: int, receive addresses allowed past the last used
    one (MAIN_ADDRESS_GAP_REACHED); scan_address_gap: int, empty addresses
    that end a scan branch; history_cache_address_threshold: int, addresses
    from which a wallet's history is cached; balance_cache_address_threshold:
    int, addresses from which the balance is cached; two_step_balance_threshold:
    int, addresses from which the two-step balance runs its follow-up;
    fiat_default_provider: str; webhook_allow_http: bool;
    webhook_allow_private_networks: tuple of CIDR strings."""

    max_main_address_gap: int = C.MAX_MAIN_ADDRESS_GAP
    scan_address_gap: int = C.SCAN_ADDRESS_GAP
    history_cache_address_threshold: int = C.HISTORY_CACHE_ADDRESS_THRESOLD
    balance_cache_address_threshold: int = C.BALANCE_CACHE_ADDRESS_THRESHOLD
    two_step_balance_threshold: int = C.TWO_STEP_BALANCE_THRESHOLD
    fiat_default_provider: str = "BitPay"
    webhook_allow_http: bool = False
    webhook_allow_private_networks: tuple[str, ...] = ()


@dataclass
class Deps:
    """What the services talk to.

    storage: :class:`bws.storage.Storage`; lock: a :class:`bws.interfaces.Lock`
    (the wallet lock); broker: a :class:`bws.interfaces.Broker` or None; notifier:
    an object with ``async notify(Notification) -> dict`` (store, then
    publish); explorers: :data:`Explorers`; clock: ``IReactorTime`` (unix
    seconds from ``seconds()``; background work via ``callLater``);
    lock_wait / lock_max_hold: seconds (WALLET_BUSY after ``lock_wait``);
    tunables: :class:`Tunables`."""

    storage: Any
    lock: Any
    broker: Any
    notifier: Any
    explorers: Explorers
    clock: IReactorTime
    lock_wait: float = C.LOCK_WAIT_TIME
    lock_max_hold: float = C.LOCK_EXE_TIME
    tunables: Tunables = field(default_factory=Tunables)


@dataclass
class State:
    """Per-process objects built once at start-up and shared by every service
    object: the copayer-lookup and wallet-facts caches
    (bws/services/lookups.py), the background job tracker
    (bws/services/jobs.py) and the history area's caches and computations in
    flight (bws/services/history.py ``HistoryState``)."""

    copayer_lookups: CopayerLookups
    wallet_facts: WalletFactsCache
    jobs: JobTracker
    history: HistoryState

    @classmethod
    def build(cls, storage: Any, clock: IReactorTime) -> "State":
        """Fresh state for one process (or one test)."""
        return cls(CopayerLookups(storage, timer=clock.seconds), WalletFactsCache(), JobTracker(clock), HistoryState())


__all__ = ["ANONYMOUS", "Caller", "Deps", "Explorers", "State", "Tunables"]
