"""Client of our lock server (``python -m locker``, npm ``locker-server`` protocol).

Wire protocol: see :mod:`locker.server` (request frames of ``14 + N`` bytes,
6-byte responses, sequence-multiplexed on one TCP connection; ``AUTH`` frame
first when a shared secret is configured).

Behaviour (reference npm ``locker@0.1.0`` client, docs/spec/services.md §1.1, with
its defects fixed):

* one connection per client object, opened lazily on the first request and
  re-opened on demand after it drops (backoff 0.1 s doubling to 2 s while
  requests are pending);
* ``acquire(token, wait_time, max_hold)`` sends ``LOCK`` with ``wait`` and
  ``timeout`` in ms; ``LOCK/1`` grants (the release function is returned),
  ``LOCK/0`` raises :class:`bws.interfaces.LockTimeout` (the server's wait timer
  fired, or ``wait == 0`` on a busy name);
* a client-side timer of ``wait_time + 0.5`` s covers a silent or unreachable
  server: the acquire fails with LockTimeout and an ``UNLOCK`` withdraws the
  request, so a grant arriving late is handed straight back (the reference
  kept such a lock until its hold timeout);
* requests not yet granted when the connection drops are re-sent on the next
  connection with their remaining wait; locks *held* on a dropped connection
  are gone (the server released them): that is logged, and their release
  function becomes a no-op;
* ``wait_time == 0`` asks once: granted if the name is free, LockTimeout at
  once if it is busy (the server's ``wait = 0`` semantics);
* ``release()`` is idempotent and fire-and-forget (``UNLOCK``), like the
  reference; the server force-releases after ``max_hold`` anyway.
"""

from __future__ import annotations

import logging
import struct
from typing import Any, Callable, Optional

from twisted.internet import protocol
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol

from bws.interfaces import DEFAULT_MAX_HOLD, DEFAULT_WAIT, LockTimeout

log = logging.getLogger(__name__)

# The frame codec, repeated from locker.server so bws does not import the server package.
ACTION_UNLOCK = 0
ACTION_LOCK = 1
ACTION_AUTH = 2
_HEADER = struct.Struct("<BIIIB")  # N, sequence, wait ms, timeout ms, action
_RESPONSE = struct.Struct("<IBB")  # sequence, action, result


def encode_request(name: bytes, sequence: int, wait_ms: int, timeout_ms: int, action: int) -> bytes:
    return _HEADER.pack(len(name), sequence, wait_ms, timeout_ms, action) + name
_GRACE = 0.5
_UINT32_MAX = 0xFFFFFFFF


class _Request:
    __slots__ = ("seq", "name", "hold_ms", "deadline", "deferred", "state", "proto", "timer", "try_once")

    def __init__(self, seq: int, name: bytes, hold_ms: int, deadline: float, try_once: bool = False):
        self.try_once = try_once
        self.seq = seq
        self.name = name
        self.hold_ms = hold_ms
        self.deadline = deadline
        self.deferred: Deferred = Deferred()
        #: pending (not sent) -> sent -> held -> released | lost; or abandoned
        self.state = "pending"
        self.proto: Optional[_ClientProtocol] = None
        self.timer: Any = None


class _ClientProtocol(protocol.Protocol):
    def __init__(self, client: "LockerClient"):
        self.client = client
        self.buf = b""
        self.ready = False

    def connectionMade(self) -> None:
        self.client._connected(self)

    def dataReceived(self, data: bytes) -> None:
        self.buf += data
        while len(self.buf) >= 6:
            seq, action, result = _RESPONSE.unpack_from(self.buf)
            self.buf = self.buf[6:]
            self.client._response(self, seq, action, result)

    def connectionLost(self, reason: Any = None) -> None:
        self.client._lost(self, reason)


class LockerClient:
    """:class:`bws.interfaces.Lock` backed by a ``python -m locker`` server."""

    def __init__(self, host: str, port: int, reactor: Any, secret: Optional[str] = None):
        self.reactor = reactor
        self.host = host
        self.port = port
        self.secret = secret.encode() if secret else None
        self._seq = 0
        self._requests: dict[int, _Request] = {}
        self._proto: Optional[_ClientProtocol] = None
        self._connecting = False
        self._retry_call: Any = None
        self._backoff = 0.1
        self._closed = False

    # -- public ------------------------------------------------------------------

    async def acquire(
        self, token: str, wait_time: float = DEFAULT_WAIT, max_hold: float = DEFAULT_MAX_HOLD
    ) -> Callable[[], None]:
        name = token.encode("utf-8")
        if len(name) > 255:
            raise ValueError("lock name longer than 255 bytes")
        self._seq = self._seq + 1 if self._seq < _UINT32_MAX else 1
        req = _Request(
            self._seq, name, min(_UINT32_MAX, int(max_hold * 1000)), self.reactor.seconds() + wait_time,
            try_once=wait_time <= 0,
        )
        self._requests[req.seq] = req
        req.timer = self.reactor.callLater(wait_time + _GRACE, self._client_timeout, req)
        if self._proto is not None and self._proto.ready:
            self._send_lock(req)
        else:
            self._ensure_connection()
        await req.deferred
        return lambda: self._release(req)

    def close(self) -> None:
        """Drop the connection (the server releases every lock of it) and stop reconnecting."""
        self._closed = True
        if self._retry_call is not None and self._retry_call.active():
            self._retry_call.cancel()
        for req in list(self._requests.values()):
            if req.timer is not None and req.timer.active():
                req.timer.cancel()
            if req.state in ("pending", "sent"):
                req.state = "abandoned"
                req.deferred.errback(LockTimeout(f"lock client closed while waiting for {req.name!r}"))
        self._requests.clear()
        if self._proto is not None:
            self._proto.transport.loseConnection()

    # -- connection ----------------------------------------------------------------

    def _ensure_connection(self) -> None:
        if self._closed or self._connecting or self._proto is not None:
            return
        if self._retry_call is not None and self._retry_call.active():
            return
        self._connecting = True
        ep = HostnameEndpoint(self.reactor, self.host, self.port, timeout=5)
        d = connectProtocol(ep, _ClientProtocol(self))
        d.addErrback(self._connect_failed)

    def _connect_failed(self, failure: Any) -> None:
        self._connecting = False
        log.warning("lock: cannot connect to locker %s:%s: %s", self.host, self.port, failure.getErrorMessage())
        self._schedule_retry()

    def _schedule_retry(self) -> None:
        if self._closed or not any(r.state == "pending" for r in self._requests.values()):
            return
        delay, self._backoff = self._backoff, min(self._backoff * 2, 2.0)
        self._retry_call = self.reactor.callLater(delay, self._ensure_connection)

    def _connected(self, proto: _ClientProtocol) -> None:
        self._connecting = False
        self._proto = proto
        if self._closed:
            proto.transport.loseConnection()
            return
        if self.secret is not None:
            proto.transport.write(encode_request(self.secret, 0, 0, 0, ACTION_AUTH))
        else:
            self._ready(proto)

    def _ready(self, proto: _ClientProtocol) -> None:
        proto.ready = True
        self._backoff = 0.1
        log.info("lock: connected to locker %s:%s", self.host, self.port)
        for req in list(self._requests.values()):
            if req.state == "pending":
                self._send_lock(req)

    def _lost(self, proto: _ClientProtocol, reason: Any) -> None:
        if self._proto is proto:
            self._proto = None
        for req in list(self._requests.values()):
            if req.proto is not proto:
                continue
            if req.state == "held":
                log.warning("lock: connection to locker lost while holding %r; the server released it",
                            req.name.decode("utf-8", "replace"))
                req.state = "lost"
                self._requests.pop(req.seq, None)
            elif req.state == "sent":
                req.state = "pending"
                req.proto = None
            elif req.state in ("abandoned", "released"):
                self._requests.pop(req.seq, None)
        if not self._closed:
            log.info("lock: connection to locker %s:%s closed", self.host, self.port)
            self._schedule_retry()

    # -- frames ----------------------------------------------------------------------

    def _send_lock(self, req: _Request) -> None:
        if req.try_once:
            wait_ms = 0  # server semantics: granted if free, refused at once if busy
        else:
            remaining = req.deadline - self.reactor.seconds()
            if remaining <= 0:
                return  # the client timer fails it
            wait_ms = max(1, min(_UINT32_MAX, int(remaining * 1000)))
        req.state = "sent"
        req.proto = self._proto
        self._proto.transport.write(encode_request(req.name, req.seq, wait_ms, req.hold_ms, ACTION_LOCK))

    def _send_unlock(self, req: _Request) -> None:
        if req.proto is not None and req.proto is self._proto and req.proto.ready:
            req.proto.transport.write(encode_request(b"", req.seq, 0, 0, ACTION_UNLOCK))

    def _response(self, proto: _ClientProtocol, seq: int, action: int, result: int) -> None:
        if action == ACTION_AUTH:
            if result:
                self._ready(proto)
            else:
                log.error("lock: locker %s:%s refused our shared secret (lockOpts.secret)", self.host, self.port)
                proto.transport.loseConnection()
            return
        req = self._requests.get(seq)
        if action == ACTION_UNLOCK:
            if req is not None and req.state in ("released", "abandoned"):
                del self._requests[seq]
            return
        if req is None or req.proto is not proto:
            if result:  # a grant nobody waits for: hand it back
                proto.transport.write(encode_request(b"", seq, 0, 0, ACTION_UNLOCK))
            return
        if req.state == "abandoned":
            return  # the UNLOCK we sent on timeout withdraws/releases it
        if req.timer is not None and req.timer.active():
            req.timer.cancel()
        if result:
            req.state = "held"
            req.deferred.callback(None)
        else:
            del self._requests[seq]
            req.state = "abandoned"
            req.deferred.errback(LockTimeout(f"Could not acquire lock {req.name.decode('utf-8', 'replace')}"))

    def _client_timeout(self, req: _Request) -> None:
        if req.state not in ("pending", "sent"):
            return
        was_sent = req.state == "sent"
        req.state = "abandoned"
        if was_sent:
            self._send_unlock(req)
        else:
            self._requests.pop(req.seq, None)
        req.deferred.errback(LockTimeout(f"Could not acquire lock {req.name.decode('utf-8', 'replace')}"))

    def _release(self, req: _Request) -> None:
        if req.state != "held":
            return
        req.state = "released"
        self._send_unlock(req)
