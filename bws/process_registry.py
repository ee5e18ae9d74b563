"""Process registry: which BWS processes run against this database (``processes``, added).

Every API process (``python -m bws``) registers one entry when it starts,
refreshes its heartbeat every :data:`HEARTBEAT_INTERVAL` seconds and removes the
entry on a clean shutdown (bws/storage/processes.py: ``register``, ``touch``,
``fetch``, ``remove``)::

    {"id": "<32 hex, new for every run>", "kind": "bws",
     "host": socket.gethostname(), "pid": 1234,
     "pidNamespace": "pid:[4026531836]",       # Linux; "" elsewhere
     "lockMode": "local", "brokerMode": "local",  # lockOpts.mode, messageBrokerOpts.mode
     "startedAt": datetime, "heartbeatAt": datetime}  # the database server's clock, naive UTC

Timestamps come from the database server (``$currentDate``), so ages compare
without clock skew between hosts. An entry counts as *live* unless

* its heartbeat is more than :data:`STALE_AFTER` seconds (three missed beats)
  older than the reader's own fresh heartbeat: the process crashed or hangs; or
* it was written on this host, in this pid namespace, by a pid that no longer
  runs (or that is now this very process): a crashed predecessor. Such an entry
  is removed at once, so a supervisor's quick restart after a crash is not
  refused for ``STALE_AFTER`` seconds.

Why (docs/security.md §8, Finding 10): ``lockOpts.mode: local`` keeps wallet
locks in one process's memory and ``messageBrokerOpts.mode: local`` its
notification wake-ups. With a second API process on the same database, two
requests for one wallet no longer exclude each other (a review saw a lost join
and two proposals spending one UTXO). :meth:`ProcessRegistry.register_api`
therefore refuses to start an API process when it or any live one uses a local
mode and another live API process is registered: :class:`bws.config.ConfigError`
naming the key and the other process, which ``python -m bws`` turns into exit
status 2.

Two processes starting at the same instant: each one writes its entry *before*
it looks for others, so at least one of them sees the other and refuses (both
may; the refused entries are removed, and the next start succeeds).

Later issues extend this to the other processes (their kind and what each one
is doing) for the health endpoint.
"""

from __future__ import annotations

import datetime
import logging
import os
import socket
import uuid
from typing import Any, Optional

from twisted.internet import defer
from twisted.internet.task import LoopingCall

from bws.config import ConfigError

log = logging.getLogger(__name__)

Doc = dict[str, Any]

#: Seconds between two heartbeats of a registered process.
HEARTBEAT_INTERVAL = 10.0
#: Seconds without a heartbeat after which an entry is ignored (three missed beats).
STALE_AFTER = 3 * HEARTBEAT_INTERVAL

#: The modes that hold state in one process: (config key, entry field, what to use instead).
_LOCAL_MODES = (
    ("lockOpts.mode", "lockMode", "'locker' or 'redis'"),
    ("messageBrokerOpts.mode", "brokerMode", "'websocket' or 'redis'"),
)


def _pid_namespace() -> str:
    """Identity of this process's pid namespace (Linux), "" where there is none."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def new_entry(kind: str, **fields: Any) -> Doc:
    """A fresh entry for this process run: ``id``, ``kind``, ``host``, ``pid``,
    ``pidNamespace`` and ``fields`` (e.g. ``lockMode``, ``brokerMode``)."""
    return {
        "id": uuid.uuid4().hex,
        "kind": kind,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "pidNamespace": _pid_namespace(),
        **fields,
    }


def _pid_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # runs, as another user
        return True
    return True


def is_dead_predecessor(mine: Doc, other: Doc) -> bool:
    """True when ``other`` was written on this host and pid namespace by a pid
    that no longer runs, or by this process's own pid (an earlier run with the
    same pid that crashed, e.g. pid 1 of a restarted container)."""
    pid = other.get("pid")
    if not isinstance(pid, int) or pid <= 0 or not mine.get("pidNamespace"):
        return False
    if (other.get("host"), other.get("pidNamespace")) != (mine["host"], mine["pidNamespace"]):
        return False
    return pid == mine["pid"] or not _pid_runs(pid)


def single_process_conflict(
    mine: Doc, others: list[Doc], interval: float = HEARTBEAT_INTERVAL, stale_after: float = STALE_AFTER
) -> Optional[str]:
    """The one-line refusal when ``mine`` may not run beside the live ``others``
    (each with ``age``: seconds since its heartbeat), else None. Starts with the
    config key, as every :class:`ConfigError` does."""
    if not others:
        return None
    for key, field, instead in _LOCAL_MODES:
        local_others = [o for o in others if o.get(field) == "local"]
        if mine.get(field) == "local":
            other = others[0]
            head = f"{key}: 'local' allows only one API process per database, but another one is registered"
        elif local_others:
            other = local_others[0]
            head = (
                f"{key}: another API process on this database uses 'local', "
                "which allows only one API process per database"
            )
        else:
            continue
        age = max(0.0, float(other.get("age", 0.0)))
        seen = f"last heartbeat {age:.0f} s ago"
        if age > 1.5 * interval:
            seen += f", it may have crashed: its entry is ignored {stale_after:g} s after its last heartbeat"
        more = f" (and {len(others) - 1} more)" if len(others) > 1 else ""
        return (
            f"{head}: pid {other.get('pid')} on host {other.get('host')} ({key} {other.get(field)!r}, {seen}){more}; "
            f"set {key} to {instead} in every API process, or stop the other one"
        )
    return None


class ProcessRegistry:
    """This process's entry in the registry and its heartbeat.

    storage: a connected :class:`bws.storage.Storage`; clock: the reactor (an
    ``IReactorTime``; tests pass ``task.Clock``); entry: :func:`new_entry`.
    """

    def __init__(
        self, storage: Any, clock: Any, entry: Doc, *,
        interval: float = HEARTBEAT_INTERVAL, stale_after: float = STALE_AFTER,
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.entry = entry
        self.interval = interval
        self.stale_after = stale_after
        self._loop: Optional[LoopingCall] = None
        self._loop_done: Optional[defer.Deferred] = None

    @property
    def id(self) -> str:
        return self.entry["id"]

    async def register(self) -> list[Doc]:
        """Write this process's entry, then return the other live entries of its
        kind, each with ``age`` (seconds since its heartbeat, by the database's
        clock). Removes the entries of dead predecessors on this host."""
        mine = await self.storage.processes.register(self.entry)
        now: datetime.datetime = mine["heartbeatAt"]
        live = []
        for other in await self.storage.processes.fetch(self.entry["kind"]):
            beat = other.get("heartbeatAt")
            if other["id"] == self.id or not isinstance(beat, datetime.datetime):
                continue
            age = (now - beat).total_seconds()
            if age > self.stale_after:
                continue
            if is_dead_predecessor(self.entry, other):
                log.info("process registry: removing the entry of pid %s (no longer runs)", other.get("pid"))
                await self.storage.processes.remove(other["id"])
                continue
            live.append({**other, "age": age})
        return live

    async def register_api(self) -> None:
        """Register an API process; raises :class:`ConfigError` (after removing
        its own entry again) when a local lock or broker mode meets another live
        API process on this database (see the module docstring)."""
        problem = single_process_conflict(self.entry, await self.register(), self.interval, self.stale_after)
        if problem:
            await self.storage.processes.remove(self.id)
            raise ConfigError(problem)

    def start_heartbeat(self) -> None:
        """Refresh ``heartbeatAt`` every ``interval`` seconds until :meth:`stop`."""
        self._loop = LoopingCall(lambda: defer.ensureDeferred(self._beat()))
        self._loop.clock = self.clock
        self._loop_done = self._loop.start(self.interval, now=False)

    async def _beat(self) -> None:
        # Never raises: a failed beat (database down) is logged and the next one tries again.
        try:
            if await self.storage.processes.touch(self.id) is None:
                log.warning("process registry: this process's entry was gone; registering it again")
                await self.storage.processes.register(self.entry)
        except Exception as e:  # noqa: BLE001 - the loop must survive database faults
            log.warning("process registry: heartbeat failed: %s", str(e)[:200])

    async def stop(self) -> None:
        """Stop the heartbeat (waiting for one in flight) and remove the entry (clean shutdown)."""
        if self._loop is not None and self._loop.running:
            self._loop.stop()
            await self._loop_done
        self._loop = None
        try:
            await self.storage.processes.remove(self.id)
        except Exception as e:  # noqa: BLE001 - shutting down; the entry goes stale by itself
            log.warning("process registry: could not remove this process's entry: %s", str(e)[:200])
