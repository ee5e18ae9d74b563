"""The wallet services on in-memory fakes (tests/fakes/) and ``task.Clock``:
no servers, no network, time moves only when a test calls ``clock.advance``.

``world`` fixture -> :class:`World`: the :class:`bws.services.Services`, its
fakes and helpers to create and join wallets (the services called as the HTTP
layer calls them: ``services.<aggregate>.<method>(caller, opts)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import pytest
from twisted.internet import defer, task
from twisted.python.failure import Failure

from bws.services import Services
from bws.services.context import ANONYMOUS, Caller, Tunables
from tests.fakes import FakeBroker, FakeEvmExplorer, FakeExplorer, FakeLock, FakeStorage
from tests.helpers.keys import CopayerKeys, WalletKey
from tests.helpers.wallets import join_opts

#: the fake clock starts here (unix s, 2023-11-14), so times look real
T0 = 1_700_000_000


def result_of(d: defer.Deferred) -> Any:
    """The result of a Deferred that has fired; raises its error (AssertionError if it has not fired)."""
    out: list = []
    d.addBoth(out.append)
    assert out, "the call is still waiting"
    if isinstance(out[0], Failure):
        out[0].raiseException()
    return out[0]


@dataclass
class TestWallet:
    id: str
    key: WalletKey
    copayers: list[CopayerKeys]
    copayer_ids: list[str] = field(default_factory=list)

    __test__ = False

    def caller(self, i: int = 0, **kw: Any) -> Caller:
        return Caller(self.id, self.copayer_ids[i], **kw)


@dataclass
class World:
    services: Services
    storage: FakeStorage
    lock: FakeLock
    broker: FakeBroker
    explorer: FakeExplorer
    clock: task.Clock
    evm: FakeEvmExplorer

    async def create_wallet(self, m: int = 1, n: int = 1, *, join: Optional[int] = None,
                            network: str = "livenet", **opts: Any) -> TestWallet:
        """An m-of-n btc wallet with ``join`` (default n) copayers joined."""
        key = WalletKey.random()
        res = await self.services.wallets.create_wallet(
            ANONYMOUS, {"name": "w", "m": m, "n": n, "pubKey": key.pub, "network": network, **opts}
        )
        w = TestWallet(res["walletId"], key, [CopayerKeys.random(network) for _ in range(n)])
        for i in range(n if join is None else join):
            await self.join(w, i)
        return w

    async def join(self, w: TestWallet, i: int, **extra: Any) -> dict:
        res = await self.services.wallets.join_wallet(ANONYMOUS, join_opts(w.id, w.key, w.copayers[i], f"c{i}", **extra))
        w.copayer_ids.append(res["copayerId"])
        return res


@pytest.fixture
def clock() -> task.Clock:
    c = task.Clock()
    c.advance(T0)
    return c


@pytest.fixture
def world(clock: task.Clock) -> World:
    storage, lock, broker = FakeStorage(), FakeLock(clock), FakeBroker()
    explorer, evm = FakeExplorer("btc", "livenet"), FakeEvmExplorer("eth", "livenet")
    services = Services(
        storage, lock, broker, {("btc", "livenet"): explorer, ("eth", "livenet"): evm}, clock=clock,
        tunables=Tunables(max_main_address_gap=3),
    )
    return World(services, storage, lock, broker, explorer, clock, evm)
