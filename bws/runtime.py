"""THE process bootstrap of all nine BWS processes, and the adapter factories.

Every ``python -m <process>`` is ``runtime.run(prog, description, build)``:

1. parse the command line: ``--config``, ``--log-level`` and ``--help`` for
   every process, plus the process's own options (``add_args``);
2. install Twisted's asyncio reactor (bws/reactor.py) -- the only module that
   imports ``twisted.internet.reactor`` is this one; everything else gets the
   reactor (``IReactorTime``, ``IReactorTCP``) passed in;
3. load and validate the configuration (bws/config/). A bad one prints
   ``<name>: configuration error: <message naming the key>`` on stderr and
   exits 2;
4. configure logging, one format for every process, on stderr;
5. run ``await build(cfg, deps)`` once the reactor runs. It connects what the
   process needs through :class:`Deps` (storage with every storage option, the
   lock, the broker, the explorers) and returns a
   ``twisted.application.service.IService``, which becomes a child of the
   process's ``MultiService``. A ConfigError raised by ``build`` (found at
   start-up, e.g. a second API process beside a local lock) also exits 2;
   ``SystemExit(n)`` exits n; anything else logs the error and exits 1.
6. SIGTERM / SIGINT stop the reactor; before it stops, ``stopService`` runs on
   the whole tree (children first, in reverse order of start, so the database
   and broker connections close last) and the process exits 0.

Factories: :func:`make_lock`, :func:`make_broker`, :func:`make_explorer`,
:func:`make_explorers`, :func:`open_storage` -- the one place a configuration
becomes adapters, so every process honours every option.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any, Awaitable, Callable, Optional, Sequence

from twisted.application.service import IService, MultiService, Service
from twisted.internet import defer

from bws.config import Config, ConfigError, ExplorerOpts, load_config
from bws.interfaces import Broker, Explorer, Lock

log = logging.getLogger("bws.runtime")

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2

#: The one log line format of every process.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

Build = Callable[[Config, "Deps"], Awaitable[IService]]


# -- adapter factories ----------------------------------------------------------------


def make_lock(cfg: Config, reactor: Any) -> Lock:
    """The lock backend selected by ``lockOpts.mode`` (``locker`` | ``redis`` |
    ``local``). Connections open lazily, on the first ``acquire``. Raises
    ValueError for an unknown mode (the typed config refuses it first)."""
    opts = cfg.lockOpts
    if opts.mode == "local":
        from bws.adapters.lock.local import LocalLock

        return LocalLock(reactor)
    if opts.mode == "locker":
        from bws.adapters.lock.locker import LockerClient

        return LockerClient(opts.lockerServer.host, opts.lockerServer.port, reactor, secret=opts.secret or None)
    if opts.mode == "redis":
        from bws.adapters.lock.redis import RedisLock

        return RedisLock(cfg.redis.url, reactor, lease=opts.leaseTime)
    raise ValueError(f"lockOpts.mode: unknown mode {opts.mode!r}")


def make_broker(cfg: Config, reactor: Any, start: bool = True) -> Broker:
    """The broker selected by ``messageBrokerOpts.mode`` (``websocket`` | ``redis``
    | ``local``); with ``start`` (default) the connection is opened now and kept
    up (reconnecting) until ``stop()``. Raises ValueError for an unknown mode."""
    opts = cfg.messageBrokerOpts
    broker: Any
    if opts.mode == "local":
        from bws.adapters.broker.local import LocalBroker

        broker = LocalBroker()
    elif opts.mode == "websocket":
        from bws.adapters.broker.ws import WebSocketBroker

        broker = WebSocketBroker(opts.messageBrokerServer.url, reactor, secret=opts.secret or None)
    elif opts.mode == "redis":
        from bws.adapters.broker.redis import RedisBroker

        broker = RedisBroker(cfg.redis.url, reactor)
    else:
        raise ValueError(f"messageBrokerOpts.mode: unknown mode {opts.mode!r}")
    return broker.start() if start else broker


def make_explorer(coin: str, network: str, opts: ExplorerOpts, *, storage: Any, reactor: Any) -> Explorer:
    """The explorer for ``coin`` on ``network`` described by ``opts``
    (``blockchainExplorerOpts.<coin>.<network>``), by ``opts.provider``:
    ``bitcoind`` (btc, bch), ``web3`` (eth, tri), ``erc20`` (try). ``storage``
    holds the EVM explorers' tx index (None: no index). Raises ValueError for an
    unknown provider, a missing url, or a coin the provider does not serve."""
    from bws.adapters.explorers import bitcoind, erc20, web3

    if opts.provider == "bitcoind":
        return bitcoind.make_explorer(coin, network, opts, reactor)
    if opts.provider == "web3":
        return web3.make_explorer(coin, network, opts, storage, reactor)
    if opts.provider == "erc20":
        return erc20.make_explorer(coin, network, opts, storage, reactor)
    raise ValueError(f"blockchainExplorerOpts.{coin}.{network}.provider: unsupported provider {opts.provider!r}")


def make_explorers(cfg: Config, storage: Any, reactor: Any) -> dict[tuple[str, str], Explorer]:
    """One explorer per configured ``blockchainExplorerOpts.<coin>.<network>``.
    One that cannot be built is logged and left out: its wallets answer
    "Could not get blockchain explorer instance" (a ServerError)."""
    out: dict[tuple[str, str], Explorer] = {}
    for coin, networks in cfg.blockchainExplorerOpts.items():
        for network, opts in networks.items():
            try:
                out[(coin, network)] = make_explorer(coin, network, opts, storage=storage, reactor=reactor)
            except ValueError as e:
                log.warning("explorer %s/%s not available, its wallets cannot be served: %s", coin, network, e)
    return out


async def open_storage(cfg: Config) -> Any:
    """A connected Storage with every ``storageOpts.mongoDb`` option (server
    selection timeout, per-operation timeout, transaction timeout). Raises
    ConfigError when the database cannot be reached."""
    from bws.storage import Storage

    mongo = cfg.storageOpts.mongoDb
    storage = Storage(
        cfg.mongo_uri,
        server_selection_timeout_ms=mongo.serverSelectionTimeoutMS,
        timeout_ms=mongo.timeoutMS,
        transaction_timeout_ms=mongo.transactionTimeoutMS,
    )
    try:
        return await storage.connect()
    except Exception as e:  # noqa: BLE001 - pymongo's errors stay inside bws.storage
        raise ConfigError(f"cannot reach the database (storageOpts.mongoDb.uri): {e}") from None


# -- services -----------------------------------------------------------------------------


class CallbackService(Service):
    """A service made of two callables: ``start()`` (sync; runs in startService)
    and ``stop()`` (may return a Deferred or a coroutine; stopService waits for it)."""

    def __init__(self, name: str, start: Optional[Callable[[], Any]] = None, stop: Optional[Callable[[], Any]] = None):
        self.setName(name)
        self._start = start
        self._stop = stop

    def startService(self) -> None:
        super().startService()
        if self._start is not None:
            self._start()

    def stopService(self) -> defer.Deferred:
        super().stopService()
        if self._stop is None:
            return defer.succeed(None)
        return defer.ensureDeferred(_awaitable(self._stop()))


class TCPListener(Service):
    """Listens on ``interface:port`` while running (a port that cannot be bound
    fails startService, so the process exits 1); ``announce(port)`` is called
    with the bound port number (``port`` 0 picks a free one)."""

    def __init__(self, name: str, reactor: Any, port: int, factory: Any, interface: str = "",
                 announce: Optional[Callable[[int], Any]] = None):  # fmt: skip
        self.setName(name)
        self._reactor = reactor
        self._args = (port, factory, interface)
        self._announce = announce
        self.listening: Any = None

    def startService(self) -> None:
        port, factory, interface = self._args
        self.listening = self._reactor.listenTCP(port, factory, interface=interface)
        super().startService()
        if self._announce is not None:
            self._announce(self.listening.getHost().port)

    def stopService(self) -> defer.Deferred:
        super().stopService()
        listening, self.listening = self.listening, None
        return defer.maybeDeferred(listening.stopListening) if listening is not None else defer.succeed(None)


async def _awaitable(result: Any) -> Any:
    if isinstance(result, defer.Deferred) or hasattr(result, "__await__"):
        return await result
    return result


class Deps:
    """What a process's ``build`` gets: the configuration, the reactor, the
    parsed command line, and the adapters (built on first use, each stopped at
    shutdown after the process's own service)."""

    def __init__(self, cfg: Config, reactor: Any, args: argparse.Namespace, top: MultiService):
        self.cfg = cfg
        self.reactor = reactor
        self.args = args
        self._top = top
        self._storage: Any = None
        self._broker: Any = None

    def on_stop(self, name: str, stop: Callable[[], Any]) -> None:
        """Run ``stop()`` at shutdown, after every service added later."""
        CallbackService(name, stop=stop).setServiceParent(self._top)

    async def storage(self) -> Any:
        """The process's Storage (connected once, closed at shutdown); ConfigError when unreachable."""
        if self._storage is None:
            self._storage = await open_storage(self.cfg)
            self.on_stop("storage", self._storage.close)
        return self._storage

    def broker(self) -> Broker:
        """The process's broker (started once, stopped at shutdown)."""
        if self._broker is None:
            self._broker = make_broker(self.cfg, self.reactor)
            self.on_stop("broker", self._broker.stop)
        return self._broker

    def lock(self) -> Lock:
        return make_lock(self.cfg, self.reactor)

    def explorers(self, storage: Any) -> dict[tuple[str, str], Explorer]:
        return make_explorers(self.cfg, storage, self.reactor)

    def exit(self, code: int) -> None:
        """Stop the process (clean shutdown) and exit with ``code``."""
        raise SystemExit(code)


async def stream_consumers(deps: Deps, services: Sequence[tuple[str, Any, float, float]]) -> IService:
    """The notification-delivery processes' wiring (emailservice, pushservice).

    ``services``: ``[(consumer name, service, poll s, claim timeout s)]``; each
    service has ``handle(notification)`` (queue its deliveries, idempotent) and
    ``start()``/``stop()`` for its outbox. Each gets its own durable
    StreamConsumer (consumer names ``email``, ``push``, ``webhooks``) over the
    process's one broker connection; a consumer without a stored cursor starts
    at ``--start-from`` (``now`` | ``beginning``). Nothing enabled: the process idles."""
    from bws.delivery.stream import StreamConsumer

    top = MultiService()
    if not services:
        log.warning("nothing enabled in the configuration; idling")
        return top
    storage = await deps.storage()
    broker = deps.broker()
    for name, service, poll, claim_timeout in services:
        service.start()
        consumer = StreamConsumer(
            name, storage, broker, service.handle, deps.reactor,
            poll_interval=poll, claim_timeout=claim_timeout, retry_delay=max(1.0, poll),
            start_from=deps.args.start_from,
        )  # fmt: skip
        await consumer.start()
        log.info("%s: consuming the notification stream from %s", name, consumer.cursor or "(beginning)")

        def stop(consumer: Any = consumer, service: Any = service) -> None:
            consumer.stop()
            service.stop()

        CallbackService(name, stop=stop).setServiceParent(top)
    return top


def add_start_from(p: argparse.ArgumentParser) -> None:
    """``--start-from`` of the stream-consuming processes."""
    p.add_argument(
        "--start-from", choices=["now", "beginning"], default="now",
        help="where a consumer without a stored cursor starts (default: now; history is not re-sent)",
    )  # fmt: skip


# -- the bootstrap --------------------------------------------------------------------------


def parser(prog: str, description: str, epilog: str = "") -> argparse.ArgumentParser:
    """The common command line: ``--config``, ``--log-level`` (and ``--help``)."""
    p = argparse.ArgumentParser(
        prog=prog, description=description, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--config", metavar="PATH", help="JSON config file (default: $BWS_CONFIG, else ./config.json)")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p


def run(
    prog: str,
    description: str,
    build: Build,
    *,
    epilog: str = "",
    add_args: Optional[Callable[[argparse.ArgumentParser], None]] = None,
    configure: Optional[Callable[[Config, argparse.Namespace], None]] = None,
    argv: Optional[Sequence[str]] = None,
) -> int:
    """Run one process until SIGTERM/SIGINT; returns its exit status (see the module docstring).

    ``add_args(parser)`` adds the process's own options; ``configure(cfg, args)``
    applies command-line overrides to the configuration before it is validated."""
    p = parser(prog, description, epilog)
    if add_args is not None:
        add_args(p)
    args = p.parse_args(argv)
    name = prog.split()[-1]

    from bws.reactor import install

    install()
    from twisted.internet import reactor

    try:
        cfg = load_config(args.config)
        if configure is not None:
            configure(cfg, args)
        cfg.validate()
    except ConfigError as e:
        print(f"{name}: configuration error: {e}", file=sys.stderr)
        return EXIT_CONFIG
    except (OSError, ValueError) as e:
        print(f"{name}: cannot read configuration: {e}", file=sys.stderr)
        return EXIT_CONFIG
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format=LOG_FORMAT)

    top = MultiService()
    exit_code = [EXIT_OK]

    def failed(failure: Any) -> None:
        if failure.check(SystemExit):
            code = failure.value.code
            exit_code[0] = code if isinstance(code, int) else EXIT_FAILED
        elif failure.check(ConfigError):
            print(f"{name}: configuration error: {failure.getErrorMessage()}", file=sys.stderr)
            exit_code[0] = EXIT_CONFIG
        else:
            log.error("%s failed to start: %s", name, failure.getErrorMessage(), exc_info=failure.value)
            exit_code[0] = EXIT_FAILED
        if reactor.running:
            reactor.stop()

    async def start() -> None:
        service = await build(cfg, Deps(cfg, reactor, args, top))
        service.setServiceParent(top)  # top is running: this starts it

    def begin() -> None:
        top.startService()
        defer.ensureDeferred(start()).addErrback(failed)

    reactor.addSystemEventTrigger("before", "shutdown", top.stopService)
    reactor.callWhenRunning(begin)
    reactor.run()
    return exit_code[0]
