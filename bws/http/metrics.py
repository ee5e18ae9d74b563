"""Prometheus metrics of the bws process, served at ``GET /metrics`` (server root, outside basePath).

Wiring (bws/__main__.py) wraps two objects and changes nothing else:

* :class:`MetricsRoot` — the twisted.web root resource: ``/metrics`` is answered
  here, every other request is passed to the klein API resource unchanged and
  counted when it finishes;
* :class:`InstrumentedLock` — the wallet lock backend, timing each ``acquire``.

Metrics (all prefixed ``bws_``):

``bws_http_requests_total{method,route,status}``
    requests by route *pattern* (``/v1/txproposals/:id/``; ``<unmatched>`` for
    404s outside the route table, ``*`` for CORS pre-flight ``OPTIONS``).
``bws_http_request_duration_seconds{method,route}``
    latency histogram of the same requests.
``bws_lock_wait_seconds{outcome}``
    time to acquire a wallet lock; ``outcome`` is ``acquired`` or ``busy``.
``bws_lock_busy_total``
    lock waits that timed out, i.e. requests answered ``WALLET_BUSY``.
``bws_notifications_delivered_total{service}``
    deliveries the notification services completed, ``service`` = ``email`` |
    ``push`` | ``webhook``.  Those services run in other processes
    (emailservice, pushservice); rather than give each its own metrics port,
    bws counts their durable outbox rows with ``status: "sent"``
    (``email_queue``, ``push_deliveries``, ``webhook_deliveries``) when
    scraped.  The database is the source of truth, so the counter survives
    restarts of every process and never double counts; a scrape whose count
    query fails keeps the last values and sets ``bws_notifications_count_ok`` to 0.

Plus the standard ``process_*``/``python_*`` collectors of prometheus-client.
"""

from __future__ import annotations

from typing import Any, Optional

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.web import resource, server

#: outbox collection of each notification service (status "sent" = delivered).
DELIVERY_COLLECTIONS = {"email": "email_queue", "push": "push_deliveries", "webhook": "webhook_deliveries"}
#: seconds a scrape waits for the delivery counts.
COUNT_TIMEOUT = 2.0

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LOCK_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class BwsMetrics:
    """The metric objects of one bws process, in their own registry."""

    def __init__(self, registry: Optional[CollectorRegistry] = None, storage: Any = None, process_collectors: bool = True):
        self.registry = registry or CollectorRegistry()
        self.storage = storage
        if process_collectors:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)
        r = self.registry
        self.requests = Counter("bws_http_requests", "HTTP requests by route and status", ["method", "route", "status"], registry=r)
        self.latency = Histogram(
            "bws_http_request_duration_seconds", "HTTP request latency", ["method", "route"], buckets=LATENCY_BUCKETS, registry=r
        )
        self.lock_wait = Histogram(
            "bws_lock_wait_seconds", "time to acquire a wallet lock", ["outcome"], buckets=LOCK_BUCKETS, registry=r
        )
        self.lock_busy = Counter("bws_lock_busy", "wallet lock waits that timed out (WALLET_BUSY)", registry=r)
        self.delivered: dict[str, int] = {k: 0 for k in DELIVERY_COLLECTIONS}
        self.count_ok = 0
        r.register(_DeliveryCollector(self))

    # -- HTTP
    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    # -- deliveries
    async def refresh_deliveries(self) -> None:
        """Count delivered rows in each outbox (one count query per service)."""
        if self.storage is None:
            return
        try:
            counts = {}
            for svc, coll in DELIVERY_COLLECTIONS.items():
                counts[svc] = await self.storage.outbox.count_sent(coll)
            self.delivered.update(counts)
            self.count_ok = 1
        except Exception:  # noqa: BLE001 - keep the last values; the gauge says so
            self.count_ok = 0

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _DeliveryCollector:
    def __init__(self, metrics: BwsMetrics):
        self.metrics = metrics

    def collect(self):
        c = CounterMetricFamily(
            "bws_notifications_delivered", "notifications delivered per service (sent outbox rows)", labels=["service"]
        )
        for svc, n in sorted(self.metrics.delivered.items()):
            c.add_metric([svc], n)
        yield c
        yield GaugeMetricFamily(
            "bws_notifications_count_ok", "1 if the last delivery count query succeeded", value=self.metrics.count_ok
        )


class InstrumentedLock:
    """A lock backend whose ``acquire`` is timed on ``clock`` (the process's
    ``IReactorTime``); everything else is delegated."""

    #: tokens not counted (the health probe's)
    IGNORE_PREFIX = "bws-health-probe"

    def __init__(self, inner: Any, metrics: BwsMetrics, clock: IReactorTime):
        self._inner = inner
        self._metrics = metrics
        self._clock = clock

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def acquire(self, token: str, *args: Any, **kwargs: Any):
        if str(token).startswith(self.IGNORE_PREFIX):
            return await self._inner.acquire(token, *args, **kwargs)
        from bws.interfaces import LockTimeout

        started = self._clock.seconds()
        try:
            release = await self._inner.acquire(token, *args, **kwargs)
        except LockTimeout:
            self._metrics.lock_wait.labels("busy").observe(self._clock.seconds() - started)
            self._metrics.lock_busy.inc()
            raise
        self._metrics.lock_wait.labels("acquired").observe(self._clock.seconds() - started)
        return release


class MetricsRoot(resource.Resource):
    """Root resource: ``/metrics`` here; everything else to ``inner`` (the API resource), counted.

    ``api`` (a :class:`bws.http.app.BwsApi`) is only used to name the route of a request;
    ``clock`` (the process's ``IReactorTime``) times requests and the delivery count."""

    isLeaf = True

    def __init__(self, inner: Any, api: Any, metrics: BwsMetrics, clock: IReactorTime):
        super().__init__()
        self.inner = inner
        self.api = api
        self.metrics = metrics
        self.clock = clock

    def route_label(self, method: str, target: str) -> str:
        if method == "OPTIONS":
            return "*"
        try:
            url = self.api._relative_target(target)
            found = self.api.router.match(method, url.split("?", 1)[0]) if url is not None else None
        except Exception:  # noqa: BLE001 - a label must never break a request
            found = None
        return found[0].path if found else "<unmatched>"

    def render(self, request):
        if request.path.rstrip(b"/") == b"/metrics" and request.method in (b"GET", b"HEAD"):
            return self._render_metrics(request)
        started = self.clock.seconds()
        method = request.method.decode("latin-1").upper()
        route = self.route_label(method, request.uri.decode("latin-1"))

        def done(_):
            self.metrics.observe_request(method, route, request.code, self.clock.seconds() - started)

        request.notifyFinish().addBoth(done)
        return self.inner.render(request)

    def _render_metrics(self, request):
        d = defer.ensureDeferred(self.metrics.refresh_deliveries())
        d.addTimeout(COUNT_TIMEOUT, self.clock)
        d.addErrback(lambda _: setattr(self.metrics, "count_ok", 0))

        def write(_):
            body = self.metrics.render()
            request.setHeader(b"content-type", CONTENT_TYPE_LATEST.encode())
            if request.method != b"HEAD":
                request.write(body)
            request.finish()

        d.addCallback(write)
        return server.NOT_DONE_YET


def instrument(inner: Any, api: Any, service: Any, registry: Optional[CollectorRegistry] = None) -> MetricsRoot:
    """The root resource serving ``/metrics`` in front of ``inner`` (the API resource).

    api: the :class:`bws.http.app.BwsApi` serving ``inner`` (its base path and
    router name each request's route); service: the process's :class:`bws.services.Services`, whose
    ``storage`` is counted, whose ``lock`` (shared by every bound copy) is
    wrapped to time lock waits and whose ``clock`` times them."""
    metrics = BwsMetrics(registry, storage=getattr(service, "storage", None))
    if getattr(service, "lock", None) is not None and not isinstance(service.lock, InstrumentedLock):
        service.lock = InstrumentedLock(service.lock, metrics, service.clock)
    return MetricsRoot(inner, api, metrics, service.clock)
