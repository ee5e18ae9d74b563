"""Per-wallet locks in Redis (``lockOpts.mode = "redis"``), for more than one machine.

Commands, one lock at a time (key ``bws:lock:<token>``, value = a random
owner token of this acquisition):

* acquire: ``SET key owner NX PX lease`` until it answers ``OK``; while the
  key exists the client polls (20 ms growing to 250 ms) until ``wait_time``
  is over, then :class:`bws.interfaces.LockTimeout` (WALLET_BUSY for API clients).
  Unlike the locker server this is not FIFO: a waiter that polls first wins.
* hold: the lease (``lockOpts.leaseTime``, default 15 s) is renewed every
  lease/3 by a compare-and-pexpire script, and never beyond ``max_hold``
  (default 300 s): past that the lock is force-released like the locker's
  hold timer. A holder whose process dies stops renewing, so its lock
  expires within one lease.
* release: compare-and-delete script -- only the owner's token deletes the
  key, so a holder whose lease already expired cannot free somebody else's
  lock.

If Redis is unreachable the acquire times out (WALLET_BUSY); a SET that got
through after we gave up is undone by a compare-and-delete with our token.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Callable

from twisted.internet import defer, task

from bws.adapters.redis_conn import redis_connection
from bws.interfaces import DEFAULT_MAX_HOLD, DEFAULT_WAIT, LockTimeout

log = logging.getLogger(__name__)

RELEASE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
else
  return 0
end
"""

RENEW_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
else
  return 0
end
"""


def _sleep(reactor: Any, seconds: float) -> defer.Deferred:
    return task.deferLater(reactor, seconds, lambda: None)


class RedisLock:
    """:class:`bws.interfaces.Lock` on Redis ``SET NX PX`` with owner tokens."""

    def __init__(
        self,
        url: str,
        reactor: Any,
        lease: float = 15.0,
        prefix: str = "bws:lock:",
        connection: Any = None,
    ):
        if lease <= 0:
            raise ValueError("lockOpts.leaseTime: must be > 0 seconds")
        self.reactor = reactor
        self.lease = lease
        self.prefix = prefix
        self.url = url
        self._conn = connection

    @property
    def conn(self) -> Any:
        """The Redis connection, opened on first use."""
        if self._conn is None:
            self._conn = redis_connection(self.url)
        return self._conn

    def close(self) -> Any:
        if self._conn is not None:
            return self._conn.disconnect()
        return None

    async def _within(self, d: defer.Deferred, seconds: float) -> Any:
        d.addTimeout(max(0.001, seconds), self.reactor)
        return await d

    async def acquire(
        self, token: str, wait_time: float = DEFAULT_WAIT, max_hold: float = DEFAULT_MAX_HOLD
    ) -> Callable[[], None]:
        key = self.prefix + token
        owner = uuid.uuid4().hex
        now = self.reactor.seconds
        deadline = now() + wait_time
        hold_until = now() + max_hold
        lease_ms = max(1, int(min(self.lease, max_hold) * 1000))
        delay = 0.02
        while True:
            remaining = deadline - now()
            try:
                ok = await self._within(
                    self.conn.set(key, owner, pexpire=lease_ms, only_if_not_exists=True), remaining
                )
            except defer.TimeoutError:
                self._release_if_owner(key, owner)  # in case the SET went through after all
                raise LockTimeout(f"Could not acquire lock {token} (Redis did not answer)") from None
            if ok:
                break
            remaining = deadline - now()
            if remaining <= 0:
                raise LockTimeout(f"Could not acquire lock {token}")
            await _sleep(self.reactor, min(delay, remaining))
            delay = min(delay * 1.5, 0.25)
        return _Holding(self, key, owner, token, hold_until).release

    def _release_if_owner(self, key: str, owner: str) -> defer.Deferred:
        d = self.conn.eval(RELEASE_SCRIPT, keys=[key], args=[owner])
        d.addErrback(lambda f: log.warning("lock: redis release of %s failed: %s", key, f.getErrorMessage()))
        return d


class _Holding:
    """One granted Redis lock: renews its lease until released or ``max_hold`` is reached."""

    def __init__(self, lock: RedisLock, key: str, owner: str, token: str, hold_until: float):
        self.lock = lock
        self.key = key
        self.owner = owner
        self.token = token
        self.hold_until = hold_until
        self.held = True
        self.call: Any = None
        self._schedule()

    def _schedule(self) -> None:
        reactor = self.lock.reactor
        left = self.hold_until - reactor.seconds()
        step = self.lock.lease / 3.0
        if left <= step:
            self.call = reactor.callLater(max(0.0, left), self._expire)
        else:
            self.call = reactor.callLater(step, self._renew)

    def _renew(self) -> None:
        if not self.held:
            return
        left_ms = int((self.hold_until - self.lock.reactor.seconds()) * 1000)
        ms = max(1, min(int(self.lock.lease * 1000), left_ms))
        d = self.lock.conn.eval(RENEW_SCRIPT, keys=[self.key], args=[self.owner, str(ms)])

        def done(result: Any) -> None:
            if not self.held:
                return
            if not result or result == "0" or result == 0:
                log.warning("lock: lost Redis lock %s (lease expired before renewal)", self.token)
                self.held = False
                return
            self._schedule()

        def failed(f: Any) -> None:
            if self.held:
                log.warning("lock: renewing Redis lock %s failed: %s", self.token, f.getErrorMessage())
                self._schedule()

        d.addCallbacks(done, failed)

    def _expire(self) -> None:
        if self.held:
            log.warning("lock: %s held longer than its maximum; force-released", self.token)
            self.release()

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        if self.call is not None and self.call.active():
            self.call.cancel()
        self.lock._release_if_owner(self.key, self.owner)
