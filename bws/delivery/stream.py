"""The durable notification stream: consumers read the store; the broker only wakes them.

Producers (the wallet service, the block monitors) store a notification in
``notifications`` first and only then publish it on the broker
(bws/services/notifier.py Notifier). The broker message is the notification
itself (the reference payload, docs/spec/services.md §2.3), but consumers
treat it as a wake-up only.

Consumers (email, push, webhooks, ...) run a :class:`StreamConsumer`:

* **cursor**: ``stream_cursors[consumer].lastId``, the newest notification id
  it has taken care of; it only moves forward (``$max``).
* **reading**: a *drain* fetches every notification with an id greater than
  ``cursor - lookback`` (ids start with their epoch ms, so this is "ids
  allocated up to ``lookback`` seconds before the cursor") in batches, in id
  order, and advances the cursor after each batch.
* **wake-ups**: a drain runs on start, on every broker message, after every
  broker (re)connection -- whatever was broadcast during the gap is replayed
  from the cursor -- and every ``poll_interval`` seconds, so a dead broker only
  delays deliveries. Drains never overlap; wake-ups during a drain coalesce
  into one more drain.
* **idempotency key** = (consumer, notification id): before calling the
  handler the consumer *claims* the pair in ``stream_deliveries`` (unique
  index; bws/storage/stream.py ``StreamRepo.claim``). Only the one insert that
  wins runs the handler -- across restarts, replays, the lookback re-reads and
  several instances of the same consumer.

Why exactly once:

1. *Nothing is missed.* A notification is stored before any wake-up for it;
   every drain reads all ids above ``cursor - lookback``; the cursor only
   passes ids the drain has seen. Two writers may allocate ids in one order
   and commit them in the other (A gets id 1, B gets id 2, B's insert lands
   first and a drain moves the cursor to 2): A's notification is still found
   because later drains re-read ``lookback`` seconds (default 5) behind the
   cursor. Insert latency above ``lookback`` is the one uncovered case.
2. *Nothing runs twice.* The claim is an insert on a unique key, made before
   the handler runs, so of all the drains that see a notification exactly one
   runs its handler (at-most-once per consumer).
3. *A crash between claim and completion.* The delivery records ``state``:
   ``claimed`` (claimAt, attempts) -> ``done``. A handler that raises leaves
   ``failed`` with ``retryAt`` (backoff ``retry_delay * 2**(attempts-1)``),
   ``dead`` after ``max_attempts`` (logged). A process that dies mid-handler
   leaves ``claimed``; a *sweep* (on start and on every poll) re-runs claims
   older than ``claim_timeout`` (default 120 s) and due ``failed`` ones, taking
   each over with a compare-and-set so only one process re-runs it. So the
   handler runs to completion once, except that a handler killed half-way is
   re-run (at-least-once for that crash window): handlers with external side
   effects keep their own idempotency record (e.g. ``email_queue`` by
   notification id) or make ``claim_timeout`` longer than any handler run.
   Pass ``retry_claimed=False`` for strict at-most-once.

First start: without a cursor the consumer starts ``"now"`` (default: history
is not replayed, so a new e-mail service does not mail everything ever
stored) or at the ``"beginning"``.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any, Awaitable, Callable, Optional, Union

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall

from bws.model.notification import format_notification_id, notification_id_ms

log = logging.getLogger(__name__)

Doc = dict[str, Any]
NotificationHandler = Callable[[Doc], Union[Awaitable[Any], Any]]


class StreamConsumer:
    """Durable, exactly-once consumer of the notification stream (see the module doc).

    name: the consumer's cursor and idempotency name (``stream_cursors``,
    ``stream_deliveries``); storage: bws/storage/__init__.py Storage; broker:
    bws/interfaces.py Broker (``on_message``, optional ``on_connect``); handler:
    ``(notification dict) -> None | awaitable``; clock: the reactor (or a
    ``twisted.internet.task.Clock``) for polls; intervals in seconds;
    now_ms: ``() -> int`` epoch ms for claims and retries (default: the clock)."""

    def __init__(
        self,
        name: str,
        storage: Any,
        broker: Any,
        handler: NotificationHandler,
        clock: IReactorTime,
        *,
        batch_size: int = 200,
        poll_interval: float = 5.0,
        lookback: float = 5.0,
        claim_timeout: float = 120.0,
        retry_delay: float = 30.0,
        max_attempts: int = 5,
        retry_claimed: bool = True,
        start_from: str = "now",
        now_ms: Optional[Callable[[], int]] = None,
    ):
        if start_from not in ("now", "beginning"):
            raise ValueError("start_from must be 'now' or 'beginning'")
        self.name = name
        self.storage = storage
        self.broker = broker
        self.handler = handler
        self.clock = clock
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.lookback_ms = int(lookback * 1000)
        self.claim_timeout_ms = int(claim_timeout * 1000)
        self.retry_delay_ms = int(retry_delay * 1000)
        self.max_attempts = max_attempts
        self.retry_claimed = retry_claimed
        self.start_from = start_from
        self.now_ms = now_ms or (lambda: int(clock.seconds() * 1000))

        self.cursor = ""
        self.handled = 0  # handler runs that completed
        self.skipped = 0  # claims lost (someone -- maybe our earlier self -- had it)
        self.failed = 0
        self._recent: set[str] = set()
        self._inflight: set[str] = set()
        self._running = False
        self._draining = False
        self._again = False
        self._idle_waiters: list[Deferred] = []
        self._poll: Optional[LoopingCall] = None
        self._subscribed = False
        self._min_floor = ""

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> "StreamConsumer":
        """Load the cursor, recover unfinished deliveries, subscribe, and drain once (awaited)."""
        cursor = await self.storage.stream.get_cursor(self.name)
        if not cursor and self.start_from == "now":
            # "Now" = after everything already stored: ids of a busy writer can run a few
            # ms ahead of the clock (the ticker overflows into the next ms), so take the
            # newest stored id when it is later than the clock.
            cursor = max(format_notification_id(self.now_ms(), 0), await self.storage.notifications.fetch_latest_id())
            await self.storage.stream.set_cursor(self.name, cursor, now=self.now_ms() // 1000)
            self._min_floor = cursor  # the lookback must not reach into the history we skip
        self.cursor = cursor
        self._running = True
        if not self._subscribed:
            self._subscribed = True
            self.broker.on_message(self._on_broker_message)
            on_connect = getattr(self.broker, "on_connect", None)
            if on_connect is not None:
                on_connect(self._on_broker_connect)
        log.info("stream %s: started at cursor %s", self.name, self.cursor or "(beginning)")
        self._poll = LoopingCall(self._on_poll)
        self._poll.clock = self.clock
        self._poll.start(self.poll_interval, now=False).addErrback(
            lambda f: log.error("stream %s: poll loop died: %s", self.name, f.getErrorMessage())
        )
        await self._sweep()
        await self.drain()
        return self

    def stop(self) -> None:
        self._running = False
        if self._poll is not None and self._poll.running:
            self._poll.stop()
        log.info("stream %s: stopped at cursor %s (handled %d)", self.name, self.cursor, self.handled)

    # -- wake-ups -------------------------------------------------------------------------

    def _on_broker_message(self, message: Any) -> None:
        self.wake()

    def _on_broker_connect(self) -> None:
        if self._running:
            log.info("stream %s: broker (re)connected; replaying from %s", self.name, self.cursor)
            self.wake()

    def _on_poll(self) -> None:
        if not self._running:
            return
        d = Deferred.fromCoroutine(self._sweep())
        d.addErrback(lambda f: log.warning("stream %s: sweep failed: %s", self.name, f.getErrorMessage()))
        self.wake()

    def wake(self) -> None:
        """Drain soon; coalesces with a drain already running."""
        if not self._running:
            return
        if self._draining:
            self._again = True
            return
        self._draining = True
        Deferred.fromCoroutine(self._drain_loop())

    async def drain(self) -> None:
        """Drain now and wait until the consumer is idle (tests, start-up)."""
        if not self._running:
            return
        d: Deferred = Deferred()
        self._idle_waiters.append(d)
        self.wake()  # starts a drain, or asks the running one for another pass
        await d

    async def _drain_loop(self) -> None:
        try:
            while self._running:
                self._again = False
                try:
                    await self._drain_once()
                except Exception as e:  # storage down: the next wake-up or poll retries
                    log.warning("stream %s: drain failed (%s); will retry", self.name, e)
                    break
                if not self._again:
                    break
        finally:
            self._draining = False
            waiters, self._idle_waiters = self._idle_waiters, []
            for w in waiters:
                w.callback(None)

    # -- the work -----------------------------------------------------------------------------

    def _floor(self, cursor: str) -> str:
        if not cursor:
            return ""
        return max(self._min_floor, format_notification_id(max(0, notification_id_ms(cursor) - self.lookback_ms), 0))

    async def _drain_once(self) -> None:
        after = self._floor(self.cursor)
        while self._running:
            batch = await self.storage.notifications.fetch_after(after, self.batch_size)
            newest = self.cursor
            for n in batch:
                nid = n["id"]
                if nid not in self._recent:
                    await self._deliver(n)
                    self._recent.add(nid)
                if nid > newest:
                    newest = nid
            if newest > self.cursor:
                await self.storage.stream.set_cursor(self.name, newest, now=self.now_ms() // 1000)
                self.cursor = newest
            if len(batch) < self.batch_size:
                break
            after = batch[-1]["id"]
        floor = self._floor(self.cursor)
        if len(self._recent) > 2 * self.batch_size:
            self._recent = {i for i in self._recent if i > floor}

    async def _deliver(self, n: Doc) -> None:
        nid = n["id"]
        now = self.now_ms()
        claimed = await self.storage.stream.claim(
            self.name, nid, {"state": "claimed", "claimedAt": now, "attempts": 1}, now=now // 1000
        )
        if not claimed:
            self.skipped += 1
            return
        await self._run(n, 1)

    async def _run(self, n: Doc, attempts: int) -> None:
        nid = n["id"]
        self._inflight.add(nid)
        try:
            result = self.handler(n)
            if inspect.isawaitable(result):
                await result
        except Exception as e:
            self.failed += 1
            now = self.now_ms()
            if attempts >= self.max_attempts:
                log.error("stream %s: handler failed on %s %s (%s); giving up after %d attempts",
                          self.name, n.get("type"), nid, e, attempts)
                fields = {"state": "dead", "error": str(e), "failedAt": now}
            else:
                retry_at = now + self.retry_delay_ms * 2 ** (attempts - 1)
                log.warning("stream %s: handler failed on %s %s (%s); retry %d at +%d ms",
                            self.name, n.get("type"), nid, e, attempts + 1, retry_at - now)
                fields = {"state": "failed", "error": str(e), "failedAt": now, "retryAt": retry_at}
            await self.storage.stream.update_delivery(self.name, nid, fields)
        else:
            self.handled += 1
            await self.storage.stream.update_delivery(self.name, nid, {"state": "done", "doneAt": self.now_ms()})
        finally:
            self._inflight.discard(nid)

    async def _sweep(self) -> None:
        """Re-run deliveries whose claimer died (stale ``claimed``) and due ``failed`` ones."""
        if not self._running:
            return
        now = self.now_ms()
        stale_before = now - self.claim_timeout_ms if self.retry_claimed else 0
        due = await self.storage.stream.fetch_due(self.name, stale_before, now)
        for d in due:
            nid = d["notificationId"]
            if nid in self._inflight:
                continue
            attempts = int(d.get("attempts", 1)) + 1
            expect = {"state": d["state"], "claimedAt": d.get("claimedAt")}
            if not await self.storage.stream.retake(
                self.name, nid, expect, {"state": "claimed", "claimedAt": now, "attempts": attempts}
            ):
                continue  # another instance took it
            n = await self.storage.notifications.fetch_by_id(nid)
            if n is None:
                await self.storage.stream.update_delivery(self.name, nid, {"state": "dead", "error": "notification gone"})
                continue
            log.info("stream %s: re-running %s %s (attempt %d, was %s)", self.name, n.get("type"), nid, attempts,
                     d["state"])
            await self._run(n, attempts)
