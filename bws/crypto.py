"""Message hashing, signing and identity helpers (docs/spec/api.md §3.2–3.4).

Everything here is pure (no I/O). secp256k1 is coincurve (libsecp256k1), HD
public derivation is ``bip32``; nothing is hand-rolled.

Key facts reproduced from the reference:

* the signed digest is plain ``sha256d(utf8(text))`` — the client reverses the
  digest and signs "little endian", which cancels out (docs/spec/api.md §3.3);
* signatures are DER hex without a sighash byte; libsecp256k1 rejects high-S
  signatures on verify, like the reference's ``secp256k1`` node binding;
* the request signature covers ``lower(method)|url|JSON.stringify(body)``; we
  check the raw body text first, then a JS-compatible re-serialisation (docs/spec/api.md §3.4).
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Any, Iterable, Optional

from bip32 import BIP32
from coincurve import PrivateKey, PublicKey

from bws.jsnum import js_number_str

__all__ = [
    "sha256",
    "sha256d",
    "hash_message",
    "sign_message",
    "verify_message",
    "copayer_id",
    "derive_public_key",
    "request_key_auth_pubkey",
    "xpub_network",
    "request_message",
    "js_json_stringify",
    "request_signer",
    "verify_request_signature",
]

REQUEST_KEY_AUTH_PATH = "m/2"  # docs/spec/api.md §8.1 PATHS.REQUEST_KEY_AUTH

_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _utf8(text: str | bytes) -> bytes:
    if isinstance(text, (bytes, bytearray)):
        return bytes(text)
    # JS Buffer.from(str) turns lone surrogates into U+FFFD; Python would raise.
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub("\ufffd", text).encode("utf-8")


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def sha256d(text: str | bytes) -> bytes:
    """SHA256(SHA256(utf8(text))) → 32 bytes. ``sha256d("hola").hex() == "2f17…0241"``."""
    return sha256(sha256(_utf8(text)))


def hash_message(text: str | bytes) -> bytes:
    """The 32-byte digest that message signatures cover (= ``sha256d``; docs/spec/api.md §3.3).

    The reference's ``hashMessage`` returns it byte-reversed, but it also signs
    with the little-endian flag, so the effective ECDSA ``e`` is this value.
    """
    return sha256d(text)


def sign_message(text: str | bytes, priv_hex: str) -> str:
    """DER hex signature of ``hash_message(text)`` (RFC6979 nonce, low-S).

    priv_hex: 32-byte private key as hex. Used by tests and dev tools; the
    server itself never signs.
    """
    key = PrivateKey(bytes.fromhex(priv_hex))
    return key.sign(hash_message(text), hasher=None).hex()


def _verify_digest(digest: bytes, sig: bytes, pub: bytes) -> bool:
    try:
        # libsecp256k1: strict DER parse; verify rejects non-normalised (high-S) sigs.
        return PublicKey(pub).verify(sig, digest, hasher=None)
    except Exception:
        return False


def verify_message(text: str | bytes, sig_hex: Optional[str], pub_hex: Optional[str]) -> bool:
    """True when ``sig_hex`` (DER hex) is a valid low-S signature of
    ``hash_message(text)`` by ``pub_hex`` (SEC hex, compressed or not).

    Any parse failure (bad hex, bad DER, bad pubkey, None/empty) → False.
    """
    if not sig_hex or not pub_hex or not isinstance(sig_hex, str) or not isinstance(pub_hex, str):
        return False
    try:
        sig = bytes.fromhex(sig_hex)
        pub = bytes.fromhex(pub_hex)
    except ValueError:
        return False
    return _verify_digest(hash_message(text), sig, pub)


def copayer_id(coin: str, xpub: str) -> str:
    """64-hex copayer id (docs/spec/api.md §3.2): sha256(xpub) for btc, sha256(coin + xpub) otherwise."""
    data = xpub if (coin or "btc") == "btc" else coin + xpub
    return sha256(_utf8(data)).hex()


@lru_cache(maxsize=8192)
def _derive(xpub: str, path: str) -> bytes:
    return BIP32.from_xpub(xpub).get_pubkey_from_path(path)


def derive_public_key(xpub: str, path: str) -> str:
    """Compressed SEC pubkey hex of ``xpub`` derived along a non-hardened path.

    path: "m/0/5", "m/2147483647/1/3" … Raises ValueError (or a bip32 error,
    also a subclass of Exception) for a bad xpub or a hardened step.
    """
    if any(seg.endswith(("'", "h", "H")) for seg in path.split("/")[1:]):
        raise ValueError("hardened derivation from an xpub is impossible")
    return _derive(xpub, path).hex()


def request_key_auth_pubkey(xpub: str) -> str:
    """The copayer's request-key-auth public key: ``xpub`` derived at ``m/2`` (docs/spec/api.md §3.1)."""
    return derive_public_key(xpub, REQUEST_KEY_AUTH_PATH)


def xpub_network(xpub: str) -> str:
    """"livenet" for xpub…, "testnet" for tpub…; raises ValueError if unparsable."""
    try:
        node = BIP32.from_xpub(xpub)
    except Exception as exc:  # bip32 raises several types
        raise ValueError("Invalid extended public key") from exc
    return "livenet" if node.network == "main" else "testnet"


# --------------------------------------------------------------------------
# Request signatures (docs/spec/api.md §3.4)


def request_message(method: str, url: str, body_text: str) -> str:
    """``lower(method) + "|" + url + "|" + body_text``.

    url: request-target relative to the base path, query string included
    exactly as sent ("/v1/txproposals/?r=48213"); body_text: the JSON text.
    """
    return method.lower() + "|" + url + "|" + body_text


_JS_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\ud800-\udfff]')


def _js_quote(s: str) -> str:
    # Well-formed JSON.stringify (ES2019): escape quote, backslash, C0 controls
    # (short forms where they exist, else \u00xx lowercase) and lone surrogates.
    # Python strings hold astral chars as one code point, so any surrogate
    # code point here is necessarily a lone one.
    def repl(m: re.Match) -> str:
        c = m.group(0)
        return _JS_ESCAPES.get(c) or "\\u%04x" % ord(c)

    return '"' + _NEEDS_ESCAPE.sub(repl, s) + '"'


def _is_array_index(key: str) -> bool:
    # JS property order: canonical array indices (0 .. 2**32-2) first, ascending.
    return key.isdigit() and key.isascii() and (key == "0" or key[0] != "0") and int(key) < 2**32 - 1


def js_json_stringify(obj: Any) -> str:
    """``JSON.stringify(obj)`` of a value produced by ``json.loads`` (docs/spec/api.md §3.4).

    Compact separators, no ASCII escaping, ECMAScript number formatting
    (NaN/Infinity → null), integer-like object keys first in ascending
    numeric order then the others in insertion order.
    """
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if isinstance(obj, (int, float)):
        if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
            return "null"
        return js_number_str(obj)
    if isinstance(obj, str):
        return _js_quote(obj)
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(js_json_stringify(v) for v in obj) + "]"
    if isinstance(obj, dict):
        keys = [str(k) for k in obj.keys()]
        values = dict(zip(keys, obj.values()))
        idx = sorted((k for k in keys if _is_array_index(k)), key=int)
        rest = [k for k in keys if not _is_array_index(k)]
        return "{" + ",".join(_js_quote(k) + ":" + js_json_stringify(values[k]) for k in idx + rest) + "}"
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")


def _body_candidates(raw_body: Optional[str | bytes], parsed_body: Any) -> list[str]:
    out: list[str] = []
    if raw_body is None or raw_body == b"" or raw_body == "":
        out.append("{}")
    else:
        if isinstance(raw_body, (bytes, bytearray)):
            try:
                raw_body = bytes(raw_body).decode("utf-8")
            except UnicodeDecodeError:
                raw_body = None
        if raw_body is not None:
            out.append(raw_body)
    try:
        alt = js_json_stringify({} if parsed_body is None else parsed_body)
    except (TypeError, RecursionError):  # deeply nested bodies: only the raw text can verify
        alt = None
    if alt is not None and alt not in out:
        out.append(alt)
    return out


def request_signer(
    method: str,
    url: str,
    raw_body: Optional[str | bytes],
    parsed_body: Any,
    sig_hex: Optional[str],
    pubkeys: Iterable[str],
) -> Optional[str]:
    """The first of ``pubkeys`` (hex) whose key signed the request, else None.

    raw_body: the request body as received (None/empty when there was none →
    "{}" is tried); parsed_body: the parsed JSON (or None → {}), re-serialised
    JS-style as a fallback when the raw text does not verify.
    """
    if not sig_hex or not isinstance(sig_hex, str):
        return None
    try:
        sig = bytes.fromhex(sig_hex)
    except ValueError:
        return None
    keys = []
    for k in pubkeys:
        try:
            keys.append((k, bytes.fromhex(k)))
        except (ValueError, TypeError):
            continue
    for body in _body_candidates(raw_body, parsed_body):
        digest = hash_message(request_message(method, url, body))
        for key_hex, key in keys:
            if _verify_digest(digest, sig, key):
                return key_hex
    return None


def verify_request_signature(
    method: str,
    url: str,
    raw_body: Optional[str | bytes],
    parsed_body: Any,
    sig_hex: Optional[str],
    pubkeys: Iterable[str],
) -> bool:
    """True when any of ``pubkeys`` signed the request (see :func:`request_signer`)."""
    return request_signer(method, url, raw_body, parsed_body, sig_hex, pubkeys) is not None

