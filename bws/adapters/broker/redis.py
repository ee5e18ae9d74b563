"""Broker over Redis pub/sub (``messageBrokerOpts.mode = "redis"``), for more than one machine.

Commands: ``PUBLISH bws:msg <json>`` where the JSON text is the same envelope
as on the WebSocket relay, ``{"event": "msg", "data": <notification>}``; every
process holds one extra connection in ``SUBSCRIBE bws:msg`` and hands each
message's ``data`` to its handlers (its own publishes included, like the
WebSocket relay's echo). Access control is Redis's own (``requirepass`` /
ACL user and password in ``redis.url``).

The subscriber reconnects forever (0.2 s doubling to 5 s) and runs the
``on_connect`` handlers after every successful SUBSCRIBE, so durable
consumers replay what they missed. Publishing while Redis is down waits in
txredisapi's lazy connection until it is back.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Optional

import txredisapi
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol

from bws.adapters.broker.base import ReconnectingBroker
from bws.adapters.redis_conn import parse_redis_url, redis_connection
from bws.interfaces import Message

log = logging.getLogger(__name__)

CHANNEL = "bws:msg"


class _NoFactory:
    """txredisapi's protocol reports auth errors to its factory; we only log."""

    isLazy = True

    def stopTrying(self) -> None:
        pass

    def connectionError(self, why: str) -> None:
        log.error("broker: %s", why)


class _Subscriber(txredisapi.SubscriberProtocol):
    broker: "RedisBroker"

    def messageReceived(self, pattern: Any, channel: Any, message: Any) -> None:
        self.broker._received(message)

    def connectionLost(self, why: Any) -> None:
        super().connectionLost(why)
        self.broker._lost(self)


class RedisBroker(ReconnectingBroker):
    """:class:`bws.interfaces.Broker` over Redis pub/sub."""

    def __init__(
        self,
        url: str,
        reactor: Any,
        channel: str = CHANNEL,
        min_delay: float = 0.2,
        max_delay: float = 5.0,
        connection: Any = None,
    ):
        super().__init__(reactor, min_delay, max_delay)
        self.url = url
        self.channel = channel
        self._kw = parse_redis_url(url)
        self._pub_conn = connection
        self._sub: Optional[_Subscriber] = None

    @property
    def _pub(self) -> Any:
        if self._pub_conn is None:
            self._pub_conn = redis_connection(self.url)
        return self._pub_conn

    def publish(self, message: Message) -> None:
        text = json.dumps({"event": "msg", "data": message}, default=str)
        d = self._pub.publish(self.channel, text)
        d.addErrback(lambda f: log.warning("broker: redis publish failed: %s", f.getErrorMessage()))

    # -- connection ----------------------------------------------------------------------

    def _connect(self) -> None:
        if not self._running or self._connecting or self._sub is not None:
            return
        self._connecting = True
        proto = _Subscriber(
            charset="utf-8", password=self._kw["password"], username=self._kw["username"], convertNumbers=False
        )
        proto.factory = _NoFactory()
        proto.broker = self
        ep = HostnameEndpoint(self.reactor, self._kw["host"], self._kw["port"], timeout=5)
        d = connectProtocol(ep, proto)
        d.addCallback(lambda p: p.whenConnected())
        d.addCallback(self._subscribe)
        d.addErrback(self._failed)

    def _disconnect(self) -> None:
        if self._sub is not None and self._sub.transport is not None:
            self._sub.transport.loseConnection()
        if self._pub_conn is not None:
            self._pub_conn.disconnect()
            self._pub_conn = None

    def _subscribe(self, proto: _Subscriber) -> Any:
        self._sub = proto
        d = proto.subscribe(self.channel)
        return d.addCallback(lambda _: self._connected(f"redis channel {self.channel}"))

    def _failed(self, failure: Any) -> None:
        log.warning("broker: cannot subscribe on redis %s: %s", self.url, failure.getErrorMessage())
        if self._sub is not None and self._sub.transport is not None:
            self._sub.transport.loseConnection()
            return  # _lost schedules the retry
        self._schedule()

    def _lost(self, proto: _Subscriber) -> None:
        if proto is self._sub:
            if self._ready:
                log.warning("broker: redis subscription lost; reconnecting")
            self._sub = None
            self._ready = False
        self._schedule()

    def _received(self, raw: Any) -> None:
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "replace")
        try:
            msg = json.loads(raw)
        except (TypeError, ValueError):
            log.warning("broker: dropped a redis message that is not JSON")
            return
        if isinstance(msg, dict) and msg.get("event") == "msg":
            self._deliver(msg.get("data"))
