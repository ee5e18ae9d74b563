"""Client of our WebSocket broker (``python -m messagebroker``), ``messageBrokerOpts.mode = "websocket"``.

Wire protocol: :mod:`messagebroker.relay`. In short, JSON text messages:
``{"event": "auth", "secret": s}`` first when a secret is configured (answer
``{"event": "auth", "ok": true}``), then ``{"event": "msg", "data": <notification>}``
both ways; the broker echoes every ``msg`` to every client, the sender too.

Behaviour (like the reference's socket.io client, docs/spec/services.md §2.2):

* connects on :meth:`WebSocketBroker.start`, and reconnects forever after a
  failure or a drop, waiting 1 s doubling to 5 s with 0.5 randomisation;
* ``publish()`` while disconnected buffers the message (up to 10 000, oldest
  dropped first, logged) and flushes it once connected;
* after every successful (re)connection the ``on_connect`` handlers run: a
  durable consumer replays from its cursor then, because whatever was
  broadcast during the gap was missed.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from typing import Any, Optional

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol, connectWS

from bws.adapters.broker.base import ReconnectingBroker
from bws.interfaces import Message

log = logging.getLogger(__name__)


class _ClientProtocol(WebSocketClientProtocol):
    broker: "WebSocketBroker"

    def onOpen(self) -> None:
        self.factory.broker._opened(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if not isBinary:
            self.factory.broker._received(self, payload.decode("utf-8", "replace"))

    def onClose(self, wasClean: bool, code: Any, reason: Any) -> None:
        self.factory.broker._closed(self, code, reason)


class _ClientFactory(WebSocketClientFactory):
    protocol = _ClientProtocol

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        self.broker._failed(reason)


class WebSocketBroker(ReconnectingBroker):
    """:class:`bws.interfaces.Broker` over the ``messagebroker`` WebSocket relay."""

    def __init__(
        self,
        url: str,
        reactor: Any,
        secret: Optional[str] = None,
        min_delay: float = 1.0,
        max_delay: float = 5.0,
        buffer_limit: int = 10_000,
    ):
        super().__init__(reactor, min_delay, max_delay)
        if url.startswith(("http://", "https://")):  # the reference's default was http://localhost:3380
            url = "ws" + url[4:]
        self.url = url
        self.secret = secret
        self._buffer: deque[str] = deque()
        self._buffer_limit = buffer_limit
        self._proto: Optional[_ClientProtocol] = None

    def publish(self, message: Message) -> None:
        text = json.dumps({"event": "msg", "data": message}, default=str)
        if self._ready and self._proto is not None:
            self._proto.sendMessage(text.encode("utf-8"), isBinary=False)
            return
        if len(self._buffer) >= self._buffer_limit:
            self._buffer.popleft()
            log.warning("broker: offline buffer full (%d); dropped the oldest message", self._buffer_limit)
        self._buffer.append(text)

    # -- connection ----------------------------------------------------------------------

    def _connect(self) -> None:
        if not self._running or self._connecting or self._proto is not None:
            return
        self._connecting = True
        factory = _ClientFactory(self.url)
        factory.broker = self
        factory.setProtocolOptions(autoPingInterval=20, autoPingTimeout=10, maxMessagePayloadSize=1 << 20)
        connectWS(factory, timeout=10)

    def _disconnect(self) -> None:
        if self._proto is not None:
            self._proto.dropConnection(abort=True)

    # -- protocol events -----------------------------------------------------------------

    def _opened(self, proto: _ClientProtocol) -> None:
        self._connecting = False
        self._proto = proto
        if not self._running:
            proto.dropConnection(abort=True)
            return
        if self.secret:
            proto.sendMessage(json.dumps({"event": "auth", "secret": self.secret}).encode(), isBinary=False)
        else:
            self._become_ready()

    def _become_ready(self) -> None:
        # the offline buffer goes out before the on_connect handlers replay
        while self._buffer and self._proto is not None:
            self._proto.sendMessage(self._buffer.popleft().encode("utf-8"), isBinary=False)
        self._connected(self.url)

    def _received(self, proto: _ClientProtocol, text: str) -> None:
        try:
            msg = json.loads(text)
        except ValueError:
            log.warning("broker: dropped a message that is not JSON")
            return
        if not isinstance(msg, dict):
            return
        if msg.get("event") == "auth":
            if msg.get("ok") and not self._ready:
                self._become_ready()
            return
        if msg.get("event") == "msg":
            self._deliver(msg.get("data"))

    def _closed(self, proto: _ClientProtocol, code: Any, reason: Any) -> None:
        if self._proto is proto or self._proto is None:
            if self._ready:
                log.warning("broker: connection to %s lost (%s %s); reconnecting", self.url, code, reason or "")
            elif code == 4003:
                log.error("broker: %s refused us: %s", self.url, reason)
            self._proto = None
            self._ready = False
        self._schedule()

    def _failed(self, reason: Any) -> None:
        log.warning("broker: cannot connect to %s: %s", self.url, reason.getErrorMessage())
        self._schedule()
