"""Test convenience over :class:`bws.services.Services` (test code only).

Production code calls ``services.<aggregate>.<method>(caller, opts)``.  Tests
written before the aggregates call ``service.<method>(opts)`` (no caller) and
``service.bind(wallet_id, copayer_id).<method>(opts)``; :class:`ServicesForTests`
maps both forms onto the aggregate that defines ``<method>``, with the caller
(:data:`bws.services.context.ANONYMOUS` for the unbound form).  It *is* a
``Services`` (the API, health checks and metrics take it as is).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Optional

from bws.services import Services
from bws.services.context import ANONYMOUS, Caller, Tunables

#: the attributes of Services that are aggregates, searched in this order
AGGREGATES = (
    "wallets", "preferences", "addresses", "balance", "proposals", "fees", "history", "scan", "notes",
    "notifications", "sessions", "subscriptions", "webhooks", "fiat", "stats", "chain",
)  # fmt: skip


def _method(services: Services, caller: Caller, name: str) -> Any:
    """``name`` of the first aggregate defining it, with ``caller`` bound
    when its first parameter is the caller."""
    for attr in AGGREGATES:
        agg = services.__dict__.get(attr)
        fn = getattr(type(agg), name, None) if agg is not None else None
        if fn is None or not callable(fn):
            continue
        bound = getattr(agg, name)
        params = list(inspect.signature(fn).parameters)
        if len(params) > 1 and params[1] == "caller":
            return functools.partial(bound, caller)
        return bound
    raise AttributeError(name)


class ServicesForTests(Services):
    """``Services`` plus today's test call forms (see the module doc)."""

    def bind(
        self,
        wallet_id: Optional[str],
        copayer_id: Optional[str],
        *,
        is_support_staff: bool = False,
        client_version: Optional[str] = None,
        user_agent: Optional[str] = None,
        request_digest: Optional[str] = None,
    ) -> "BoundForTests":
        return BoundForTests(
            self,
            Caller(wallet_id, copayer_id, is_support_staff, client_version, user_agent, request_digest),
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _method(self, ANONYMOUS, name)

    # the process-wide objects tests look at or change
    @property
    def tunables(self) -> Tunables:
        return self.deps.tunables

    @tunables.setter
    def tunables(self, tunables: Tunables) -> None:
        self.deps.tunables = tunables

    @property
    def broker(self) -> Any:
        return self.deps.broker

    @broker.setter
    def broker(self, broker: Any) -> None:
        self.deps.broker = broker

    @property
    def explorers(self) -> Any:
        return self.deps.explorers

    @explorers.setter
    def explorers(self, explorers: Any) -> None:
        self.deps.explorers = explorers

    @property
    def notifier(self) -> Any:
        return self.deps.notifier

    @property
    def wallet_facts(self) -> Any:
        return self.state.wallet_facts

    def now_s(self) -> int:
        return int(self.clock.seconds())

    def now_ms(self) -> int:
        return int(self.clock.seconds() * 1000)


class BoundForTests:
    """The services acting for one caller: ``bound.<method>(opts)`` is
    ``services.<aggregate>.<method>(caller, opts)``; other attributes are the
    services' (storage, lock, clock, state ...)."""

    def __init__(self, services: ServicesForTests, caller: Caller) -> None:
        self.services = services
        self.caller = caller

    @property
    def wallet_id(self) -> Optional[str]:
        return self.caller.wallet_id

    @property
    def copayer_id(self) -> Optional[str]:
        return self.caller.copayer_id

    def bind(self, wallet_id: Optional[str], copayer_id: Optional[str], **kw: Any) -> "BoundForTests":
        return self.services.bind(wallet_id, copayer_id, **kw)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return _method(self.services, self.caller, name)
        except AttributeError:
            return getattr(self.services, name)


__all__ = ["BoundForTests", "ServicesForTests"]
