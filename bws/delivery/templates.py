"""Notification templates (e-mail and push): loading, Mustache→Jinja2, rendering, amounts.

Layout (docs/spec/services.md §8): ``<templatePath>/<language>/<basename>.plain``
(line 1 = subject, the rest = plain body) and optional ``<basename>.html``
(whole file = HTML body). The available languages are the sub-directories.

Template syntax: the reference's Mustache subset, translated to Jinja2 at load
time — ``{{x}}`` becomes ``{{ x|mustache_escape }}`` (the mustache.js entity
map, even in plain text, as the reference does), ``{{&x}}`` and ``{{{x}}}``
become a raw ``{{ x }}``. Anything else (``{% if %}`` blocks in our HTML
templates) is Jinja2 and passes through unchanged. Unknown names render empty.
Subject and body are split *before* rendering and rendered separately.

Amounts (:func:`format_amount`) follow the reference ``Utils.formatAmount``
(round to ``maxDecimals``, drop trailing zeros beyond ``minDecimals``, ``,``
thousands and ``.`` decimal separators in every language, as the reference
does), extended with ``eth``/``gwei`` (wei amounts) and ``try`` (18-decimal
token units) and with exact decimal arithmetic instead of floats.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Optional

import jinja2

__all__ = [
    "TEMPLATE_BY_TYPE",
    "UNITS",
    "Rendered",
    "TemplateSet",
    "TemplateError",
    "mustache_escape",
    "translate_mustache",
    "render_mustache",
    "format_amount",
    "format_amount_with_label",
    "choose_language",
    "choose_unit",
    "build_template_data",
]

#: notification type -> template basename (docs/spec/services.md §4.2); other types are not mailed/pushed.
TEMPLATE_BY_TYPE = {
    "NewCopayer": "new_copayer",
    "WalletComplete": "wallet_complete",
    "NewTxProposal": "new_tx_proposal",
    "NewOutgoingTx": "new_outgoing_tx",
    "NewIncomingTx": "new_incoming_tx",
    "TxProposalFinallyRejected": "txp_finally_rejected",
    "TxConfirmation": "tx_confirmation",
}


@dataclass(frozen=True)
class Unit:
    #: smallest-unit amount per one displayed unit
    to_smallest: int
    max_decimals: int
    min_decimals: int
    label: str


#: unit -> formatting rule. btc/bit/sat/bch as the reference (sat/bch labels added:
#: the reference printed "undefined" for sat); eth/gwei/try added.
UNITS: dict[str, Unit] = {
    "btc": Unit(10**8, 6, 2, "BTC"),
    "bit": Unit(100, 0, 0, "bits"),
    "sat": Unit(1, 0, 0, "sat"),
    "bch": Unit(10**8, 6, 2, "BCH"),
    "ltc": Unit(10**8, 6, 2, "LTC"),
    "eth": Unit(10**18, 6, 2, "ETH"),
    "gwei": Unit(10**9, 2, 0, "gwei"),
    "try": Unit(10**18, 6, 2, "TRY"),
}

#: units a recipient may choose, per wallet coin; the first one is the coin's default.
COIN_UNITS = {
    "btc": ("btc", "bit", "sat"),
    "eth": ("eth", "gwei"),
}


class TemplateError(Exception):
    """A template is missing or cannot be compiled/rendered."""


# ---------------------------------------------------------------------------
# Mustache -> Jinja2

_MUSTACHE_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
    "/": "&#x2F;",
    "`": "&#x60;",
    "=": "&#x3D;",
}
_ESCAPE_RE = re.compile(r"[&<>\"'`=/]")


def mustache_escape(value: Any) -> str:
    """mustache.js 2.x ``escapeHtml``: the eight-character entity map; None/undefined → ''."""
    if value is None or isinstance(value, jinja2.Undefined):
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return _ESCAPE_RE.sub(lambda m: _MUSTACHE_ESCAPES[m.group(0)], str(value))


def _raw(value: Any) -> str:
    if value is None or isinstance(value, jinja2.Undefined):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_TRIPLE_RE = re.compile(r"\{\{\{\s*([A-Za-z_][\w.]*)\s*\}\}\}")
_AMP_RE = re.compile(r"\{\{&\s*([A-Za-z_][\w.]*)\s*\}\}")
_PLAIN_RE = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")


def translate_mustache(text: str) -> str:
    """Mustache interpolations → Jinja2 expressions (see module docstring)."""
    text = _TRIPLE_RE.sub(lambda m: "{{ " + m.group(1) + "|mustache_raw }}", text)
    text = _AMP_RE.sub(lambda m: "{{ " + m.group(1) + "|mustache_raw }}", text)
    return _PLAIN_RE.sub(lambda m: "{{ " + m.group(1) + "|mustache_escape }}", text)


def _make_env() -> jinja2.Environment:
    env = jinja2.Environment(autoescape=False, keep_trailing_newline=True, undefined=jinja2.Undefined)
    env.filters["mustache_escape"] = mustache_escape
    env.filters["mustache_raw"] = _raw
    return env


_ENV = _make_env()


def render_mustache(template: str, data: dict[str, Any]) -> str:
    """Render one Mustache-form string (e.g. a ``publicTxUrlTemplate`` value)."""
    try:
        return _ENV.from_string(translate_mustache(template)).render(data)
    except jinja2.TemplateError as e:
        raise TemplateError(str(e)) from e


# ---------------------------------------------------------------------------
# Amounts


def _to_int(amount: Any) -> int:
    if isinstance(amount, bool):
        raise ValueError("boolean amount")
    if isinstance(amount, int):
        return amount
    if isinstance(amount, float):
        if amount != amount or amount in (float("inf"), float("-inf")):
            raise ValueError("non-finite amount")
        return int(round(amount))
    if isinstance(amount, str):
        try:
            return int(Decimal(amount.strip()).to_integral_value(ROUND_HALF_UP))
        except InvalidOperation:
            raise ValueError(f"not a number: {amount!r}") from None
    raise ValueError(f"not a number: {amount!r}")


def format_amount(amount: Any, unit: str) -> str:
    """``amount`` in the coin's smallest unit (satoshi, wei, token base unit) → display text.

    Raises ValueError for an unknown unit or a non-numeric amount.
    Examples: ``format_amount(12300000, "bit") == "123,000"``,
    ``format_amount(80000000, "btc") == "0.80"``.
    """
    u = UNITS.get((unit or "").lower())
    if u is None:
        raise ValueError(f"unknown unit {unit!r}")
    value = Decimal(_to_int(amount)) / Decimal(u.to_smallest)
    quant = Decimal(1).scaleb(-u.max_decimals)
    fixed = value.quantize(quant, rounding=ROUND_HALF_UP)
    text = f"{fixed:.{u.max_decimals}f}"
    sign = ""
    if text.startswith("-"):
        sign, text = "-", text[1:]
    whole, _, frac = text.partition(".")
    while len(frac) > u.min_decimals and frac.endswith("0"):
        frac = frac[:-1]
    whole = f"{int(whole):,}"
    return sign + whole + ("." + frac if frac else "")


def format_amount_with_label(amount: Any, unit: str) -> str:
    """``format_amount`` plus the unit label, e.g. ``"123,000 bits"``."""
    u = UNITS.get((unit or "").lower())
    if u is None:
        raise ValueError(f"unknown unit {unit!r}")
    return format_amount(amount, unit) + " " + u.label


# ---------------------------------------------------------------------------
# Recipient language and unit (reference fallback rules)


def choose_language(preferred: Any, available: list[str] | set[str], default: str) -> str:
    """The preference's language if a template directory exists for it, else ``default``."""
    if isinstance(preferred, str) and preferred in available:
        return preferred
    return default


def choose_unit(coin: Any, preferred: Any, default: str) -> str:
    """The reference rule (coin ≠ btc → the coin name; btc → preference or default),
    extended: an ETH wallet honours ``eth``/``gwei`` preferences."""
    coin = (coin or "btc").lower() if isinstance(coin, str) else "btc"
    allowed = COIN_UNITS.get(coin)
    if allowed is None:
        return coin if coin in UNITS else "btc"
    if isinstance(preferred, str) and preferred.lower() in allowed:
        return preferred.lower()
    if coin == "btc" and isinstance(default, str) and default.lower() in allowed:
        return default.lower()
    return allowed[0]


# ---------------------------------------------------------------------------
# Template data (docs/spec/services.md §4.4)


def build_template_data(
    notification: dict[str, Any],
    wallet: Optional[dict[str, Any]],
    unit: str,
    subject_prefix: str,
    public_tx_url_template: Optional[dict[str, dict[str, str]]] = None,
) -> dict[str, Any]:
    """The variables every template sees; raises ValueError("Could not format amount")."""
    data = copy.deepcopy(notification.get("data") or {})
    if not isinstance(data, dict):
        data = {}
    data["subjectPrefix"] = subject_prefix
    if data.get("amount"):
        try:
            data["amount"] = format_amount_with_label(data["amount"], unit)
        except ValueError as e:
            raise ValueError(f"Could not format amount: {e}") from e
    if wallet:
        data["walletId"] = wallet.get("id")
        data["walletName"] = wallet.get("name")
        data["walletM"] = wallet.get("m")
        data["walletN"] = wallet.get("n")
        copayers = wallet.get("copayers") or []
        creator = next((c for c in copayers if c.get("id") == notification.get("creatorId")), None)
        if creator:
            data["copayerId"] = creator.get("id")
            data["copayerName"] = creator.get("name")
        if notification.get("type") == "TxProposalFinallyRejected" and data.get("rejectedBy"):
            names = {c.get("id"): c.get("name") for c in copayers}
            data["rejectorsNames"] = ", ".join(str(names.get(cid) or cid) for cid in data["rejectedBy"])
        if (
            public_tx_url_template
            and notification.get("type") in ("NewIncomingTx", "NewOutgoingTx")
            and data.get("txid")
        ):
            by_net = public_tx_url_template.get(wallet.get("coin") or "btc") or {}
            tpl = by_net.get(wallet.get("network") or "livenet") if isinstance(by_net, dict) else None
            if tpl:
                try:
                    data["urlForTx"] = render_mustache(tpl, data)
                except TemplateError:
                    pass
    return data


# ---------------------------------------------------------------------------
# Loading and rendering


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    html: Optional[str] = None


@dataclass
class _Compiled:
    subject: jinja2.Template
    body: jinja2.Template
    html: Optional[jinja2.Template]


class TemplateSet:
    """The templates under one directory; compiled templates are cached."""

    def __init__(self, path: str):
        self.path = path
        self._cache: dict[tuple[str, str], _Compiled] = {}

    @property
    def languages(self) -> list[str]:
        """Available languages = sub-directory names (sorted)."""
        try:
            return sorted(d for d in os.listdir(self.path) if os.path.isdir(os.path.join(self.path, d)))
        except FileNotFoundError:
            return []

    def _compile(self, language: str, basename: str) -> _Compiled:
        key = (language, basename)
        if key in self._cache:
            return self._cache[key]
        base = os.path.join(self.path, language, basename)
        try:
            with open(base + ".plain", encoding="utf-8") as f:
                plain = f.read()
        except OSError as e:
            raise TemplateError(f"missing template {base}.plain: {e}") from e
        lines = plain.split("\n")
        subject_src, body_src = lines[0], "\n".join(lines[1:])
        html_src = None
        try:
            with open(base + ".html", encoding="utf-8") as f:
                html_src = f.read()
        except OSError:
            pass
        try:
            c = _Compiled(
                _ENV.from_string(translate_mustache(subject_src)),
                _ENV.from_string(translate_mustache(body_src)),
                _ENV.from_string(translate_mustache(html_src)) if html_src is not None else None,
            )
        except jinja2.TemplateError as e:
            raise TemplateError(f"cannot compile {base}: {e}") from e
        self._cache[key] = c
        return c

    def render(self, language: str, basename: str, data: dict[str, Any], html: bool = True) -> Rendered:
        if not data:
            raise TemplateError("Could not apply template to empty data")
        c = self._compile(language, basename)
        try:
            return Rendered(
                c.subject.render(data),
                c.body.render(data),
                c.html.render(data) if (html and c.html is not None) else None,
            )
        except jinja2.TemplateError as e:
            raise TemplateError(f"cannot render {language}/{basename}: {e}") from e
