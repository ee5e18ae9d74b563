"""Bitcoin P2P client: just enough of the protocol to be told about new txs and blocks.

Wire protocol (every message): ``magic(4) | command(12, NUL padded) |
length(4, LE) | checksum(4) = sha256d(payload)[:4] | payload``. Framing is done
here by hand because python-bitcoinlib's ``messagemap`` does not know newer
commands (``wtxidrelay``, ``sendaddrv2``...); payloads are (de)serialised with
python-bitcoinlib.

Message by message:

* on connect we send ``version`` (protocol 70015, services 0 = no witness/MWEB,
  relay = 1) and wait;
* ``version`` from the node -> we answer ``verack``;
* ``verack`` -> handshake done, ``handler.p2p_connected(protocol)``;
* ``ping(nonce)`` -> ``pong(nonce)``;
* ``inv`` -> ``getdata`` for the entries of type 1 (MSG_TX) and 2 (MSG_BLOCK);
* ``tx`` -> ``handler.p2p_tx(CTransaction)``; ``block`` -> ``handler.p2p_block(CBlock)``
  (a peer without NODE_MWEB/NODE_WITNESS gets stripped blocks that bitcoinlib parses);
* ``notfound`` and every other command are ignored. We never send ``sendheaders``:
  the node then announces blocks with ``inv``.

A bad magic or checksum drops the connection; :class:`P2PClientFactory`
reconnects with exponential back-off (1 s doubling to ``max_delay``).
"""

from __future__ import annotations

import hashlib
import logging
import random
import struct
import time
from io import BytesIO
from typing import Optional

from bitcoin.core import CBlock, CTransaction, b2lx
from bitcoin.messages import msg_getdata, msg_version
from bitcoin.net import CInv
from twisted.internet.protocol import Protocol, ReconnectingClientFactory

log = logging.getLogger("bcmonitor.p2p")

#: Network magic per network name (Bitcoin Core; litecoind regtest shares Bitcoin's).
MAGIC = {"livenet": "f9beb4d9", "testnet": "0b110907", "regtest": "fabfb5da"}
PROTOCOL_VERSION = 70015
MSG_TX = 1
MSG_BLOCK = 2
HEADER_LEN = 24
MAX_PAYLOAD = 32 * 1024 * 1024


def _checksum(payload: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]


def frame(magic: bytes, command: bytes, payload: bytes) -> bytes:
    """One wire message."""
    return magic + command.ljust(12, b"\x00") + struct.pack("<I", len(payload)) + _checksum(payload) + payload


def _payload(msg) -> bytes:
    f = BytesIO()
    msg.msg_ser(f)
    return f.getvalue()


class BitcoinP2PProtocol(Protocol):
    """One connection. ``handler`` gets ``p2p_connected(proto)``, ``p2p_tx(tx)``,
    ``p2p_block(block)`` and ``p2p_disconnected(reason)`` (all optional)."""

    def __init__(self, magic: bytes, handler, start_height: int = 0, user_agent: bytes = b"/bws-bcmonitor:0.1/"):
        self.magic = magic
        self.handler = handler
        self.start_height = start_height
        self.user_agent = user_agent
        self._buf = bytearray()
        self.handshake_done = False
        self.peer_version: Optional[int] = None

    # -- sending --------------------------------------------------------------

    def send(self, command: bytes, payload: bytes = b"") -> None:
        self.transport.write(frame(self.magic, command, payload))

    def connectionMade(self) -> None:
        v = msg_version(PROTOCOL_VERSION)
        v.nVersion = PROTOCOL_VERSION
        v.nServices = 0
        v.nTime = int(time.time())
        v.nNonce = random.getrandbits(64)
        v.strSubVer = self.user_agent
        v.nStartingHeight = self.start_height
        v.fRelay = True
        self.send(b"version", _payload(v))

    def getdata(self, items: list[tuple[int, bytes]]) -> None:
        m = msg_getdata(PROTOCOL_VERSION)
        for t, h in items:
            inv = CInv()
            inv.type = t
            inv.hash = h
            m.inv.append(inv)
        self.send(b"getdata", _payload(m))

    # -- receiving --------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        self._buf += data
        while len(self._buf) >= HEADER_LEN:
            header = bytes(self._buf[:HEADER_LEN])
            if header[:4] != self.magic:
                log.warning("p2p: bad magic %s, dropping the connection", header[:4].hex())
                self.transport.loseConnection()
                return
            command = header[4:16].rstrip(b"\x00")
            (length,) = struct.unpack("<I", header[16:20])
            if length > MAX_PAYLOAD:
                log.warning("p2p: %s payload of %d bytes, dropping the connection", command, length)
                self.transport.loseConnection()
                return
            if len(self._buf) < HEADER_LEN + length:
                return
            payload = bytes(self._buf[HEADER_LEN : HEADER_LEN + length])
            del self._buf[: HEADER_LEN + length]
            if _checksum(payload) != header[20:24]:
                log.warning("p2p: bad checksum on %s, dropping the connection", command)
                self.transport.loseConnection()
                return
            try:
                self.message_received(command, payload)
            except Exception:
                log.exception("p2p: failed to handle %s", command)

    def message_received(self, command: bytes, payload: bytes) -> None:
        if command == b"version":
            (self.peer_version,) = struct.unpack("<i", payload[:4])
            self.send(b"verack")
        elif command == b"verack":
            self.handshake_done = True
            self._call("p2p_connected", self)
        elif command == b"ping":
            self.send(b"pong", payload[:8])
        elif command == b"inv":
            f = BytesIO(payload)
            wanted = []
            from bitcoin.core.serialize import VectorSerializer

            for inv in VectorSerializer.stream_deserialize(CInv, f):
                if inv.type in (MSG_TX, MSG_BLOCK):
                    wanted.append((inv.type, inv.hash))
            if wanted:
                self.getdata(wanted)
        elif command == b"tx":
            tx = CTransaction.deserialize(payload)
            self._call("p2p_tx", tx)
        elif command == b"block":
            block = CBlock.deserialize(payload)
            log.debug("p2p: block %s", b2lx(block.GetHash()))
            self._call("p2p_block", block)
        # everything else (sendheaders, sendcmpct, feefilter, addr, wtxidrelay, ...) is ignored

    def _call(self, name: str, *args) -> None:
        fn = getattr(self.handler, name, None)
        if fn is not None:
            fn(*args)

    def connectionLost(self, reason) -> None:
        self._call("p2p_disconnected", reason)


class P2PClientFactory(ReconnectingClientFactory):
    """Keeps one connection to the trusted node, reconnecting with back-off."""

    initialDelay = 1.0
    factor = 2.0
    jitter = 0.1

    def __init__(self, magic: bytes, handler, max_delay: float = 30.0, clock=None):
        self.magic = magic
        self.handler = handler
        self.maxDelay = max_delay
        if clock is not None:
            self.clock = clock
        self.protocol_instance: Optional[BitcoinP2PProtocol] = None

    def buildProtocol(self, addr):
        self.resetDelay()
        p = BitcoinP2PProtocol(self.magic, self.handler)
        p.factory = self
        self.protocol_instance = p
        return p

    def clientConnectionLost(self, connector, reason):
        self.protocol_instance = None
        if not self.continueTrying:
            log.info("p2p: connection closed")
            return
        log.warning("p2p: connection lost (%s); reconnecting", reason.getErrorMessage())
        ReconnectingClientFactory.clientConnectionLost(self, connector, reason)

    def clientConnectionFailed(self, connector, reason):
        log.warning("p2p: connection failed (%s); retrying", reason.getErrorMessage())
        ReconnectingClientFactory.clientConnectionFailed(self, connector, reason)
