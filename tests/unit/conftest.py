"""tests/unit/ runs no servers: no database, node, mail or HTTP server, no network.

The servers are the fixtures of tests/plugins/ (see tests/conftest.py); none
is autouse, so a unit test gets one only by asking for it.  This hook refuses
that at collection time, before any server could start: such a test belongs
in tests/integration/.  Unit tests use the in-memory fakes of tests/fakes/
and ``twisted.internet.task.Clock`` instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

UNIT_DIR = Path(__file__).parent
SERVER_FIXTURE_MODULES = "tests.plugins."


def server_fixtures(item: pytest.Item) -> list[str]:
    """Names of the tests/plugins fixtures ``item`` uses, directly or through other fixtures."""
    defs = getattr(item, "_fixtureinfo", None)
    found = []
    for name, fixture_defs in (defs.name2fixturedefs.items() if defs else ()):
        if any(getattr(fd.func, "__module__", "").startswith(SERVER_FIXTURE_MODULES) for fd in fixture_defs):
            found.append(name)
    return sorted(found)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if UNIT_DIR not in Path(item.path).parents:
            continue
        names = server_fixtures(item)
        if names:
            raise pytest.UsageError(
                f"{item.nodeid} asks for server fixtures {names}: tests/unit runs no servers "
                "(use tests/fakes and task.Clock, or move the test to tests/integration)"
            )
