"""Address scan (spec §4.23, §6.15, §10 Q4; §12 case 59).  The happy path
derives addresses nobody registered, pays some of them from litecoind and
lets the scan (which registers each batch with a rescan) find them.  Mines 1
block.  Explorer errors through an in-test explorer."""

from __future__ import annotations

import pytest
import pytest_twisted

from bws.chains.address import derive_address
from bws.errors import ClientError
from bws.services.context import Tunables
from tests.helpers.fixtures import api, make_service  # noqa: F401
from tests.helpers.keys import CopayerKeys
from tests.helpers.wallets import create_and_join
from tests.helpers.proposals import FakeExplorer, explorer_error, module_watch_wallet, node_explorer, notifications  # noqa: F401

pytestmark = pytest.mark.timeout(180)


def addr(keys: CopayerKeys, path: str) -> str:
    return derive_address([keys.xpub], path, "btc", "testnet", "P2PKH", 1)["address"]


@pytest.fixture
def service(storage, node_explorer):
    return make_service(storage, {("btc", "testnet"): node_explorer}, tunables=Tunables(scan_address_gap=2))


@pytest_twisted.ensureDeferred
async def test_scan_finds_active_addresses(api, litecoind):
    service = api.service
    k = CopayerKeys.random("testnet")
    for path in ("m/0/0", "m/0/2", "m/1/0", "m/0/6"):
        litecoind.fund(addr(k, path), "0.01")
    litecoind.mine(1)
    w = await create_and_join(service, 1, 1, network="testnet", copayers=[k])
    r = await api.client.post("/v1/addresses/scan", {}, k)
    assert (r.status, r.json) == (200, {"started": True})
    await service.state.jobs.drain()
    [n] = await notifications(service, w.id, {"ScanFinished"})
    assert n["data"] == {"result": "success"} and n["creatorId"] is None
    stored = [a["path"] for a in await service.storage.addresses.fetch(w.id)]
    assert stored == ["m/0/0", "m/0/1", "m/0/2", "m/1/0"]
    wallet = await service.storage.wallets.fetch(w.id)
    assert wallet["scanStatus"] == "success"
    assert wallet["addressManager"]["receiveAddressIndex"] == 3
    me = w.as_copayer(service)
    assert (await me.create_address({"ignoreMaxGap": True}))["path"] == "m/0/3"
    assert (await me.get_balance({}))["totalAmount"] == 3_000_000

    # a rescan with a bigger gap finds m/0/6 beyond the old gap
    wide = make_service(service.storage, service.explorers, tunables=Tunables(scan_address_gap=4))
    await w.as_copayer(wide).scan({})
    paths = [a["path"] for a in await service.storage.addresses.fetch(w.id) if not a["isChange"]]
    assert paths[-1] == "m/0/6" and (await me.create_address({"ignoreMaxGap": True}))["path"] == "m/0/7"
    assert (await me.get_balance({}))["totalAmount"] == 4_000_000


class FlakyActivity(FakeExplorer):
    """Activity for ``active`` addresses; raises from the ``fail_at``-th call on."""

    def __init__(self, active=(), fail_at=None):
        super().__init__()
        self.active = set(active)
        self.fail_at = fail_at
        self.n = 0

    async def get_address_activity(self, address):
        self.n += 1
        if self.fail_at is not None and self.n >= self.fail_at:
            raise explorer_error("activity lookup failed")
        return address in self.active


@pytest_twisted.ensureDeferred
async def test_scan_error_needs_scan_and_index_cache(storage):
    k = CopayerKeys.random("testnet")
    ex = FlakyActivity(active={addr(k, f"m/0/{i}") for i in range(5)}, fail_at=7)
    service = make_service(storage, {("btc", "testnet"): ex}, tunables=Tunables(scan_address_gap=2))
    w = await create_and_join(service, 1, 1, network="testnet", copayers=[k])
    me = w.as_copayer(service)
    assert await me.start_scan({}) == {"started": True}
    await service.state.jobs.drain()
    [n] = await notifications(service, w.id, {"ScanFinished"})
    assert n["data"] == {"result": "error", "error": "activity lookup failed"}
    assert (await storage.wallets.fetch(w.id))["scanStatus"] == "error"
    assert await storage.addresses.fetch(w.id) == []  # the failing branch stored nothing
    for call in (me.get_balance({}), me.create_address({}), me.get_utxos({}),
                 me.create_tx({"outputs": [{"toAddress": addr(k, "m/0/0"), "amount": 10_000}]})):
        with pytest.raises(ClientError) as ei:
            await call
        assert ei.value.code == "WALLET_NEED_SCAN"
    status = await me.get_status({"includeExtendedInfo": True})
    assert "balance" not in status
    # the next scan prederives up to the last index seen active (m/0/4), then checks from there
    ex.fail_at = None
    await me.scan({})
    paths = [a["path"] for a in await storage.addresses.fetch(w.id)]
    assert paths == [f"m/0/{i}" for i in range(5)]
    assert (await storage.wallets.fetch(w.id))["scanStatus"] == "success"
    assert (await me.get_balance({}))["totalAmount"] == 0


@pytest_twisted.ensureDeferred
async def test_scan_incomplete_wallet(storage):
    service = make_service(storage, {("btc", "testnet"): FakeExplorer()})
    w = await create_and_join(service, 2, 2, network="testnet", join=1)
    with pytest.raises(ClientError) as ei:
        await w.as_copayer(service).start_scan({})
    assert ei.value.code == "WALLET_NOT_COMPLETE"
