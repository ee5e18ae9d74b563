"""Fixtures: the services (bws.services.Services, tests/helpers/services.py) over real storage, and the API served on a free
loopback port.  Import them into a test module::

    from tests.helpers.fixtures import service, api  # noqa: F401
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.interfaces import IReactorTime
from zope.interface import implementer
from twisted.web.server import Site

from bws.adapters.broker.local import LocalBroker
from bws.adapters.lock.local import LocalLock
from bws.http.app import BwsApi
from bws.adapters.broker.local import LocalBroker
from bws.adapters.lock.local import LocalLock
from tests.helpers.services import ServicesForTests
from tests.helpers.client import TestClient


@implementer(IReactorTime)
class Clock:
    """A settable wall clock for ServicesForTests(clock=...): ``seconds()`` (unix
    seconds) is what the test sets (``advance``); scheduling (``callLater``:
    background jobs, request coalescing) runs on the real reactor, because
    these integration tests talk to real servers.  ``clock()`` also answers
    the time (older call sites)."""

    def __init__(self, start: float | None = None):
        import time

        self.t = time.time() if start is None else start

    def seconds(self) -> float:
        return self.t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def callLater(self, delay, f, *args, **kw):
        return reactor.callLater(delay, f, *args, **kw)

    def getDelayedCalls(self):
        return reactor.getDelayedCalls()


class ActivityExplorer:
    """Explorer stand-in for unit tests: ``get_address_activity`` (records
    calls; ``active`` addresses answer True) and ``get_utxos`` (returns the
    entries of ``utxos`` whose address was asked for).  Tests that need a real
    chain use the litecoind fixture and the RPC explorer instead."""

    def __init__(self, active: set[str] | None = None):
        self.active = set(active or ())
        self.calls: list[str] = []
        self.utxos: list[dict] = []

    async def get_address_activity(self, address: str) -> bool:
        self.calls.append(address)
        return address in self.active

    async def get_utxos(self, addresses):
        wanted = {a if isinstance(a, str) else a["address"] for a in addresses}
        return [dict(u) for u in self.utxos if u["address"] in wanted]

    # The rest of the explorer contract (spec/api.md §6.20), answering "nothing on chain",
    # so routes that reach the explorer (history, fee levels, broadcast checks) run end to end.
    async def get_transactions(self, addresses, from_=0, to=None):
        return [], 0

    async def get_transaction(self, txid):
        return None

    async def estimate_fee(self, nb_blocks):
        return {n: -1 for n in nb_blocks}

    async def get_blockchain_height(self):
        return 101

    async def register_addresses(self, items, rescan=False):
        return len(items)


def make_service(storage, explorers: Any = None, *, clock: Any = None, **kw) -> ServicesForTests:
    """The services on ``storage`` with a local lock and broker; ``clock``
    default: a :class:`Clock` at the current time; ``kw``: tunables=..., etc."""
    clock = clock or Clock()
    return ServicesForTests(storage, LocalLock(clock), LocalBroker(), explorers or {}, clock=clock, **kw)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def explorer():
    return ActivityExplorer()


@pytest.fixture
def service(storage, clock, explorer):
    """The services on a fresh database, a settable clock and an
    ActivityExplorer for (btc|bch, livenet|testnet)."""
    ex = {(c, n): explorer for c in ("btc", "bch") for n in ("livenet", "testnet")}
    return make_service(storage, ex, clock=clock)


@dataclass
class ApiServer:
    service: ServicesForTests
    port: Any
    client: TestClient
    base_url: str


@pytest_twisted.async_yield_fixture
async def api(service):
    """The API of ``service`` served on 127.0.0.1:<free port>; ``.client`` signs like bwc."""
    site = Site(BwsApi(service).resource())
    site.noisy = False
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    base = f"http://127.0.0.1:{port.getHost().port}/bws/api"
    client = TestClient(base)
    yield ApiServer(service, port, client, base)
    await client.close()
    await port.stopListening()
