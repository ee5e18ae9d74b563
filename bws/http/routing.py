"""The route table with Express semantics (docs/spec/api.md §2): paths matched
case-insensitively, one trailing slash optional, ``:param`` segments
URL-decoded, first match wins, HEAD routed as GET.  A parameter may name
literal values it never takes, ``:identifier!all`` (any segment but ``all``,
any case), so that a literal route beside it (``/v1/wallets/all/``) is the
only one matching that path: no two routes of one method match one path
(:meth:`Route.overlaps`, checked by tests/integration/test_http_layer.py).

Klein routes every path to :class:`bws.http.app.BwsApi`, which asks a
:class:`Router` built by :func:`bws.http.routes.build_router`; there is no
module-level table (each app owns its router).  A route module adds its
handlers in its ``register(router)``::

    def register(router: Router) -> None:
        @router.add("GET", "/v1/feelevels/", auth=NONE)
        async def fee_levels_v1(r: ApiRequest):
            return await r.services.fees.get_fee_levels(r.caller, {"network": r.query_str("network")})
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Optional
from urllib.parse import unquote

from bws.http.auth import SIG
from bws.http.request import ApiRequest, HttpError

Handler = Callable[[ApiRequest], Awaitable[Any]]


def _segments(path: str) -> Optional[list[str]]:
    """Raw path -> segments, one trailing slash optional (Express non-strict)."""
    if not path.startswith("/"):
        return None
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return path[1:].split("/") if path != "/" else [""]


@dataclass
class Route:
    """``method`` + ``pattern`` (segments; ``:name`` = parameter) -> handler.
    auth: NONE | SIG | SESSION | STAFF (bws/http/auth.py); version_gate: apply
    the client version gate on NONE routes too (docs/spec/api.md §3.7)."""

    method: str
    path: str
    handler: Handler
    auth: str = SIG
    version_gate: bool = True
    pattern: list[str] = field(default_factory=list)
    #: position -> lower-case literals that parameter never takes (``:name!a!b``)
    excluded: dict[int, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        segs = _segments(self.path)
        if segs is None:
            raise ValueError(f"route path must start with '/': {self.path!r}")
        self.pattern = []
        for i, s in enumerate(segs):
            if s.startswith(":"):
                name, *never = s.split("!")
                if never:
                    self.excluded[i] = frozenset(v.lower() for v in never)
                self.pattern.append(name)
            else:
                self.pattern.append(s.lower())

    def overlaps(self, other: "Route") -> bool:
        """True when some path would match both routes: same method and
        length, and at no position two different literals, nor a literal
        that the other's parameter excludes."""
        if self.method != other.method or len(self.pattern) != len(other.pattern):
            return False
        for i, (x, y) in enumerate(zip(self.pattern, other.pattern)):
            xp, yp = x.startswith(":"), y.startswith(":")
            if not xp and not yp and x != y:
                return False
            if xp and not yp and y in self.excluded.get(i, ()):
                return False
            if yp and not xp and x in other.excluded.get(i, ()):
                return False
        return True

    def match(self, segments: list[str]) -> Optional[dict[str, str]]:
        """The decoded ``:name`` parameters when ``segments`` fit, else None.
        HttpError 400 BADREQUEST when a parameter's %-escapes are not UTF-8
        (Express answers 400 "Failed to decode param")."""
        if len(segments) != len(self.pattern):
            return None
        raw: dict[str, str] = {}
        for i, (pat, seg) in enumerate(zip(self.pattern, segments)):
            if pat.startswith(":"):
                if not seg or seg.lower() in self.excluded.get(i, ()):
                    return None
                raw[pat[1:]] = seg
            elif pat != seg.lower():
                return None
        try:
            return {name: unquote(seg, errors="strict") for name, seg in raw.items()}
        except UnicodeDecodeError:
            message = "Invalid URL: a path parameter is not UTF-8"
            raise HttpError(400, {"code": "BADREQUEST", "message": message}) from None


class Router:
    """Ordered route table; first match wins (Express semantics)."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, path: str, *, auth: str = SIG, version_gate: bool = True):
        """Decorator registering ``handler(r: ApiRequest)`` for ``method path``."""

        def deco(handler: Handler) -> Handler:
            self.routes.append(Route(method.upper(), path, handler, auth, version_gate))
            return handler

        return deco

    def match(self, method: str, path: str) -> Optional[tuple[Route, dict[str, str]]]:
        """(route, decoded parameters) of the first route for ``method path``
        (HEAD looks up GET), or None."""
        segs = _segments(path)
        if segs is None:
            return None
        method = "GET" if method == "HEAD" else method
        for r in self.routes:
            if r.method != method:
                continue
            params = r.match(segs)
            if params is not None:
                return r, params
        return None


__all__ = ["Handler", "Route", "Router"]
