"""One request as route handlers see it (no Twisted types).

Handlers read ``r.params`` (decoded ``:name`` path parameters), ``r.query``
(qs-style parsed query string), ``r.body`` (the JSON body as a dict; {} when
absent or not an object) and call
``r.services.<aggregate>.<method>(r.caller, opts)`` (bws/services/__init__.py
``Services``): the authenticated :class:`~bws.services.context.Caller` is
passed explicitly, the services hold no caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import parse_qsl

from bws.jsnum import js_integral
from bws.services.context import Caller


class HttpError(Exception):
    """A transport-level failure with a fixed status and JSON body
    (status: int, HTTP status; body: dict, the JSON answer as is)."""

    def __init__(self, status: int, body: dict) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


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

    services: the process's :class:`bws.services.Services`; caller: who is
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


__all__ = ["ApiRequest", "HttpError", "parse_query"]
