"""Bitcoin P2P framing and dispatch, without a node (StringTransport)."""

from __future__ import annotations

import struct
from io import BytesIO

from bitcoin.core import COutPoint, CScript, CTransaction, CTxIn, CTxOut, lx
from bitcoin.messages import msg_inv
from bitcoin.net import CInv
from twisted.internet.testing import StringTransport

from bcmonitor.p2p import BitcoinP2PProtocol, frame

MAGIC = bytes.fromhex("fabfb5da")


class Recorder:
    def __init__(self):
        self.events = []

    def p2p_connected(self, proto):
        self.events.append("connected")

    def p2p_tx(self, tx):
        self.events.append(("tx", tx))

    def p2p_block(self, block):
        self.events.append(("block", block))


def read_frames(data: bytes):
    out = []
    while data:
        assert data[:4] == MAGIC
        cmd = data[4:16].rstrip(b"\x00")
        (n,) = struct.unpack("<I", data[16:20])
        out.append((cmd, data[24 : 24 + n]))
        data = data[24 + n :]
    return out


def connect():
    rec = Recorder()
    p = BitcoinP2PProtocol(MAGIC, rec)
    t = StringTransport()
    p.makeConnection(t)
    return p, t, rec


def test_handshake_ping_unknown_and_split_frames():
    p, t, rec = connect()
    [(cmd, payload)] = read_frames(t.value())
    assert cmd == b"version" and struct.unpack("<i", payload[:4])[0] == 70015
    t.clear()
    peer_version = struct.pack("<i", 70016) + b"\x00" * 80
    data = (
        frame(MAGIC, b"version", peer_version)
        + frame(MAGIC, b"wtxidrelay", b"")
        + frame(MAGIC, b"sendaddrv2", b"")
        + frame(MAGIC, b"verack", b"")
        + frame(MAGIC, b"ping", struct.pack("<Q", 1234))
    )
    for i in range(0, len(data), 7):  # arbitrary TCP chunking
        p.dataReceived(data[i : i + 7])
    assert [c for c, _ in read_frames(t.value())] == [b"verack", b"pong"]
    assert read_frames(t.value())[1][1] == struct.pack("<Q", 1234)
    assert rec.events == ["connected"] and p.peer_version == 70016
    assert not t.disconnecting


def test_inv_getdata_and_tx_dispatch():
    p, t, rec = connect()
    t.clear()
    inv = msg_inv()
    for typ, h in ((1, b"\x11" * 32), (2, b"\x22" * 32), (5, b"\x33" * 32)):
        c = CInv()
        c.type, c.hash = typ, h
        inv.inv.append(c)
    f = BytesIO()
    inv.msg_ser(f)
    p.dataReceived(frame(MAGIC, b"inv", f.getvalue()))
    [(cmd, payload)] = read_frames(t.value())
    assert cmd == b"getdata"
    assert payload[0] == 2 and payload[1:5] == struct.pack("<i", 1) and payload[37:41] == struct.pack("<i", 2)

    tx = CTransaction([CTxIn(COutPoint(lx("aa" * 32), 0))], [CTxOut(1500, CScript(b"\x51"))])
    p.dataReceived(frame(MAGIC, b"tx", tx.serialize()))
    [(kind, got)] = rec.events
    assert kind == "tx" and got.GetTxid() == tx.GetTxid()


def test_bad_checksum_or_magic_drops_connection():
    p, t, _ = connect()
    bad = bytearray(frame(MAGIC, b"ping", struct.pack("<Q", 1)))
    bad[20] ^= 0xFF
    p.dataReceived(bytes(bad))
    assert t.disconnecting
    p, t, _ = connect()
    p.dataReceived(frame(bytes.fromhex("f9beb4d9"), b"ping", struct.pack("<Q", 1)))
    assert t.disconnecting
