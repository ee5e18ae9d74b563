"""What the services need from the outside world: one ``typing.Protocol`` per adapter.

The services and monitors are written against these Protocols only; the
implementations live in ``bws/adapters/`` and are chosen once, at start-up, by
``bws/runtime.py`` (``make_lock``, ``make_broker``, ``make_explorers``). Tests
implement them in memory.

A plain list of Protocols (plus the few names their contracts mention:
``LockTimeout`` and the lock defaults, the broker message types, and
:func:`run_locked`, the one way a service holds a lock). Nothing here does
I/O or imports an adapter.

* :class:`Lock`: per-wallet locks (docs/spec/api.md §6.17; the reference's
  lib/lock.js and lib/locallock.js).
* :class:`Broker`: wake-up signals between processes (docs/spec/services.md §2).
* :class:`Explorer` and :class:`EvmExplorer`: what a chain answers
  (docs/spec/api.md §6.20; the reference's lib/blockchainexplorer.js).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Iterable, Optional, Protocol, TypeVar

from bws.errors import Errors

T = TypeVar("T")

# -- locks -------------------------------------------------------------------------

#: Seconds a request waits for a wallet lock (lockOpts.waitTime's default).
DEFAULT_WAIT = 10.0
#: Seconds after which a held lock is force-released (lockOpts.maxHoldTime's default).
DEFAULT_MAX_HOLD = 300.0


class LockTimeout(Exception):
    """The lock was not granted within the wait time."""


class Lock(Protocol):
    """Per-token FIFO (or polling, for Redis) lock shared by every API process.

    Implementations: bws/adapters/lock/local.py (``local``), locker.py
    (``locker``), redis.py (``redis``)."""

    async def acquire(self, token: str, wait_time: float, max_hold: float) -> Callable[[], None]:
        """Wait up to ``wait_time`` s for ``token``; returns an idempotent release
        function. The lock is force-released after ``max_hold`` s. Raises
        :class:`LockTimeout` when not granted in time."""
        ...


async def run_locked(
    lock: Lock,
    token: str,
    task: Callable[[], Awaitable[T]],
    wait_time: Optional[float] = None,
    max_hold: Optional[float] = None,
) -> T:
    """Run ``task()`` holding ``token``; raises ClientError('WALLET_BUSY') when the
    lock is not granted within ``wait_time`` s (default :data:`DEFAULT_WAIT`).

    The lock is released when the task finishes, whether it returned or raised
    (the reference's lib/lock.js runLocked)."""
    try:
        release = await lock.acquire(token, wait_time or DEFAULT_WAIT, max_hold or DEFAULT_MAX_HOLD)
    except LockTimeout:
        raise Errors.WALLET_BUSY from None
    try:
        return await task()
    finally:
        release()


# -- broker ------------------------------------------------------------------------

#: One broker message: a stored notification document (wire field names).
Message = dict[str, Any]
Handler = Callable[[Message], Any]


class Broker(Protocol):
    """Wake-up signals between processes. The database is the source of truth:
    a notification is stored first and only then published, so a lost message
    delays a delivery but never loses it (docs/notifications.md).

    Implementations: bws/adapters/broker/local.py (``local``), ws.py
    (``websocket``), redis.py (``redis``)."""

    #: True while messages can flow (always True in-process).
    connected: bool

    def publish(self, message: Message) -> None:
        """Send ``message`` to every process (ours included: the relay echoes)."""
        ...

    def on_message(self, handler: Handler) -> None:
        """``handler(message)`` for every message any process published."""
        ...

    def on_connect(self, handler: Callable[[], Any]) -> None:
        """``handler()`` after each successful (re)connection: the moment a
        durable consumer replays from its cursor."""
        ...

    def start(self) -> Any:
        """Connect (and keep reconnecting until :meth:`stop`); returns self."""
        ...

    def stop(self) -> None:
        """Disconnect for good."""
        ...


# -- explorers ----------------------------------------------------------------------


class Explorer(Protocol):
    """What the services ask a chain (docs/spec/api.md §6.20). Every method raises
    ``bws.adapters.errors.ExplorerError`` (a ServerError: HTTP 500 with the node's
    message) when the node cannot answer; "not found" is ``None``, never an error.

    Amounts are integers in the coin's base unit (satoshis, wei, token units).
    Implementations: bws/adapters/explorers/bitcoind.py (btc, bch),
    web3.py (eth, tri), erc20.py (try)."""

    coin: str
    network: str

    async def get_utxos(self, addresses: Iterable[Any]) -> list[dict]:
        """``[{txid, vout: int, address, scriptPubKey, satoshis: int, confirmations: int}]``."""
        ...

    async def get_transactions(
        self, addresses: Iterable[Any], from_: int = 0, to: Optional[int] = None
    ) -> tuple[list[dict], int]:
        """``(page of Insight-format txs newest first, total)``; ``to`` exclusive."""
        ...

    async def get_transaction(self, txid: str) -> Optional[dict]:
        """One Insight-format tx, or None when the node does not know it."""
        ...

    async def get_address_activity(self, address: Any) -> bool:
        """True when the address ever received or spent anything (mempool included)."""
        ...

    async def estimate_fee(self, nb_blocks_list: Iterable[int]) -> dict:
        """``{blocks: fee per kB in coin units (float), or -1 for "no estimate"}``."""
        ...

    async def get_blockchain_height(self) -> int:
        """Height of the node's best chain."""
        ...

    async def broadcast(self, raw_hex: str) -> str:
        """Send a signed raw tx; returns its txid."""
        ...

    async def close(self) -> Any:
        """Drop pooled connections (shutdown, tests)."""
        ...


class EvmExplorer(Explorer, Protocol):
    """The EVM explorers' additions (eth, tri, try; docs/spec/api.md §9)."""

    async def get_chain_id(self) -> int:
        """The chain id transactions must be signed for."""
        ...

    async def get_fee_levels(self) -> list[dict]:
        """``[{level, feePerKb: int wei gas price, nbBlocks}]``."""
        ...

    async def get_address_transaction_count(self, address: str, block: str = "pending") -> int:
        """The address's nonce."""
        ...

    async def get_native_balance(self, address: str) -> int:
        """The chain's own coin (wei), also for a token explorer (gas)."""
        ...
