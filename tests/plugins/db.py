"""Real database servers for tests: SecantusDB (MongoDB wire protocol) and redis-server.

One SecantusDB server (in memory, test commands enabled for fail points) runs for
the whole session; each test gets its own database name, so tests never see each
other's documents.
"""

from __future__ import annotations

import uuid

import pytest
import pytest_twisted
from pymongo import MongoClient

from ops.embedded_db import server_argv
from bws.storage import Storage
from tests.servers.proc import ManagedProcess, free_port, port_open, require_binary


class MongoServer:
    def __init__(self, proc: ManagedProcess, port: int):
        self.proc = proc
        self.port = port

    def uri(self, db_name: str) -> str:
        return f"mongodb://127.0.0.1:{self.port}/{db_name}"

    def sync_client(self) -> MongoClient:
        return MongoClient(f"mongodb://127.0.0.1:{self.port}/", serverSelectionTimeoutMS=5000)


def _mongo_ready(port: int) -> bool:
    with MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=300) as c:
        c.admin.command("ping")
    return True


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory):
    """A SecantusDB server on a free loopback port: ``.port``, ``.uri(db)``, ``.sync_client()``."""
    port = free_port()
    proc = ManagedProcess(
        "secantusdb",
        server_argv("127.0.0.1", port, ":memory:", test_commands=True),
        ready=lambda: _mongo_ready(port),
        log_dir=tmp_path_factory.mktemp("logs"),
        timeout=30,
    ).start()
    yield MongoServer(proc, port)
    proc.stop()


@pytest.fixture
def mongo_uri(mongo_server):
    """A fresh database URI for one test (dropped afterwards)."""
    name = "t_" + uuid.uuid4().hex[:12]
    yield mongo_server.uri(name)
    with mongo_server.sync_client() as c:
        c.drop_database(name)


@pytest_twisted.async_yield_fixture
async def storage(mongo_uri):
    """A connected :class:`bws.storage.Storage` on a fresh database."""
    st = Storage(mongo_uri)
    await st.connect()
    yield st
    await st.close()


class RedisServer:
    def __init__(self, proc: ManagedProcess, port: int):
        self.proc = proc
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A private redis-server (no persistence) on a free loopback port: ``.port``, ``.url``."""
    binary = require_binary("redis-server")
    port = free_port()
    proc = ManagedProcess(
        "redis",
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        ready=lambda: port_open(port),
        log_dir=tmp_path_factory.mktemp("logs"),
    ).start()
    yield RedisServer(proc, port)
    proc.stop()
