"""Fixtures of the bitcore-wallet-client interop suite (see tests/interop/harness.py).

* ``bws_api`` (session): one ``python -m bws`` process on a free port, its own
  SecantusDB database, ``btc``/``testnet`` explorer on the session ``litecoind``.
* ``bwc`` / ``bwc11`` / ``bwc10`` (per test): one ``node bwc_driver.js`` (6.7.5),
  ``bwc11_driver.js`` (11.5.2) or ``bwc10_driver.js`` (10.10.15) process; create
  copayers with ``bwc.new_copayer("alice")``. On failure the tails of the bws log
  and the driver's stderr are attached to the report.
* ``bws_db`` (per test): the session server's database (pymongo, synchronous), to
  see what a call stored or to store what a background service would.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlparse

import pytest

from tests.interop.harness import Bwc10Driver, Bwc11Driver, BwcDriver, BwsProcess


@pytest.fixture(scope="session")
def bws_api(tmp_path_factory, mongo_server, litecoind):
    db_name = "interop_" + uuid.uuid4().hex[:10]
    server = BwsProcess(tmp_path_factory.mktemp("bws-interop"), mongo_server.uri(db_name), litecoind.rpc_url)
    server.start()
    yield server
    server.stop()
    with mongo_server.sync_client() as c:
        c.drop_database(db_name)


@pytest.fixture
def bwc(request, bws_api, tmp_path):
    driver = BwcDriver(bws_api.base_url, tmp_path)
    yield driver
    driver.close()
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        rep.sections.append(("bws log (tail)", bws_api.log_tail()))
        rep.sections.append(("bwc driver stderr (tail)", driver.stderr_tail()))
    slow = sorted(driver.timings, reverse=True)[:5]
    if slow:
        print("slowest bwc calls: " + ", ".join(f"{c}.{m} {t:.2f}s" for t, c, m in slow))


def _driver(request, bws_api, tmp_path, cls, label):
    driver = cls(bws_api.base_url, tmp_path)
    yield driver
    driver.close()
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        rep.sections.append(("bws log (tail)", bws_api.log_tail()))
        rep.sections.append((f"{label} driver stderr (tail)", driver.stderr_tail()))


@pytest.fixture
def bwc11(request, bws_api, tmp_path):
    yield from _driver(request, bws_api, tmp_path, Bwc11Driver, "bwc11")


@pytest.fixture
def bwc10(request, bws_api, tmp_path):
    yield from _driver(request, bws_api, tmp_path, Bwc10Driver, "bwc10")


@pytest.fixture
def bws_db(bws_api, mongo_server):
    name = urlparse(bws_api.config["storageOpts"]["mongoDb"]["uri"]).path.lstrip("/")
    with mongo_server.sync_client() as c:
        yield c[name]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call":
        item.rep_call = rep
