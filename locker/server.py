"""Lock server speaking the binary protocol of npm ``locker-server@0.1.3`` (bobrik).

Wire protocol (docs/spec/services.md §1.1), plain TCP, little-endian, one TCP
connection per client process, any number of concurrent locks on it,
multiplexed by a client-chosen uint32 *sequence*:

Request frame, client -> server, ``14 + N`` bytes::

    offset 0   uint8    N         byte length of the lock name (UTF-8, so <= 255 bytes)
    offset 1   uint32   sequence  client counter (starts at 1, +1 per lock)
    offset 5   uint32   wait      ms the client is willing to queue
    offset 9   uint32   timeout   ms the lock may be held before the server force-releases it
    offset 13  uint8    action    1 = LOCK, 0 = UNLOCK, 2 = AUTH (our addition, see below)
    offset 14  N bytes  name

Response frame, server -> client, always 6 bytes::

    offset 0   uint32   sequence (echo)
    offset 4   uint8    action (echo)
    offset 5   uint8    result: 1 success, 0 failure

Messages, one by one:

* ``LOCK(seq, wait, timeout, name)``: joins the FIFO queue of ``name`` (one
  queue per name, global across connections). When the lock reaches the head
  of the queue the server answers ``seq|1|1`` (granted) and arms a hold timer
  of ``timeout`` ms that force-releases it (and grants the next waiter). If
  ``wait`` ms pass first, the request leaves the queue and the server answers
  ``seq|1|0``. ``wait == 0`` with a non-empty queue fails at once (``seq|1|0``);
  ``wait == 0`` on a free name is granted. ``timeout == 0`` releases right after
  granting (reference quirk, kept). A LOCK reusing a sequence that is still
  registered on the connection is refused (``seq|1|0``; the reference silently
  overwrote the registry entry).
* ``UNLOCK(seq)`` (name empty, wait = timeout = 0): releases the lock of that
  sequence on this connection. If it was the head, the next waiter is granted
  *first* (its ``LOCK/1`` is written before the ack), then the ack
  ``seq|0|1`` -- result 1 only if the lock was held at that moment; a lock
  still waiting (it is withdrawn), already force-released or unknown gives
  ``seq|0|0``.
* Connection closed or broken: every lock registered on it, held or waiting,
  is released. A crashed client never leaves a name locked longer than TCP
  takes to notice.
* ``AUTH(seq=0, wait=0, timeout=0, name=<secret>)`` -- our addition, only when
  the server has a shared secret (always when bound to a non-loopback
  address). It must be the first frame; the server answers ``0|2|1`` and then
  serves the connection normally. A wrong secret, or any other frame first,
  gets ``seq|action|0``, a log line with the reason and the peer, and the
  connection is closed. (The npm client cannot authenticate, so it only works
  against a loopback server without a secret, which is the default.) The
  secret travels in clear text: across untrusted networks tunnel the port.

Frames are parsed as soon as complete (``while buf[0] + 14 <= len(buf)``).
An unknown action byte is a protocol error: logged, connection closed.

Differences from the reference (harmless): empty queues are forgotten; the
per-connection registry drops locks once released or timed out, so it cannot
grow without bound.

Structure (magic-wormhole style): :class:`LockerProtocol` only frames bytes
and dispatches to :class:`LockService`, a plain object that owns the queues
and timers and takes the clock as an argument (tests drive it with
``twisted.internet.task.Clock``).
"""

from __future__ import annotations

import hmac
import logging
import struct
from collections import deque
from typing import Any, Optional

from twisted.internet import protocol
from twisted.internet.interfaces import IReactorTime

log = logging.getLogger("locker")

ACTION_UNLOCK = 0
ACTION_LOCK = 1
ACTION_AUTH = 2

HEADER = struct.Struct("<BIIIB")  # N, sequence, wait, timeout, action
RESPONSE = struct.Struct("<IBB")  # sequence, action, result


def encode_request(name: bytes, sequence: int, wait_ms: int, timeout_ms: int, action: int) -> bytes:
    """One request frame (used by our client and the tests)."""
    if len(name) > 255:
        raise ValueError("lock name longer than 255 bytes")
    return HEADER.pack(len(name), sequence, wait_ms, timeout_ms, action) + name


def encode_response(sequence: int, action: int, ok: bool) -> bytes:
    return RESPONSE.pack(sequence, action, 1 if ok else 0)


class _Lock:
    __slots__ = ("conn", "seq", "name", "timeout_ms", "held", "wait_call", "hold_call")

    def __init__(self, conn: "Connection", seq: int, name: bytes, timeout_ms: int):
        self.conn = conn
        self.seq = seq
        self.name = name
        self.timeout_ms = timeout_ms
        self.held = False
        self.wait_call: Any = None
        self.hold_call: Any = None


class Connection:
    """One client connection as the service sees it: a registry plus a way to answer."""

    def __init__(self, service: "LockService", transport: Any, peer: str):
        self.service = service
        self.transport = transport
        self.peer = peer
        self.locks: dict[int, _Lock] = {}
        self.authenticated = service.secret is None
        self.closed = False

    def send(self, data: bytes) -> None:
        if not self.closed:
            self.transport.write(data)

    def refuse(self, reason: str) -> None:
        log.warning("locker: refusing %s: %s", self.peer, reason)
        self.closed = True
        self.transport.loseConnection()


def _show(name: bytes) -> str:
    return name.decode("utf-8", "replace")


class LockService:
    """Queues, timers and grants; no I/O besides ``Connection.send``."""

    def __init__(self, clock: IReactorTime, secret: Optional[str] = None):
        self.clock = clock
        self.secret = secret.encode() if secret else None
        self.queues: dict[bytes, deque[_Lock]] = {}
        self.connections: set[Connection] = set()

    # -- connections -----------------------------------------------------------

    def connect(self, transport: Any, peer: str) -> Connection:
        conn = Connection(self, transport, peer)
        self.connections.add(conn)
        log.debug("locker: %s connected", peer)
        return conn

    def disconnect(self, conn: Connection) -> None:
        conn.closed = True
        self.connections.discard(conn)
        locks = list(conn.locks.values())
        conn.locks.clear()
        if locks:
            log.info("locker: %s disconnected, releasing %d lock(s)", conn.peer, len(locks))
        for lk in locks:
            self._drop(lk)

    # -- frames ----------------------------------------------------------------

    def frame(self, conn: Connection, seq: int, wait_ms: int, timeout_ms: int, action: int, name: bytes) -> None:
        if conn.closed:
            return
        if not conn.authenticated:
            if action != ACTION_AUTH:
                conn.send(encode_response(seq, action, False))
                conn.refuse("unauthenticated peer sent a request before AUTH")
                return
            if not hmac.compare_digest(name, self.secret or b""):
                conn.send(encode_response(seq, ACTION_AUTH, False))
                conn.refuse("wrong shared secret")
                return
            conn.authenticated = True
            conn.send(encode_response(seq, ACTION_AUTH, True))
            log.info("locker: %s authenticated", conn.peer)
            return
        if action == ACTION_LOCK:
            self.lock(conn, seq, name, wait_ms, timeout_ms)
        elif action == ACTION_UNLOCK:
            self.unlock(conn, seq)
        elif action == ACTION_AUTH:
            conn.send(encode_response(seq, ACTION_AUTH, True))  # harmless repeat (or no secret configured)
        else:
            conn.refuse(f"protocol error: unknown action {action}")

    def lock(self, conn: Connection, seq: int, name: bytes, wait_ms: int, timeout_ms: int) -> None:
        if seq in conn.locks:
            log.warning("locker: %s reused sequence %d for %r; refused", conn.peer, seq, _show(name))
            conn.send(encode_response(seq, ACTION_LOCK, False))
            return
        queue = self.queues.get(name)
        if wait_ms == 0 and queue:
            conn.send(encode_response(seq, ACTION_LOCK, False))
            return
        lk = _Lock(conn, seq, name, timeout_ms)
        conn.locks[seq] = lk
        if queue is None:
            queue = self.queues[name] = deque()
        queue.append(lk)
        if len(queue) == 1:
            self._grant(lk)
        else:
            lk.wait_call = self.clock.callLater(wait_ms / 1000.0, self._wait_expired, lk)

    def unlock(self, conn: Connection, seq: int) -> None:
        lk = conn.locks.pop(seq, None)
        was_held = lk is not None and lk.held
        if lk is not None:
            self._drop(lk)
        conn.send(encode_response(seq, ACTION_UNLOCK, was_held))

    # -- internals -------------------------------------------------------------

    def _grant(self, lk: _Lock) -> None:
        lk.held = True
        if lk.wait_call is not None and lk.wait_call.active():
            lk.wait_call.cancel()
        lk.wait_call = None
        lk.conn.send(encode_response(lk.seq, ACTION_LOCK, True))
        lk.hold_call = self.clock.callLater(lk.timeout_ms / 1000.0, self._hold_expired, lk)

    def _wait_expired(self, lk: _Lock) -> None:
        lk.wait_call = None
        if lk.held:
            return
        lk.conn.locks.pop(lk.seq, None)
        self._drop(lk)
        lk.conn.send(encode_response(lk.seq, ACTION_LOCK, False))

    def _hold_expired(self, lk: _Lock) -> None:
        lk.hold_call = None
        if not lk.held:
            return
        if lk.timeout_ms:
            log.warning(
                "locker: %s held %r longer than %d ms; force-released", lk.conn.peer, _show(lk.name), lk.timeout_ms
            )
        if lk.conn.locks.get(lk.seq) is lk:
            del lk.conn.locks[lk.seq]
        self._drop(lk)

    def _drop(self, lk: _Lock) -> None:
        """Take ``lk`` out of its queue (held or waiting); grant the next waiter if it was the head."""
        for call in (lk.wait_call, lk.hold_call):
            if call is not None and call.active():
                call.cancel()
        lk.wait_call = lk.hold_call = None
        queue = self.queues.get(lk.name)
        if not queue:
            return
        was_head = queue[0] is lk
        try:
            queue.remove(lk)
        except ValueError:
            return
        lk.held = False
        if not queue:
            del self.queues[lk.name]
        elif was_head:
            self._grant(queue[0])


class LockerProtocol(protocol.Protocol):
    """Frames bytes; everything else is :class:`LockService`'s job."""

    def __init__(self, service: LockService):
        self.service = service
        self.buf = b""
        self.conn: Optional[Connection] = None

    def connectionMade(self) -> None:
        peer = self.transport.getPeer()
        self.conn = self.service.connect(self.transport, f"{getattr(peer, 'host', '?')}:{getattr(peer, 'port', '?')}")

    def dataReceived(self, data: bytes) -> None:
        self.buf += data
        while self.buf and self.buf[0] + 14 <= len(self.buf):
            n, seq, wait_ms, timeout_ms, action = HEADER.unpack_from(self.buf)
            name = self.buf[14 : 14 + n]
            self.buf = self.buf[14 + n :]
            self.service.frame(self.conn, seq, wait_ms, timeout_ms, action, name)
            if self.conn.closed:
                self.buf = b""
                return

    def connectionLost(self, reason: Any = None) -> None:
        if self.conn is not None:
            self.service.disconnect(self.conn)


class LockerFactory(protocol.Factory):
    noisy = False

    def __init__(self, service: LockService):
        self.service = service

    def buildProtocol(self, addr: Any) -> LockerProtocol:
        p = LockerProtocol(self.service)
        p.factory = self
        return p
