"""The route modules of the API, one per aggregate, each with a
``register(router)`` that adds its handlers; :func:`build_router` calls every
one explicitly (importing a route module registers nothing).

To add a route: put the handler in the ``register()`` of the module of its
aggregate (or a new module listed below), keep it to one service call, and
describe it in bws/http/openapi_operations.py ``OPERATIONS`` (tests/integration/test_openapi.py fails
on an undocumented route).

Two routes of one method must never match the same path (the table would
then depend on registration order; tests/integration/test_api_http.py checks it), so the
order below is only the order of the OpenAPI document.
"""

from __future__ import annotations

from bws.http.routes import (
    addresses,
    balance,
    evm,
    fees,
    fiat,
    history,
    misc,
    notes,
    openapi,
    ops,
    preferences,
    proposals,
    sessions,
    subscriptions,
    wallets,
    webhooks,
)
from bws.http.routing import Router


def build_router(*, base_path: str = "/bws/api") -> Router:
    """A new :class:`Router` with every route of the API; base_path: the
    configured ``basePath`` (named in the OpenAPI document)."""
    router = Router()
    wallets.register(router)
    preferences.register(router)
    proposals.register(router)
    addresses.register(router)
    balance.register(router)
    sessions.register(router)
    notes.register(router)
    subscriptions.register(router)
    webhooks.register(router)
    misc.register(router)
    fees.register(router)
    history.register(router)
    fiat.register(router)
    openapi.register(router, base_path=base_path)
    ops.register(router)
    evm.register(router)
    return router


__all__ = ["build_router"]
