"""One request as route handlers see it (no Twisted types), and the ONE place
where the authenticated :class:`~bws.service.context.Caller` becomes the
service object handlers call.

Handlers read ``r.params`` (decoded ``:name`` path parameters), ``r.query``
(qs-style parsed query string), ``r.body`` (the JSON body as a dict; {} when
absent or not an object) and call ``r.service.<method>(opts)``.

Contract with the services: today the service API is the WalletService bound
to a caller (``service.bind(wallet_id, copayer_id, ...)``); :func:`bound_service`
is the only code that turns a Caller into that bound object.  When the services take
the caller as an argument, this function and the handlers' call lines change,
nothing else in ``bws/http``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Optional
from urllib.parse import parse_qsl

from bws.jsnum import js_integral
from bws.service.context import ANONYMOUS, Caller


class HttpError(Exception):
    """A transport-level failure with a fixed status and JSON body
    (status: int, HTTP status; body: dict, the JSON answer as is)."""

    def __init__(self, status: int, body: dict) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def bound_service(services: Any, caller: Caller) -> Any:
    """The service object acting for ``caller``: the unbound WalletService for
    :data:`~bws.service.context.ANONYMOUS` (routes without auth), else
    ``services.bind(...)`` with every field of the Caller (upstream
    bitcore-wallet-service lib/server.js ``getInstanceWithAuth``)."""
    if caller == ANONYMOUS:
        return services
    return services.bind(
        caller.wallet_id,
        caller.copayer_id,
        is_support_staff=caller.is_support_staff,
        client_version=caller.client_version,
        user_agent=caller.user_agent,
        request_digest=caller.request_digest,
    )


def parse_query(qs: str) -> dict[str, Any]:
    """qs-style query parsing: ``a=1`` -> "1", repeated keys and ``a[]=``
    -> lists; values URL-decoded; blank values kept as ""."""
    out: dict[str, Any] = {}
    for k, v in parse_qsl(qs, keep_blank_values=True):
        if k.endswith("[]"):
            k = k[:-2]
            out.setdefault(k, [])
        if k in out:
            cur = out[k]
            out[k] = (cur if isinstance(cur, list) else [cur]) + [v]
        else:
            out[k] = v
    return out


@dataclass
class ApiRequest:
    """One routed request.

    services: the unbound service the app was built with; caller: who is
    calling (:data:`ANONYMOUS` on ``auth=NONE`` routes); method: upper-case
    HTTP method; url: request target relative to basePath, query included;
    params / query / body / headers: see the module docstring (header names
    lower-case)."""

    services: Any
    caller: Caller
    method: str
    url: str
    params: dict[str, str]
    query: dict[str, Any]
    body: dict
    headers: dict[str, str]

    @cached_property
    def service(self) -> Any:
        """The service bound to :attr:`caller` (:func:`bound_service`)."""
        return bound_service(self.services, self.caller)

    def service_as(self, caller: Caller) -> Any:
        """The service bound to another caller (support staff re-bound by
        :func:`bws.http.auth.staff_on`)."""
        return bound_service(self.services, caller)

    def query_str(self, name: str) -> Optional[str]:
        """Query value as a string (the first one when repeated), or None."""
        v = self.query.get(name)
        if isinstance(v, list):
            v = v[0] if v else None
        return v if isinstance(v, str) else None

    def query_flag(self, name: str) -> bool:
        """``?name=1`` (the reference's ``== '1'`` tests)."""
        return self.query_str(name) == "1"

    def query_number(self, name: str) -> Any:
        """JS ``+value`` for a query value: int when integral and exact in a
        double, float otherwise, None when absent, blank or not a finite
        number (the option is then left out)."""
        text = self.query_str(name)
        if text is None or text.strip() == "":
            return None
        try:
            value = float(text)
        except ValueError:
            return None
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return js_integral(value)


__all__ = ["ApiRequest", "HttpError", "bound_service", "parse_query"]
