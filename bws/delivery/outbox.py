"""Outbox: the one delivery-row schema, and the worker that sends each row once.

Used by the e-mail (``email_queue``), push (``push_deliveries``) and webhook
(``webhook_deliveries``) services; every row is built by :func:`new_row`::

    {id, notificationId, walletId, copayerId, status: "pending", attempts: 0,
     createdOn: int s, lastAttemptOn: null, nextAttemptOn: float s, leaseUntil: null,
     seq: int (order within the notification), ...the channel's own fields}

The argument for "each (notification, recipient) once":

1. A notification handler renders everything first, then inserts one row per
   (notification, recipient) with a **deterministic** ``id`` in a single
   ``insert_many`` (unique index on ``id``). Handling the same notification
   again (replay after a crash, a second instance) inserts nothing new.
2. A row is sent only by whoever holds its lease (``find_one_and_update`` on
   ``status != sent`` and an expired/absent ``leaseUntil``), and is marked
   ``sent`` right after the provider accepted it. A sent row is never leased again.
3. After a crash, rows left ``pending``/``fail`` are found by :meth:`Outbox.run_due`
   at start-up and on every poll; a row whose sender died mid-send becomes
   takeable when its lease expires.

The only window left is a crash between the provider accepting a message and
our ``sent`` write (milliseconds). Then the row is sent again after its lease
expires: at-least-once, never lost. Every message carries the row id as a
stable idempotency key (SMTP ``Message-ID``, APNs ``apns-id``,
webhook ``X-BWS-Delivery``) so a receiver can drop such a repeat.

Retry policy: a :class:`TransientError` (or any unexpected exception) sets
``status=fail`` and ``nextAttemptOn = now + backoff * 2**(attempts-1)`` (capped)
until ``maxAttempts``; then ``nextAttemptOn`` is null (kept as ``fail`` for
inspection). A :class:`PermanentError` stops retries at once.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Optional

from twisted.internet import task
from twisted.internet.defer import Deferred

from bws.aio import run_coroutine

log = logging.getLogger(__name__)

Row = dict[str, Any]

__all__ = ["Outbox", "TransientError", "PermanentError", "log_delivery", "new_row"]


class TransientError(Exception):
    """The delivery failed but may succeed later (network, 5xx, timeouts)."""


class PermanentError(Exception):
    """The delivery can never succeed (unregistered token, rejected recipient)."""


def new_row(
    row_id: str,
    notification_id: str,
    *,
    wallet_id: str,
    copayer_id: Optional[str],
    now: float,
    seq: int,
    fields: Row,
) -> Row:
    """A pending outbox row, due at once.

    row_id: deterministic per (notification, recipient) so a replay inserts
    nothing (see the module doc); now: unix seconds (float); seq: the row's
    place among the notification's rows (send order); fields: the channel's
    own fields (e-mail: from, to, subject, bodyPlain, ...; push: token,
    title, body, data, ...; webhook: webhookId, url, body, ...)."""
    return {
        **fields,
        "id": row_id,
        "notificationId": notification_id,
        "walletId": wallet_id,
        "copayerId": copayer_id,
        "status": "pending",
        "attempts": 0,
        "createdOn": int(now),
        "lastAttemptOn": None,
        "nextAttemptOn": now,
        "leaseUntil": None,
        "seq": seq,
    }


def log_delivery(logger: logging.Logger, **fields: Any) -> None:
    """One structured line per delivery attempt: ``delivery {...json...}``."""
    logger.info("delivery %s", json.dumps(fields, sort_keys=True, default=str))


class Outbox:
    """Drains one outbox collection.

    ``send(row)`` is an ``async`` callable that delivers one row, raising
    :class:`TransientError`/:class:`PermanentError` (anything else counts as
    transient). ``clock`` provides ``seconds()`` and ``callLater`` (the reactor
    or a ``task.Clock``).
    """

    def __init__(
        self,
        storage,
        collection: str,
        send: Callable[[Row], Awaitable[Any]],
        clock,
        *,
        channel: str,
        max_attempts: int = 5,
        backoff: float = 5.0,
        max_backoff: float = 3600.0,
        lease_seconds: float = 120.0,
        poll_interval: float = 5.0,
        logger: Optional[logging.Logger] = None,
    ):
        self.storage = storage
        self.collection = collection
        self.send = send
        self.clock = clock
        self.channel = channel
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.lease_seconds = lease_seconds
        self.poll_interval = poll_interval
        self.log = logger or log
        self._running = False
        self._again = False
        self._loop: Optional[task.LoopingCall] = None
        self._timer = None
        self._idle: list[Deferred] = []
        #: rows this process is sending right now (never re-leased by ourselves,
        #: even if a send outlives its lease)
        self._inflight: set[str] = set()

    # -- scheduling -----------------------------------------------------------

    def start(self) -> None:
        """Poll for due rows every ``poll_interval`` seconds (first pass now)."""
        self._loop = task.LoopingCall(self.kick)
        self._loop.clock = self.clock
        self._loop.start(self.poll_interval, now=True)

    def stop(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._loop = None
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def kick(self) -> None:
        """Run a pass now (or right after the current one)."""
        if self._running:
            self._again = True
            return
        run_coroutine(self._drain()).addErrback(lambda f: self.log.error("%s outbox pass failed: %s", self.channel, f.getTraceback()))

    def when_idle(self) -> Deferred:
        """Tests: a Deferred that fires when the current pass (if any) ends."""
        d: Deferred = Deferred()
        if not self._running:
            d.callback(None)
        else:
            self._idle.append(d)
        return d

    async def _drain(self) -> None:
        self._running = True
        try:
            while True:
                self._again = False
                await self.run_due()
                if not self._again:
                    break
        finally:
            self._running = False
            idle, self._idle = self._idle, []
            for d in idle:
                d.callback(None)
            self._schedule_next()

    def _schedule_next(self) -> None:
        """Wake up for the earliest retry when it comes before the next poll."""
        run_coroutine(self._arm_timer()).addErrback(lambda f: None)

    async def _arm_timer(self) -> None:
        now = self.clock.seconds()
        rows = await self.storage.outbox.fetch_due(self.collection, now + self.poll_interval, limit=1)
        if not rows:
            return
        delay = max(0.0, float(rows[0].get("nextAttemptOn") or now) - now)
        lease = rows[0].get("leaseUntil")
        if lease:
            delay = max(delay, float(lease) - now)
        if delay >= self.poll_interval and self._loop is not None:
            return
        if self._timer is not None and self._timer.active():
            if self._timer.getTime() <= now + delay:
                return
            self._timer.cancel()
        self._timer = self.clock.callLater(delay + 0.001, self.kick)

    # -- one pass ---------------------------------------------------------------

    async def run_due(self) -> int:
        """Send every row that is due now; returns how many were attempted."""
        n = 0
        while True:
            rows = await self.storage.outbox.fetch_due(self.collection, self.clock.seconds(), limit=100)
            if not rows:
                return n
            progressed = False
            for row in rows:
                if await self.attempt(row["id"]):
                    n += 1
                    progressed = True
            if not progressed:
                return n

    async def attempt(self, row_id: str) -> bool:
        """Lease and send one row; False if someone else holds it or it is already sent."""
        if row_id in self._inflight:
            return False
        self._inflight.add(row_id)
        try:
            return await self._attempt(row_id)
        finally:
            self._inflight.discard(row_id)

    async def _attempt(self, row_id: str) -> bool:
        now = self.clock.seconds()
        row = await self.storage.outbox.lease(self.collection, row_id, now, self.lease_seconds)
        if row is None:
            return False
        attempts = int(row.get("attempts") or 0) + 1
        fields: Row = {"attempts": attempts, "lastAttemptOn": int(now), "leaseUntil": None}
        outcome, error = "sent", None
        try:
            result = await self.send(row)
            fields.update({"status": "sent", "nextAttemptOn": None, "lastError": None})
            if isinstance(result, dict):
                fields.update(result)
        except PermanentError as e:
            outcome, error = "rejected", str(e) or type(e).__name__
            fields.update({"status": "fail", "nextAttemptOn": None, "lastError": error})
        except Exception as e:  # noqa: BLE001 - every other failure is retried
            error = str(e) or type(e).__name__
            if attempts >= self.max_attempts:
                outcome = "gave_up"
                fields.update({"status": "fail", "nextAttemptOn": None, "lastError": error})
            else:
                outcome = "retry"
                delay = min(self.max_backoff, self.backoff * (2 ** (attempts - 1)))
                fields.update({"status": "fail", "nextAttemptOn": self.clock.seconds() + delay, "lastError": error})
        await self.storage.outbox.update(self.collection, row_id, fields)
        log_delivery(
            self.log,
            channel=self.channel,
            id=row_id,
            notificationId=row.get("notificationId"),
            to=row.get("to") or row.get("url") or row.get("copayerId"),
            attempt=attempts,
            outcome=outcome,
            error=error,
            nextAttemptOn=fields.get("nextAttemptOn"),
        )
        return True
