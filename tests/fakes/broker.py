"""In-memory :class:`bws.interfaces.Broker` that records what was published."""

from __future__ import annotations

from typing import Any, Callable

from bws.interfaces import Handler, Message


class FakeBroker:
    """``published``: every message, in order; handlers are called synchronously.
    ``connect()`` plays a (re)connection: the ``on_connect`` handlers run."""

    def __init__(self) -> None:
        self.connected = False
        self.published: list[Message] = []
        self._handlers: list[Handler] = []
        self._on_connect: list[Callable[[], Any]] = []

    def publish(self, message: Message) -> None:
        self.published.append(message)
        for h in list(self._handlers):
            h(message)

    def on_message(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def on_connect(self, handler: Callable[[], Any]) -> None:
        self._on_connect.append(handler)

    def start(self) -> "FakeBroker":
        self.connect()
        return self

    def connect(self) -> None:
        self.connected = True
        for h in list(self._on_connect):
            h()

    def stop(self) -> None:
        self.connected = False

    def types(self) -> list[str]:
        """The ``type`` of every published message, in order."""
        return [m.get("type") for m in self.published]
