"""Broker clients: wake-up signals between processes.

The database is the source of truth for notifications (design.md, "How data
flows"): a notification is stored first, and only then published here so that
consumers wake up and read the store. A lost broker message therefore delays a
delivery but never loses it.

Interface (:class:`Broker`): ``publish(message: dict)`` and
``on_message(handler)`` where ``handler(message: dict)`` is called for every
message any process published (including our own, as the reference broker
echoes to the sender). Implementations, chosen by ``messageBrokerOpts.mode``:
:class:`LocalBroker` (``local``, in-process), the WebSocket client of our
``messagebroker`` process (``websocket``) and Redis pub/sub (``redis``).
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
