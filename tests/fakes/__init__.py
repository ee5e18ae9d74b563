"""In-memory fakes of the adapters the services talk to (no servers, no network).

* :class:`FakeLock` (lock.py): :class:`bws.interfaces.Lock`, FIFO per token,
  LockTimeout / force-release timed by the injected clock.
* :class:`FakeBroker` (broker.py): :class:`bws.interfaces.Broker`, records what
  was published.
* :class:`FakeExplorer`, :class:`FakeEvmExplorer` (explorer.py):
  :class:`bws.interfaces.Explorer` / ``EvmExplorer`` with scripted UTXOs, txs,
  fee samples, heights; records calls and broadcasts.
* :class:`FakeStorage` (storage.py): the repositories of
  :class:`bws.storage.Storage` the wallet services use.

Used by tests/unit/ (with ``twisted.internet.task.Clock`` as the clock); the
tests on real servers are in tests/integration/.
"""

from tests.fakes.broker import FakeBroker
from tests.fakes.explorer import FakeEvmExplorer, FakeExplorer, utxo
from tests.fakes.lock import FakeLock
from tests.fakes.storage import DuplicateKey, FakeStorage

__all__ = ["DuplicateKey", "FakeBroker", "FakeEvmExplorer", "FakeExplorer", "FakeLock", "FakeStorage", "utxo"]
