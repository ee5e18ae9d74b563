"""One typed configuration for every BWS-Twisted process.

Keys keep the reference's names (``config.js`` of bitcore-wallet-service, see
docs/spec/services.md §9) so an operator who knows BWS finds them where expected:
``basePath``, ``port``, ``storageOpts.mongoDb.uri``, ``lockOpts.lockerServer``,
``messageBrokerOpts.messageBrokerServer``, ``blockchainExplorerOpts``,
``emailOpts``, ``pushNotificationsOpts``, ``fiatRateServiceOpts``. Keys that the
reference does not have (Redis mode, node RPC URLs, webhooks) are additions.

Sources, later ones win:

1. built-in defaults (the dataclasses below);
2. a JSON file: ``--config PATH``, else ``$BWS_CONFIG``, else ``./config.json``
   when it exists;
3. environment variables: the shortcuts in ``ENV_SHORTCUTS`` (``BWS_PORT``,
   ``BWS_MONGODB_URI``, ...) and the generic form ``BWS__a__b=value`` which sets
   key path ``a.b`` (value parsed as JSON when it parses, else kept as text).

Every value is type-checked and range-checked when loaded; a bad one raises
:class:`ConfigError` whose message starts with the dotted key, e.g.
``port: must be an integer in 1..65535, got 'abc'``.

Modules: ``options.py`` (the sections and :class:`Config`), ``loading.py``
(file, environment, checks).
"""

from __future__ import annotations

from .loading import ENV_SHORTCUTS, config_from_dict, explorer_opts, load_config, secret_keys, warn_if_secrets_readable
from .options import (
    MAX_DB_TIMEOUT_MS,
    ApnsOpts,
    Config,
    ConfigError,
    EmailOpts,
    EmbeddedDbOpts,
    ExplorerOpts,
    FcmOpts,
    FeeLevelsRateLimitRule,
    FiatProviderOpts,
    FiatRateServiceOpts,
    LockerServerOpts,
    LockOpts,
    MessageBrokerOpts,
    MessageBrokerServerOpts,
    MongoDbOpts,
    PushNotificationsOpts,
    RateLimitRule,
    RateLimitsOpts,
    RedisOpts,
    ServerBindOpts,
    StorageOpts,
    WebhookOpts,
)

__all__ = [
    "ApnsOpts",
    "Config",
    "ConfigError",
    "ENV_SHORTCUTS",
    "EmailOpts",
    "EmbeddedDbOpts",
    "ExplorerOpts",
    "FcmOpts",
    "FeeLevelsRateLimitRule",
    "FiatProviderOpts",
    "FiatRateServiceOpts",
    "LockOpts",
    "LockerServerOpts",
    "MAX_DB_TIMEOUT_MS",
    "MessageBrokerOpts",
    "MessageBrokerServerOpts",
    "MongoDbOpts",
    "PushNotificationsOpts",
    "RateLimitRule",
    "RateLimitsOpts",
    "RedisOpts",
    "ServerBindOpts",
    "StorageOpts",
    "WebhookOpts",
    "config_from_dict",
    "explorer_opts",
    "load_config",
    "secret_keys",
    "warn_if_secrets_readable",
]
