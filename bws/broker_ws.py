"""Client of our WebSocket broker (``python -m messagebroker``), ``messageBrokerOpts.mode = "websocket"``.

Wire protocol: :mod:`messagebroker.relay`. In short, JSON text messages:
``{"event": "auth", "secret": s}`` first when a secret is configured (answer
``{"event": "auth", "ok": true}``), then ``{"event": "msg", "data": <notification>}``
both ways; the broker echoes every ``msg`` to every client, the sender too.

Behaviour (like the reference's socket.io client, spec/services.md §2.2):

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
import random
from collections import deque
from typing import Any, Callable, Optional

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol, connectWS

from bws.broker import Handler, Message

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


class WebSocketBroker:
    """:class:`bws.broker.Broker` over the ``messagebroker`` WebSocket relay."""

    def __init__(
        self,
        url: str = "ws://127.0.0.1:3380",
        reactor: Any = None,
        secret: Optional[str] = None,
        min_delay: float = 1.0,
        max_delay: float = 5.0,
        buffer_limit: int = 10_000,
    ):
        if reactor is None:
            from twisted.internet import reactor  # type: ignore[no-redef]
        self.reactor = reactor
        if url.startswith(("http://", "https://")):  # the reference's default was http://localhost:3380
            url = "ws" + url[4:]
        self.url = url
        self.secret = secret
        self.min_delay = min_delay
        self.max_delay = max_delay
        self._delay = min_delay
        self._handlers: list[Handler] = []
        self._connect_handlers: list[Callable[[], Any]] = []
        self._buffer: deque[str] = deque()
        self._buffer_limit = buffer_limit
        self._proto: Optional[_ClientProtocol] = None
        self._ready = False
        self._running = False
        self._connecting = False
        self._retry_call: Any = None
        self._was_connected = False

    # -- Broker interface ----------------------------------------------------------

    def publish(self, message: Message) -> None:
        text = json.dumps({"event": "msg", "data": message}, default=str)
        if self._ready and self._proto is not None:
            self._proto.sendMessage(text.encode("utf-8"), isBinary=False)
            return
        if len(self._buffer) >= self._buffer_limit:
            self._buffer.popleft()
            log.warning("broker: offline buffer full (%d); dropped the oldest message", self._buffer_limit)
        self._buffer.append(text)

    def on_message(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def on_connect(self, handler: Callable[[], Any]) -> None:
        """``handler()`` runs after every successful (re)connection."""
        self._connect_handlers.append(handler)

    @property
    def connected(self) -> bool:
        return self._ready

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> "WebSocketBroker":
        if not self._running:
            self._running = True
            self._connect()
        return self

    def stop(self) -> None:
        self._running = False
        if self._retry_call is not None and self._retry_call.active():
            self._retry_call.cancel()
        if self._proto is not None:
            self._proto.dropConnection(abort=True)
        self._ready = False

    def _connect(self) -> None:
        if not self._running or self._connecting or self._proto is not None:
            return
        self._connecting = True
        factory = _ClientFactory(self.url)
        factory.broker = self
        factory.setProtocolOptions(autoPingInterval=20, autoPingTimeout=10, maxMessagePayloadSize=1 << 20)
        connectWS(factory, timeout=10)

    def _schedule(self) -> None:
        self._connecting = False
        if not self._running or (self._retry_call is not None and self._retry_call.active()):
            return
        delay = self._delay * (1 + random.uniform(-0.5, 0.5))
        self._delay = min(self._delay * 2, self.max_delay)
        self._retry_call = self.reactor.callLater(delay, self._connect)

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
        self._ready = True
        self._delay = self.min_delay
        log.info("broker: %s to %s", "reconnected" if self._was_connected else "connected", self.url)
        self._was_connected = True
        while self._buffer and self._proto is not None:
            self._proto.sendMessage(self._buffer.popleft().encode("utf-8"), isBinary=False)
        for h in list(self._connect_handlers):
            try:
                h()
            except Exception:
                log.exception("broker: on_connect handler failed")

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
        if msg.get("event") != "msg":
            return
        data = msg.get("data")
        for h in list(self._handlers):
            try:
                h(data)
            except Exception:
                log.exception("broker: message handler failed")

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
