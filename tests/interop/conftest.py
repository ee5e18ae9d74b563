"""Fixtures of the bitcore-wallet-client interop suite (see tests/interop/harness.py).

* ``bws_api`` (session): one ``python -m bws`` process on a free port, its own
  SecantusDB database, ``btc``/``testnet`` explorer on the session ``litecoind``.
* ``bwc`` (per test): one ``node bwc_driver.js`` process; create copayers with
  ``bwc.new_copayer("alice")``. On failure the tails of the bws log and the
  driver's stderr are attached to the report.
"""

from __future__ import annotations

import uuid

import pytest

from tests.interop.harness import BwcDriver, BwsProcess


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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call":
        item.rep_call = rep
