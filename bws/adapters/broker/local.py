"""The in-process broker (``messageBrokerOpts.mode = "local"``): tests and single-process setups.

Broker contract: :class:`bws.interfaces.Broker`. The database is the source of
truth for notifications (docs/notifications.md): a notification is stored first,
and only then published so that consumers wake up and read the store; a lost
broker message therefore delays a delivery but never loses it.

The network brokers are bws/adapters/broker/ws.py (``websocket``, client of
``python -m messagebroker``; wire protocol in messagebroker/relay.py) and
redis.py (``redis``, pub/sub on ``bws:msg``); bws/runtime.py ``make_broker``
chooses one.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from bws.interfaces import Handler, Message

log = logging.getLogger("bws.broker")


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
