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
    """``resync_interval``: seconds between safety syncs over RPC (a lost ``inv``
    or a long disconnection is caught up then; 0 disables)."""

    def __init__(
        self, monitor, reactor, host: str, port: int, magic: bytes, max_delay: float = 30.0,
        resync_interval: float = 60.0,
    ):  # fmt: skip
        self.monitor = monitor
        self.reactor = reactor
        self.host = host
        self.port = port
        self.factory = P2PClientFactory(magic, monitor, max_delay=max_delay, clock=reactor)
        self.connector = None
        self.resync_interval = resync_interval
        self._resync: Optional[LoopingCall] = None

    async def start(self) -> None:
        await self.monitor.start()
        self.connector = self.reactor.connectTCP(self.host, self.port, self.factory)
        if self.resync_interval > 0:
            self._resync = LoopingCall(self._tick)
            self._resync.clock = self.reactor
            self._resync.start(self.resync_interval, now=False)

    def _tick(self):
        d = run_coroutine(self.monitor.sync())
        return d.addErrback(lambda f: log.error("btc: periodic sync failed: %s", f.getErrorMessage()))

    async def stop(self) -> None:
        if self._resync is not None and self._resync.running:
            self._resync.stop()
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
