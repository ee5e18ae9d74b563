"""What the network brokers (ws.py, redis.py) share: :class:`ReconnectingBroker`."""

from __future__ import annotations

import logging
import random
from typing import Any, Callable

from bws.interfaces import Handler

log = logging.getLogger("bws.broker")


class ReconnectingBroker:
    """What the network brokers share: handler registration, the
    ``start``/``stop`` state, reconnecting with doubling randomised delays, and
    fanning a received message or a (re)connection out to the handlers.

    Subclasses implement ``publish``, ``_connect()`` (open the connection;
    call :meth:`_connected` once messages can flow, :meth:`_schedule` when
    the attempt failed or the connection dropped) and ``_disconnect()``."""

    def __init__(self, reactor: Any, min_delay: float, max_delay: float) -> None:
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
