"""Broker clients: wake-up signals between processes.

The database is the source of truth for notifications (design.md, "How data
flows"): a notification is stored first, and only then published here so that
consumers wake up and read the store. A lost broker message therefore delays a
delivery but never loses it.

Interface (:class:`Broker`): ``publish(message: dict)`` and
``on_message(handler)`` where ``handler(message: dict)`` is called for every
message any process published (including our own, as the reference broker
echoes to the sender). Every implementation also has ``on_connect(handler)``
(``handler()`` after each successful (re)connection: the moment to replay
from a durable cursor), ``start()`` and ``stop()``.

Implementations, chosen by ``messageBrokerOpts.mode`` in :func:`make_broker`:
:class:`LocalBroker` (``local``, in-process),
:class:`bws.broker_ws.WebSocketBroker` (``websocket``, client of ``python -m
messagebroker``; wire protocol in :mod:`messagebroker.relay`) and
:class:`bws.broker_redis.RedisBroker` (``redis``, pub/sub on ``bws:msg``).
"""

from __future__ import annotations

import logging
import random
from typing import Any, Callable, Protocol

log = logging.getLogger(__name__)

Message = dict[str, Any]
Handler = Callable[[Message], Any]


class Broker(Protocol):
    def publish(self, message: Message) -> None: ...

    def on_message(self, handler: Handler) -> None: ...


class LocalBroker:
    """In-process fan-out (tests and single-process setups)."""

    def __init__(self) -> None:
        self._handlers: list[Handler] = []
        self.published: list[Message] = []

    def publish(self, message: Message) -> None:
        self.published.append(message)
        for h in list(self._handlers):
            try:
                h(message)
            except Exception:  # a bad handler must not stop the others
                log.exception("broker handler failed")

    def on_message(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def on_connect(self, handler: Callable[[], Any]) -> None:
        """Never fires: an in-process broker is never disconnected."""

    connected = True

    def start(self) -> "LocalBroker":
        return self

    def stop(self) -> None:
        pass


class ReconnectingBroker:
    """What the network brokers share: handler registration, the
    ``start``/``stop`` state, reconnecting with doubling randomised delays, and
    fanning a received message or a (re)connection out to the handlers.

    Subclasses implement ``publish``, ``_connect()`` (open the connection;
    call :meth:`_connected` once messages can flow, :meth:`_schedule` when
    the attempt failed or the connection dropped) and ``_disconnect()``."""

    def __init__(self, reactor: Any, min_delay: float, max_delay: float) -> None:
        if reactor is None:
            from twisted.internet import reactor  # type: ignore[no-redef]
        self.reactor = reactor
        self.min_delay = min_delay
        self.max_delay = max_delay
        self._delay = min_delay
        self._handlers: list[Handler] = []
        self._connect_handlers: list[Callable[[], Any]] = []
        self._ready = False
        self._running = False
        self._connecting = False
        self._retry_call: Any = None
        self._was_connected = False

    def on_message(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def on_connect(self, handler: Callable[[], Any]) -> None:
        """``handler()`` runs after every successful (re)connection."""
        self._connect_handlers.append(handler)

    @property
    def connected(self) -> bool:
        return self._ready

    def start(self) -> Any:
        if not self._running:
            self._running = True
            self._connect()
        return self

    def stop(self) -> None:
        self._running = False
        if self._retry_call is not None and self._retry_call.active():
            self._retry_call.cancel()
        self._disconnect()
        self._ready = False

    def _connect(self) -> None:
        raise NotImplementedError

    def _disconnect(self) -> None:
        raise NotImplementedError

    def _schedule(self) -> None:
        """Try again after the current delay (+-50%), then double it up to ``max_delay``."""
        self._connecting = False
        if not self._running or (self._retry_call is not None and self._retry_call.active()):
            return
        delay = self._delay * (1 + random.uniform(-0.5, 0.5))
        self._delay = min(self._delay * 2, self.max_delay)
        self._retry_call = self.reactor.callLater(delay, self._connect)

    def _connected(self, what: str) -> None:
        """Messages flow again: reset the delay, log, run the on_connect handlers."""
        self._connecting = False
        self._ready = True
        self._delay = self.min_delay
        log.info("broker: %s %s", "reconnected to" if self._was_connected else "connected to", what)
        self._was_connected = True
        for h in list(self._connect_handlers):
            try:
                h()
            except Exception:
                log.exception("broker: on_connect handler failed")

    def _deliver(self, data: Any) -> None:
        """Hand one received message's ``data`` to every handler (a failing one does not stop the rest)."""
        for h in list(self._handlers):
            try:
                h(data)
            except Exception:
                log.exception("broker: message handler failed")


def make_broker(config: Any, reactor: Any = None, start: bool = True) -> Any:
    """The broker selected by ``config.messageBrokerOpts.mode`` (``websocket`` | ``redis`` | ``local``).

    ``config`` is a :class:`bws.config.Config`; with ``start`` (default) the
    connection is opened now and kept up (reconnecting) until ``stop()``.
    """
    opts = config.messageBrokerOpts
    if reactor is None:
        from twisted.internet import reactor  # type: ignore[no-redef]
    if opts.mode == "local":
        broker: Any = LocalBroker()
    elif opts.mode == "websocket":
        from bws.broker_ws import WebSocketBroker

        broker = WebSocketBroker(opts.messageBrokerServer.url, reactor, secret=opts.secret or None)
    elif opts.mode == "redis":
        from bws.broker_redis import RedisBroker

        broker = RedisBroker(config.redis.url, reactor)
    else:
        raise ValueError(f"messageBrokerOpts.mode: unknown mode {opts.mode!r}")
    return broker.start() if start else broker
