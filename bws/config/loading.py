"""Loading the configuration: JSON file, environment overrides, type and
range checks with messages naming the dotted key (bws/config/__init__.py).
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from typing import Any, Optional

from .options import Config, ConfigError, ExplorerOpts, _json_key

ENV_SHORTCUTS = {
    "BWS_PORT": "port",
    "BWS_HOST": "host",
    "BWS_MONGODB_URI": "storageOpts.mongoDb.uri",
    "BWS_REDIS_URL": "redis.url",
    "BWS_LOCK_MODE": "lockOpts.mode",
    "BWS_BROKER_MODE": "messageBrokerOpts.mode",
    "BWS_LOCKER_PORT": "lockOpts.lockerServer.port",
    "BWS_BROKER_URL": "messageBrokerOpts.messageBrokerServer.url",
}

#: JSON keys that are Python keywords get a trailing underscore on the dataclass.
def _describe(value: Any) -> str:
    return repr(value) if not isinstance(value, (dict, list)) else type(value).__name__


def _coerce(tp: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _coerce(args[0], value, path)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: must be an object, got {_describe(value)}")
        return _build(tp, value, path)
    if origin is dict:
        _, vt = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: must be an object, got {_describe(value)}")
        return {str(k): _coerce(vt, v, f"{path}.{k}") for k, v in value.items()}
    if origin is list:
        (it,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{path}: must be a list, got {_describe(value)}")
        return [_coerce(it, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{path}: must be true or false, got {_describe(value)}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            if path.endswith("port") or path.endswith(".port"):
                if not 0 <= value <= 65535:
                    raise ConfigError(f"{path}: must be an integer in 1..65535, got {value!r}")
            return value
        raise ConfigError(f"{path}: must be an integer, got {_describe(value)}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{path}: must be a number, got {_describe(value)}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{path}: must be a string, got {_describe(value)}")
    return value


def _build(cls: type, data: dict[str, Any], path: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    names = {_json_key(f.name): f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        full = f"{path}.{key}" if path else key
        if key not in names:
            raise ConfigError(f"{full}: unknown key (known: {', '.join(sorted(names))})")
        kwargs[names[key]] = _coerce(hints[names[key]], value, full)
    try:
        return cls(**kwargs)
    except TypeError as e:  # pragma: no cover - dataclass signature mismatch
        raise ConfigError(f"{path or '<root>'}: {e}") from None


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _set_path(tree: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = tree
    for p in parts[:-1]:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{dotted}: cannot set inside a non-object value")
    node[parts[-1]] = value


def _parse_env_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _env_overrides(environ: typing.Mapping[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for name, dotted in ENV_SHORTCUTS.items():
        if name in environ and environ[name] != "":
            value = environ[name]
            # Ports arrive as text; anything else stays text unless it is JSON.
            parsed = _parse_env_value(value) if dotted.endswith("port") else value
            _set_path(tree, dotted, parsed)
    for name, raw in environ.items():
        if name.startswith("BWS__"):
            dotted = ".".join(name[len("BWS__"):].split("__"))
            _set_path(tree, dotted, _parse_env_value(raw))
    return tree


_SECRET_KEYS = ("password", "secret", "pass", "apikey", "privatekey", "token")


def secret_keys(data: Any, path: str = "") -> list[str]:
    """Dotted keys of ``data`` holding a non-empty secret: a key named like a
    password/secret/token, or a URL/URI with credentials (``user:pass@``)."""
    found: list[str] = []
    if isinstance(data, dict):
        for k, v in data.items():
            full = f"{path}.{k}" if path else str(k)
            if isinstance(v, (dict, list)):
                found += secret_keys(v, full)
            elif isinstance(v, str) and v:
                if str(k).lower().replace("_", "") in _SECRET_KEYS:
                    found.append(full)
                elif "://" in v and "@" in v.split("://", 1)[1].split("/", 1)[0]:
                    found.append(full)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            found += secret_keys(v, f"{path}[{i}]")
    return found


def warn_if_secrets_readable(path: str, data: dict[str, Any]) -> Optional[str]:
    """Log a warning (and return its text) when the config file at ``path``
    holds secrets and can be read by its group or by others (docs/security.md)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if not mode & 0o077:
        return None
    keys = secret_keys(data)
    if not keys:
        return None
    text = (
        f"config file {path!r} contains secrets ({', '.join(keys[:5])}{', ...' if len(keys) > 5 else ''}) "
        f"but is readable by group/others (mode {mode & 0o777:o}); run: chmod 600 {path}"
    )
    import logging

    logging.getLogger("bws.config").warning("%s", text)
    return text


def config_from_dict(data: dict[str, Any]) -> Config:
    """Build and validate a Config from a plain dict (JSON key names)."""
    cfg = _build(Config, data)
    cfg.validate()
    return cfg


def explorer_opts(data: dict[str, Any], path: str = "blockchainExplorerOpts.<coin>.<network>") -> ExplorerOpts:
    """One validated :class:`ExplorerOpts` from a plain dict (JSON key names);
    raises ConfigError naming the bad key (tests and tools building one explorer)."""
    return _build(ExplorerOpts, data, path)


def load_config(path: Optional[str] = None, environ: Optional[typing.Mapping[str, str]] = None) -> Config:
    """Load defaults + JSON file + environment; raises ConfigError on any bad value.

    path: explicit file; else ``$BWS_CONFIG``; else ``./config.json`` if present.
    """
    environ = os.environ if environ is None else environ
    path = path or environ.get("BWS_CONFIG") or ("config.json" if os.path.exists("config.json") else None)
    data: dict[str, Any] = {}
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            raise ConfigError(f"config file {path!r} does not exist") from None
        except json.JSONDecodeError as e:
            raise ConfigError(f"config file {path!r} is not valid JSON: {e}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"config file {path!r}: top level must be an object")
        warn_if_secrets_readable(path, data)
    data = _deep_merge(data, _env_overrides(environ))
    return config_from_dict(data)
