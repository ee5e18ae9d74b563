"""Wiring of one monitor to its transport (used by ``__main__`` and the tests).

* :class:`BtcRunner`: catch up over RPC (:meth:`BtcMonitor.start`), then keep a
  P2P connection to the trusted node (reconnect with back-off); every handshake
  triggers an RPC sync, so blocks missed while disconnected are applied.
* :class:`EvmRunner`: ``EvmMonitor.poll_once`` every ``interval`` seconds.
"""

from __future__ import annotations

import logging
from typing import Optional

from twisted.internet.task import LoopingCall

from bws.aio import run_coroutine

from .p2p import P2PClientFactory

log = logging.getLogger("bcmonitor")


class BtcRunner:
    def __init__(self, monitor, reactor, host: str, port: int, magic: bytes, max_delay: float = 30.0):
        self.monitor = monitor
        self.reactor = reactor
        self.host = host
        self.port = port
        self.factory = P2PClientFactory(magic, monitor, max_delay=max_delay, clock=reactor)
        self.connector = None

    async def start(self) -> None:
        await self.monitor.start()
        self.connector = self.reactor.connectTCP(self.host, self.port, self.factory)

    async def stop(self) -> None:
        self.factory.stopTrying()
        if self.connector is not None:
            self.connector.disconnect()
        for call in list(self.monitor._third_party_pending.values()):
            if call.active():
                call.cancel()
        self.monitor._third_party_pending.clear()
        # let in-flight events finish so nothing is half-applied
        await self.monitor._locked(_noop)
        close = getattr(self.monitor.rpc, "close", None)
        if close is not None:
            await close()


async def _noop():
    return None


class EvmRunner:
    def __init__(self, monitor, reactor, interval: float):
        self.monitor = monitor
        self.reactor = reactor
        self.interval = interval
        self.loop: Optional[LoopingCall] = None
        self._d = None

    async def start(self) -> None:
        await self.monitor.start()
        self.loop = LoopingCall(self._tick)
        self.loop.clock = self.reactor
        self._d = self.loop.start(self.interval, now=True)

    def _tick(self):
        d = run_coroutine(self.monitor.poll_once())

        def failed(f):
            log.error("%s: poll failed: %s", self.monitor.coin, f.getErrorMessage())
            return None  # keep polling

        return d.addErrback(failed)

    async def stop(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        await self.monitor._locked(_noop)
