"""Per-IP rate limits as upstream bitcore-wallet-service applies them (docs/spec/api.md §3.8).

Two rules, each a fixed window per client IP (express-rate-limit 2.x semantics):

* ``createWallet`` -- ``POST /v1/wallets/``, ``POST /v2/wallets/``: 15 per hour,
  each request after the 8th delayed by 3 s more than the one before
  (9th: 3 s, 10th: 6 s, ...); from the 16th on: ``429`` with the plain-text
  message "Too many wallets created from this IP, please try again after an hour".
* ``feeLevels`` -- ``GET /v1/feelevels/``, ``GET /v2/feelevels/``: 10 per 10 min,
  300 ms more per request after the 5th; ``429`` "Too many request".

The hit is counted before the decision (a refused request counts too), as
upstream does.  Counters live in Redis (``INCR`` + ``PEXPIRE`` on the first hit
of a window, one Lua call; key ``bws:ratelimit:<rule>:<ip>``) when Redis is in use, so every
API process shares one count; otherwise in process memory.  A Redis failure
lets the request through (fail open, logged): limits protect capacity, they
must not take the API down with them.

Configuration (``rateLimits`` in the config file, see bws/config/options.py): on by
default with upstream's numbers (upstream ``Defaults.RateLimit``; the fork
shipped without limits, issue 15 finding 5).  ``trustProxy`` (default false;
upstream enables Express ``trust proxy``) takes the client IP from the
left-most ``X-Forwarded-For`` entry: turn it on only behind a proxy that sets
that header, or clients pick their own IP.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Optional

from twisted.internet import defer, task
from twisted.internet.interfaces import IReactorTime

log = logging.getLogger(__name__)

#: rule name -> the (method, route path) pairs it guards (route-table spelling).
RULE_ROUTES: dict[str, tuple[tuple[str, str], ...]] = {
    "createWallet": (("POST", "/v1/wallets/"), ("POST", "/v2/wallets/")),
    "feeLevels": (("GET", "/v1/feelevels/"), ("GET", "/v2/feelevels/")),
}


@dataclass
class Rule:
    name: str
    window_ms: int
    max: int
    delay_after: int
    delay_ms: int
    message: str

    def decide(self, count: int) -> tuple[bool, float]:
        """(refused?, delay in seconds) for the ``count``-th hit of a window."""
        if self.max and count > self.max:
            return True, 0.0
        if self.delay_after and self.delay_ms and count > self.delay_after:
            return False, (count - self.delay_after) * self.delay_ms / 1000.0
        return False, 0.0


class RateLimited(Exception):
    """Refused by a rate limit: HTTP 429, plain-text ``message``."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = max(1, int(retry_after))


class MemoryCounter:
    """Fixed windows in process memory: ``{key: (window_end, count)}``; clock:
    ``() -> seconds`` (the reactor's ``seconds``; tests move it)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, window_ms: int) -> tuple[int, float]:
        """Count one hit -> (count in this window, seconds until the window ends)."""
        now = self.clock()
        end, count = self.windows.get(key, (0.0, 0))
        if now >= end:
            end, count = now + window_ms / 1000.0, 0
            if len(self.windows) > 100_000:  # drop expired windows now and then
                self.windows = {k: v for k, v in self.windows.items() if v[0] > now}
        count += 1
        self.windows[key] = (end, count)
        return count, end - now


#: one atomic round trip: INCR, PEXPIRE on the window's first hit (or when the
#: key has no TTL, e.g. a PEXPIRE lost to a crash elsewhere), then PTTL.
HIT_SCRIPT = """
local n = redis.call('incr', KEYS[1])
if n == 1 or redis.call('pttl', KEYS[1]) < 0 then
  redis.call('pexpire', KEYS[1], ARGV[1])
end
return {n, redis.call('pttl', KEYS[1])}
"""


class RedisCounter:
    """Fixed windows in Redis shared by every API process (:data:`HIT_SCRIPT`:
    INCR + PEXPIRE in one Lua call, so a window can never lose its expiry).
    clock: the reactor (times a hit out after ``timeout`` s)."""

    def __init__(self, url: str, *, clock: IReactorTime, timeout: float = 1.0, connection: Any = None) -> None:
        self.url = url
        self.clock = clock
        self.timeout = timeout
        self._conn = connection

    @property
    def conn(self) -> Any:
        if self._conn is None:
            from bws.adapters.redis_conn import redis_connection

            self._conn = redis_connection(self.url)
        return self._conn

    async def hit(self, key: str, window_ms: int) -> tuple[int, float]:
        """Count one hit -> (count in this window, seconds until the window ends);
        raises (TimeoutError, connection errors) when Redis does not answer in ``timeout``."""
        d = self.conn.eval(HIT_SCRIPT, keys=[key], args=[str(int(window_ms))])
        d.addTimeout(self.timeout, self.clock)
        count, ttl = await d
        count, ttl = int(count), int(ttl)
        return count, (ttl if ttl > 0 else window_ms) / 1000.0

    async def close(self) -> None:
        if self._conn is not None:
            try:
                await self._conn.disconnect()
            except Exception:  # pragma: no cover - best effort
                pass


class RateLimiter:
    """Checks one request against the rule guarding its route.

    rules: rule name -> :class:`Rule`; counter: MemoryCounter | RedisCounter;
    trust_proxy: take the IP from ``X-Forwarded-For``; sleep: ``async
    (seconds)`` used for slow-downs (:func:`clock_sleep` of the reactor; tests
    replace it)."""

    def __init__(
        self,
        rules: dict[str, Rule],
        counter: Any,
        *,
        sleep: Callable[[float], Awaitable[None]],
        trust_proxy: bool = False,
        prefix: str = "bws:ratelimit:",
    ) -> None:
        self.rules = rules
        self.counter = counter
        self.trust_proxy = trust_proxy
        self.prefix = prefix
        self._sleep = sleep
        self._warned_forwarded = False
        self.by_route: dict[tuple[str, str], Rule] = {
            route: rule for name, rule in rules.items() for route in RULE_ROUTES.get(name, ())
        }

    def client_ip(self, peer: Optional[str], headers: dict[str, str]) -> str:
        """Left-most ``X-Forwarded-For`` entry when the proxy is trusted, else the peer address."""
        if self.trust_proxy:
            xff = headers.get("x-forwarded-for", "")
            first = xff.split(",", 1)[0].strip()
            if first:
                return first[:100]
        elif "x-forwarded-for" in headers and not self._warned_forwarded:
            # behind a proxy every client would share the proxy's count: say so once
            self._warned_forwarded = True
            log.warning(
                "rate limits: X-Forwarded-For ignored (rateLimits.trustProxy is false), clients are counted "
                "by TCP peer %s; behind a reverse proxy that sets the header, set rateLimits.trustProxy to true",
                peer,
            )
        return peer or "unknown"

    async def check(self, method: str, route_path: str, peer: Optional[str], headers: dict[str, str]) -> None:
        """Count the hit; sleep for the slow-down; raise :class:`RateLimited` beyond ``max``."""
        rule = self.by_route.get((method, route_path))
        if rule is None:
            return
        ip = self.client_ip(peer, headers)
        try:
            count, remaining = await self.counter.hit(f"{self.prefix}{rule.name}:{ip}", rule.window_ms)
        except Exception as e:  # fail open
            log.warning("rate limit %s: counter unavailable (%r); request let through", rule.name, e)
            return
        refused, delay = rule.decide(count)
        if refused:
            log.info("rate limit %s: %s refused (%d in window)", rule.name, ip, count)
            raise RateLimited(rule.message, int(remaining + 0.999))
        if delay > 0:
            await self._sleep(delay)


def clock_sleep(clock: IReactorTime) -> Callable[[float], Awaitable[None]]:
    """``async sleep(seconds)`` on ``clock`` (the reactor)."""

    async def sleep(seconds: float) -> None:
        await task.deferLater(clock, seconds, lambda: None)

    return sleep


def make_rate_limiter(cfg: Any, clock: IReactorTime) -> Optional[RateLimiter]:
    """The limiter configured by ``cfg.rateLimits`` (None when disabled);
    clock: the reactor (memory windows, slow-downs, Redis timeouts).

    The counter is Redis when ``rateLimits.store`` is ``redis``, or ``auto``
    and Redis is in use for locks or the broker; memory otherwise."""
    rl = getattr(cfg, "rateLimits", None)
    if rl is None or not rl.enabled:
        return None
    rules = {
        name: Rule(name, int(opts.windowMs), int(opts.max), int(opts.delayAfter), int(opts.delayMs), opts.message)
        for name, opts in (("createWallet", rl.createWallet), ("feeLevels", rl.feeLevels))
    }
    store = rl.store
    if store == "auto":
        redis_used = cfg.lockOpts.mode == "redis" or cfg.messageBrokerOpts.mode == "redis"
        store = "redis" if redis_used else "memory"
    counter: Any = RedisCounter(cfg.redis.url, clock=clock) if store == "redis" else MemoryCounter(clock.seconds)
    if store == "memory":
        # several API processes on one database each count on their own
        log.info("rate limits: counted in this process only; set lockOpts.mode or rateLimits.store "
                 "to redis to share the counts between API processes")
    log.info(
        "rate limits on (%s counter, trustProxy=%s): createWallet %d/%d ms, feeLevels %d/%d ms",
        store, rl.trustProxy, rl.createWallet.max, rl.createWallet.windowMs, rl.feeLevels.max, rl.feeLevels.windowMs,
    )
    return RateLimiter(rules, counter, sleep=clock_sleep(clock), trust_proxy=rl.trustProxy)


__all__ = [
    "Rule", "RateLimited", "RateLimiter", "MemoryCounter", "RedisCounter", "RULE_ROUTES", "clock_sleep",
    "make_rate_limiter",
]
