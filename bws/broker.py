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
