"""WebSocket relay: every message from any client goes to every client, sender included.

Replaces the reference's socket.io 2.x broker (docs/spec/services.md §2.1, §2.6)
with plain WebSocket (RFC 6455, autobahn) on 127.0.0.1:3380. It is a wake-up
channel only: notifications are stored in MongoDB first, so a message lost
here delays a delivery but never loses it (see bws/delivery/stream.py).

Wire protocol, one JSON object per WebSocket *text* message (UTF-8):

* client -> server ``{"event": "msg", "data": {...}}``: a notification (the
  reference's ``msg`` event). The server writes the very same text to every
  connected (and, with a secret, authenticated) client, the sender included,
  in the order received. No acknowledgement, no persistence, no replay: a
  client that is not connected at that moment misses it.
* client -> server ``{"event": "auth", "secret": "<shared secret>"}``: required
  as the *first* message when the server has a secret (always when it binds a
  non-loopback address). Answer ``{"event": "auth", "ok": true}``. A wrong
  secret, any other message first, or no auth within 10 s: the server logs
  the reason and the peer and closes with code 4003 (reason text). Without a
  secret an auth message is answered ``ok`` and otherwise ignored.
* Anything else -- binary frames, text that is not a JSON object, an unknown
  ``event`` -- is dropped with a log line (binary: closed with 1003). Messages
  are limited to 1 MiB. The server pings every 20 s and drops a peer that does
  not answer within 10 s.

Structure: :class:`BrokerServerProtocol` (autobahn) only moves text; the
:class:`Relay` (plain object, clock injected) holds peers and rules.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any, Optional

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol

log = logging.getLogger("messagebroker")

CLOSE_AUTH = 4003
MAX_MESSAGE = 1 << 20
AUTH_TIMEOUT = 10.0


class Peer:
    """One connected client as the relay sees it."""

    def __init__(self, transport: Any, name: str, authenticated: bool):
        self.transport = transport  # has send_text(str) and close(code, reason)
        self.name = name
        self.authenticated = authenticated
        self.auth_call: Any = None
        self.closed = False


class Relay:
    def __init__(self, clock: Any, secret: Optional[str] = None, auth_timeout: float = AUTH_TIMEOUT):
        self.clock = clock
        self.secret = secret.encode() if secret else None
        self.auth_timeout = auth_timeout
        self.peers: list[Peer] = []
        self.relayed = 0

    def attach(self, transport: Any, name: str) -> Peer:
        peer = Peer(transport, name, authenticated=self.secret is None)
        self.peers.append(peer)
        if self.secret is not None:
            peer.auth_call = self.clock.callLater(self.auth_timeout, self._auth_timeout, peer)
        log.info("broker: %s connected (%d peers)", name, len(self.peers))
        return peer

    def detach(self, peer: Peer) -> None:
        peer.closed = True
        if peer.auth_call is not None and peer.auth_call.active():
            peer.auth_call.cancel()
        if peer in self.peers:
            self.peers.remove(peer)
            log.info("broker: %s disconnected (%d peers)", peer.name, len(self.peers))

    def refuse(self, peer: Peer, reason: str) -> None:
        log.warning("broker: refusing %s: %s", peer.name, reason)
        if peer in self.peers:
            self.peers.remove(peer)
        peer.closed = True
        if peer.auth_call is not None and peer.auth_call.active():
            peer.auth_call.cancel()
        peer.transport.close(CLOSE_AUTH, reason)

    def _auth_timeout(self, peer: Peer) -> None:
        peer.auth_call = None
        if not peer.authenticated and not peer.closed:
            self.refuse(peer, f"no auth message within {self.auth_timeout:g} s")

    def receive(self, peer: Peer, text: str) -> None:
        if peer.closed:
            return
        try:
            msg = json.loads(text)
        except ValueError:
            msg = None
        if not isinstance(msg, dict):
            if not peer.authenticated:
                self.refuse(peer, "unauthenticated peer sent a message that is not an auth message")
            else:
                log.warning("broker: %s sent a message that is not a JSON object; dropped", peer.name)
            return
        event = msg.get("event")
        if event == "auth":
            secret = msg.get("secret")
            if self.secret is not None and not peer.authenticated:
                if not isinstance(secret, str) or not hmac.compare_digest(secret.encode(), self.secret):
                    self.refuse(peer, "wrong shared secret")
                    return
                peer.authenticated = True
                if peer.auth_call is not None and peer.auth_call.active():
                    peer.auth_call.cancel()
                log.info("broker: %s authenticated", peer.name)
            peer.transport.send_text(json.dumps({"event": "auth", "ok": True}))
            return
        if not peer.authenticated:
            self.refuse(peer, "unauthenticated peer sent a message before auth")
            return
        if event != "msg":
            log.warning("broker: %s sent unknown event %r; dropped", peer.name, event)
            return
        self.relayed += 1
        for p in list(self.peers):
            if p.authenticated and not p.closed:
                p.transport.send_text(text)


class BrokerServerProtocol(WebSocketServerProtocol):
    relay: Relay
    peer_state: Optional[Peer] = None

    def onOpen(self) -> None:
        self.peer_state = self.factory.relay.attach(self, str(self.peer))

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if self.peer_state is None:
            return
        if isBinary:
            log.warning("broker: %s sent a binary frame; closing", self.peer)
            self.factory.relay.detach(self.peer_state)
            self.sendClose(1003, "text frames only")
            return
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            return
        self.factory.relay.receive(self.peer_state, text)

    def onClose(self, wasClean: bool, code: Any, reason: Any) -> None:
        if self.peer_state is not None:
            self.factory.relay.detach(self.peer_state)

    # transport interface used by Relay
    def send_text(self, text: str) -> None:
        self.sendMessage(text.encode("utf-8"), isBinary=False)

    def close(self, code: int, reason: str) -> None:
        self.sendClose(code, reason)


class BrokerServerFactory(WebSocketServerFactory):
    protocol = BrokerServerProtocol

    def __init__(self, relay: Relay):
        # No URL: WebSocketServerFactory("ws://127.0.0.1:0") raises "invalid port 0".
        super().__init__()
        self.relay = relay
        self.setProtocolOptions(
            maxMessagePayloadSize=MAX_MESSAGE,
            maxFramePayloadSize=MAX_MESSAGE,
            autoPingInterval=20,
            autoPingTimeout=10,
        )
