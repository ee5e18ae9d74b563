"""The typed sections of the configuration and :class:`Config` with its
cross-key checks (bws/config/__init__.py explains the sources and key names).
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass, field
from typing import Any, Optional


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the dotted key."""


#: Upper bound of ``storageOpts.mongoDb.timeoutMS``: the API's HTTP idle timeout
#: (bws/__main__.py ``site(timeout=300)``); a longer database wait outlives the request.
MAX_DB_TIMEOUT_MS = 300_000


# ---------------------------------------------------------------------------
# Sections


@dataclass
class MongoDbOpts:
    #: ``mongodb://host:port/dbname``. Empty means: use the embedded SecantusDB
    #: server that ``python -m ops.embedded_db`` (and start.sh) runs on loopback.
    uri: str = ""
    #: Milliseconds pymongo waits for an unreachable database. In the API
    #: process ``timeoutMS`` bounds that wait instead (pymongo uses the remaining
    #: timeoutMS for server selection whenever timeoutMS is set).
    serverSelectionTimeoutMS: int = 3000
    #: Milliseconds one database operation of the API process may take in all
    #: (pymongo ``timeoutMS``: waiting for an unreachable server, connecting,
    #: retries and the server's own work) before its request answers 503
    #: SERVICE_UNAVAILABLE: the database down, frozen or overloaded never holds a
    #: request longer (docs/security.md §7, §8 Finding 11). 1..300000 (the HTTP
    #: idle timeout); the index builds at start-up are exempt.
    timeoutMS: int = 3000
    #: Milliseconds a multi-document write (a state change and its notifications)
    #: may take, retries of transient transaction errors included (a write
    #: conflict, e.g. with the transaction of a process killed mid-write, which
    #: the server aborts after its transaction lifetime, 60 s); then the request
    #: is answered 503 SERVICE_UNAVAILABLE (docs/security.md §8 Finding 6).
    #: 1..300000. It replaces ``timeoutMS`` inside a transaction.
    transactionTimeoutMS: int = 5000


@dataclass
class EmbeddedDbOpts:
    host: str = "127.0.0.1"
    port: int = 27017
    #: WiredTiger directory of the embedded server.
    dataPath: str = "./data/db"
    dbName: str = "bws"


@dataclass
class StorageOpts:
    mongoDb: MongoDbOpts = field(default_factory=MongoDbOpts)
    embedded: EmbeddedDbOpts = field(default_factory=EmbeddedDbOpts)


@dataclass
class LockerServerOpts:
    host: str = "127.0.0.1"
    port: int = 3231


@dataclass
class LockOpts:
    #: ``locker`` (TCP lock server, the reference default), ``redis`` (scale-out)
    #: or ``local`` (in-process; only valid with a single bws process).
    mode: str = "locker"
    lockerServer: LockerServerOpts = field(default_factory=LockerServerOpts)
    #: Seconds a request waits for a wallet lock before WALLET_BUSY (docs/spec/api.md §6.17).
    waitTime: float = 10.0
    #: Seconds after which a held lock is force-released.
    maxHoldTime: float = 300.0
    #: Shared secret presented to a locker bound to a non-loopback address.
    secret: str = ""
    #: Redis mode: seconds of a lock lease, renewed by a live holder; a holder
    #: that dies releases its locks within this time.
    leaseTime: float = 15.0


@dataclass
class MessageBrokerServerOpts:
    url: str = "ws://127.0.0.1:3380"


@dataclass
class MessageBrokerOpts:
    #: ``websocket`` (our broker process), ``redis`` (pub/sub) or ``local``.
    mode: str = "websocket"
    messageBrokerServer: MessageBrokerServerOpts = field(default_factory=MessageBrokerServerOpts)
    secret: str = ""


@dataclass
class RedisOpts:
    url: str = "redis://127.0.0.1:6379/0"


@dataclass
class ServerBindOpts:
    """Where a server process (locker, broker) listens."""

    host: str = "127.0.0.1"
    port: int = 0
    #: Required when ``host`` is not a loopback address.
    secret: str = ""


@dataclass
class ExplorerOpts:
    """One chain backend, ``blockchainExplorerOpts.<coin>.<network>``."""

    #: ``bitcoind`` (Bitcoin Core JSON-RPC), ``web3`` (EVM JSON-RPC), ``erc20``.
    provider: str = "bitcoind"
    #: JSON-RPC URL, credentials included (``http://user:pass@127.0.0.1:8332``).
    url: str = ""
    #: ``host:port`` of the node's Bitcoin P2P port (BTC monitor).
    p2p: str = ""
    #: Network magic as hex (BTC P2P); empty = the network's standard magic.
    magic: str = ""
    #: EVM chain id expected from the node.
    chainId: int = 0
    #: ERC20 contract address (coin ``try``).
    tokenAddress: str = ""
    #: Seconds between polls (EVM monitors).
    pollInterval: float = 5.0
    #: Blocks behind the tip before an EVM block is processed.
    confirmations: int = 0
    #: Seconds one node RPC may take before the request fails with a clear
    #: error (never a hung request; docs/security.md "Faults").
    timeout: float = 30.0
    #: bitcoind: node RPCs in flight at once (and pooled connections).
    concurrency: int = 8
    #: bitcoind: seconds an import that rescans the chain may take.
    rescanTimeout: float = 3600.0
    #: web3/erc20: seconds an address balance is cached.
    balanceTtl: float = 5.0
    #: web3/erc20: seconds the fee levels are cached.
    feeTtl: float = 30.0
    #: web3/erc20: accept pre-EIP-155 signatures (no chain id). Unset: false
    #: for web3, true for erc20 (the fork's TRY client signs without chain id).
    allowUnprotectedTx: Optional[bool] = None


@dataclass
class EmailOpts:
    enabled: bool = False
    host: str = "localhost"
    port: int = 25
    username: str = ""
    password: str = ""
    startTls: bool = False
    ignoreTLS: bool = True
    subjectPrefix: str = "[Wallet Service]"
    #: ``from`` in the reference (a Python keyword); the JSON key is ``from``.
    from_: str = "wallet-service@bitcore.io"
    templatePath: str = "./templates"
    defaultLanguage: str = "en"
    defaultUnit: str = "btc"
    #: coin -> network -> URL template with ``{{txid}}``.
    publicTxUrlTemplate: dict[str, dict[str, str]] = field(default_factory=dict)
    #: delivery (added): attempts per e-mail, first retry delay in s (doubles), SMTP timeout,
    #: outbox poll interval and per-row lease in s (see docs/notifications.md).
    maxAttempts: int = 5
    retryBackoff: float = 30.0
    sendTimeout: float = 30.0
    pollInterval: float = 5.0
    leaseSeconds: float = 120.0


@dataclass
class FcmOpts:
    serviceAccountFile: str = ""
    projectId: str = ""
    #: Base of the FCM HTTP v1 API (tests point it at a local fake).
    endpointBase: str = "https://fcm.googleapis.com/v1/projects"


@dataclass
class ApnsOpts:
    keyFile: str = ""
    keyId: str = ""
    teamId: str = ""
    topic: str = ""
    baseUrl: str = "https://api.push.apple.com"
    #: PEM bundle to trust instead of the system CAs (private relays, tests).
    caFile: str = ""


@dataclass
class PushNotificationsOpts:
    enabled: bool = False
    templatePath: str = "./templates"
    defaultLanguage: str = "en"
    defaultUnit: str = "btc"
    subjectPrefix: str = ""
    fcm: FcmOpts = field(default_factory=FcmOpts)
    apns: ApnsOpts = field(default_factory=ApnsOpts)
    #: delivery (added), as in emailOpts.
    maxAttempts: int = 5
    retryBackoff: float = 30.0
    sendTimeout: float = 30.0
    pollInterval: float = 5.0
    leaseSeconds: float = 120.0


@dataclass
class WebhookOpts:
    """Signed webhooks (added; docs/notifications.md). Delivered by the pushservice process."""

    enabled: bool = False
    #: seconds per POST
    timeout: float = 10.0
    maxAttempts: int = 8
    #: first retry delay in s; doubles per attempt up to maxBackoff
    retryBackoff: float = 10.0
    maxBackoff: float = 3600.0
    pollInterval: float = 5.0
    leaseSeconds: float = 60.0
    #: accept http:// callback URLs (tests and development only)
    allowHttp: bool = False
    #: CIDR networks (``"10.1.0.0/16"``, ``"fd00::/8"``, ``"127.0.0.1/32"``) a webhook
    #: may reach although they are not public; everything else that is private,
    #: loopback, link-local, reserved or multicast is refused at registration
    #: and at every delivery (SSRF guard, bws/delivery/destinations.py). Empty: public only.
    allowPrivateNetworks: list[str] = field(default_factory=list)


@dataclass
class FiatProviderOpts:
    url: str = ""
    enabled: bool = True


def _default_fiat_providers() -> dict[str, FiatProviderOpts]:
    return {
        "BitPay": FiatProviderOpts(url="https://bitpay.com/api/rates/"),
        "Bitstamp": FiatProviderOpts(url="https://www.bitstamp.net/api/ticker/"),
        "CoinGecko": FiatProviderOpts(url="https://api.coingecko.com/api/v3/simple/price"),
    }


@dataclass
class FiatRateServiceOpts:
    defaultProvider: str = "BitPay"
    #: Minutes between fetch rounds (the reference ignored this key; we honour it).
    fetchInterval: float = 60.0
    providers: dict[str, FiatProviderOpts] = field(default_factory=_default_fiat_providers)
    coins: list[str] = field(default_factory=lambda: ["btc", "eth", "try"])
    #: Seconds one provider request may take before the provider counts as failed this round.
    timeout: float = 30.0
    #: CoinGecko ``ids`` per coin (coins without an id are not asked of CoinGecko).
    coinGeckoIds: dict[str, str] = field(default_factory=lambda: {"btc": "bitcoin", "eth": "ethereum"})
    #: CoinGecko ``vs_currencies`` (lower case; stored upper case, e.g. ``USD``).
    vsCurrencies: list[str] = field(
        default_factory=lambda: ["usd", "eur", "gbp", "jpy", "cny", "krw", "cad", "aud", "chf", "inr", "brl", "rub", "btc"]
    )
    #: Source of the TRY price in BTC for ``/v1/rates/try`` (the fork's dncapi chart; empty = none,
    #: then CoinGecko's ``try``/``BTC`` rate of the same round is used when configured).
    tryPriceUrl: str = "https://dncapi.bqiapp.com/api/coin/web-charts?code=trias&type=all&webp=1"


@dataclass
class RateLimitRule:
    """One per-IP limit (express-rate-limit 2.x semantics, docs/spec/api.md §3.8)."""

    windowMs: int = 3_600_000
    #: requests per window; beyond it: 429 with ``message``
    max: int = 15
    #: requests per window served at full speed; each later one waits
    #: ``delayMs`` more than the previous one
    delayAfter: int = 8
    delayMs: int = 3000
    message: str = "Too many wallets created from this IP, please try again after an hour"


@dataclass
class FeeLevelsRateLimitRule(RateLimitRule):
    """Upstream's fee-level limit: 10 per 10 min, 300 ms more per request after the 5th."""

    windowMs: int = 600_000
    max: int = 10
    delayAfter: int = 5
    delayMs: int = 300
    message: str = "Too many request"


@dataclass
class RateLimitsOpts:
    """Upstream's limits on wallet creation and fee levels (bws/http/ratelimit.py).

    On by default with upstream's numbers below (upstream Defaults.RateLimit;
    the fork shipped without them; docs/security.md §6, issue 15 finding 5)."""

    enabled: bool = True
    #: client IP = left-most X-Forwarded-For. Off by default: the TCP peer is
    #: the client, so nobody picks their own IP with a header. Set true only
    #: behind a proxy that sets (not appends to) X-Forwarded-For.
    trustProxy: bool = False
    #: ``auto`` (Redis when lockOpts or messageBrokerOpts use Redis), ``redis`` or ``memory``.
    store: str = "auto"
    createWallet: RateLimitRule = field(default_factory=RateLimitRule)
    feeLevels: FeeLevelsRateLimitRule = field(default_factory=FeeLevelsRateLimitRule)


@dataclass
class Config:
    basePath: str = "/bws/api"
    host: str = "127.0.0.1"
    port: int = 3232
    disableLogs: bool = False
    storageOpts: StorageOpts = field(default_factory=StorageOpts)
    lockOpts: LockOpts = field(default_factory=LockOpts)
    messageBrokerOpts: MessageBrokerOpts = field(default_factory=MessageBrokerOpts)
    redis: RedisOpts = field(default_factory=RedisOpts)
    locker: ServerBindOpts = field(default_factory=lambda: ServerBindOpts(port=3231))
    messageBroker: ServerBindOpts = field(default_factory=lambda: ServerBindOpts(port=3380))
    #: coin -> network -> backend. Empty until the operator (or start.sh --dev) fills it.
    blockchainExplorerOpts: dict[str, dict[str, ExplorerOpts]] = field(default_factory=dict)
    emailOpts: EmailOpts = field(default_factory=EmailOpts)
    pushNotificationsOpts: PushNotificationsOpts = field(default_factory=PushNotificationsOpts)
    webhookOpts: WebhookOpts = field(default_factory=WebhookOpts)
    fiatRateServiceOpts: FiatRateServiceOpts = field(default_factory=FiatRateServiceOpts)
    rateLimits: RateLimitsOpts = field(default_factory=RateLimitsOpts)

    def validate(self) -> None:
        """Cross-field checks; raises ConfigError naming the key."""
        if not self.basePath.startswith("/"):
            raise ConfigError(f"basePath: must start with '/', got {self.basePath!r}")
        uri = self.storageOpts.mongoDb.uri
        if uri and not uri.startswith(("mongodb://", "mongodb+srv://")):
            raise ConfigError(f"storageOpts.mongoDb.uri: must be a mongodb:// URI, got {uri!r}")
        if self.lockOpts.mode not in ("locker", "redis", "local"):
            raise ConfigError(f"lockOpts.mode: must be one of locker, redis, local, got {self.lockOpts.mode!r}")
        if self.messageBrokerOpts.mode not in ("websocket", "redis", "local"):
            raise ConfigError(
                f"messageBrokerOpts.mode: must be one of websocket, redis, local, got {self.messageBrokerOpts.mode!r}"
            )
        for name in ("locker", "messageBroker"):
            bind: ServerBindOpts = getattr(self, name)
            if not _is_loopback(bind.host) and not bind.secret:
                raise ConfigError(
                    f"{name}.secret: a shared secret is required when {name}.host is not a loopback address "
                    f"({bind.host!r})"
                )
        for coin, networks in self.blockchainExplorerOpts.items():
            for network, opts in networks.items():
                key = f"blockchainExplorerOpts.{coin}.{network}"
                if network not in ("livenet", "testnet"):
                    raise ConfigError(f"{key}: network must be livenet or testnet")
                if opts.provider not in ("bitcoind", "web3", "erc20"):
                    raise ConfigError(f"{key}.provider: must be bitcoind, web3 or erc20, got {opts.provider!r}")
                if not opts.url:
                    raise ConfigError(f"{key}.url: required")
        if self.fiatRateServiceOpts.fetchInterval <= 0:
            raise ConfigError("fiatRateServiceOpts.fetchInterval: must be > 0 minutes")
        if self.fiatRateServiceOpts.timeout <= 0:
            raise ConfigError("fiatRateServiceOpts.timeout: must be > 0 seconds")
        if self.fiatRateServiceOpts.defaultProvider not in self.fiatRateServiceOpts.providers:
            raise ConfigError(
                "fiatRateServiceOpts.defaultProvider: must name one of fiatRateServiceOpts.providers"
            )
        if self.lockOpts.waitTime <= 0 or self.lockOpts.maxHoldTime <= 0:
            raise ConfigError("lockOpts.waitTime/maxHoldTime: must be > 0 seconds")
        if self.storageOpts.mongoDb.serverSelectionTimeoutMS <= 0:
            raise ConfigError("storageOpts.mongoDb.serverSelectionTimeoutMS: must be > 0")
        # A frozen database must not hold requests for longer than a client waits
        # (docs/security.md §8 Finding 11): no "0 = no limit", nothing beyond the idle timeout.
        for key in ("timeoutMS", "transactionTimeoutMS"):
            value = getattr(self.storageOpts.mongoDb, key)
            if not 0 < value <= MAX_DB_TIMEOUT_MS:
                raise ConfigError(
                    f"storageOpts.mongoDb.{key}: must be an integer in 1..{MAX_DB_TIMEOUT_MS} (milliseconds), "
                    f"got {value!r}"
                )
        if self.rateLimits.store not in ("auto", "redis", "memory"):
            raise ConfigError(f"rateLimits.store: must be one of auto, redis, memory, got {self.rateLimits.store!r}")
        for i, net in enumerate(self.webhookOpts.allowPrivateNetworks):
            try:
                ipaddress.ip_network(net)
            except ValueError as e:
                raise ConfigError(f"webhookOpts.allowPrivateNetworks[{i}]: must be a CIDR network: {e}") from None
        for name in ("createWallet", "feeLevels"):
            rule: RateLimitRule = getattr(self.rateLimits, name)
            if rule.windowMs <= 0 or rule.max < 0 or rule.delayAfter < 0 or rule.delayMs < 0:
                raise ConfigError(f"rateLimits.{name}: windowMs must be > 0, max/delayAfter/delayMs >= 0")

    @property
    def mongo_uri(self) -> str:
        """The URI every process connects to: the configured one, else the embedded server's."""
        if self.storageOpts.mongoDb.uri:
            return self.storageOpts.mongoDb.uri
        e = self.storageOpts.embedded
        return f"mongodb://{e.host}:{e.port}/{e.dbName}"

    def to_dict(self) -> dict[str, Any]:
        return _to_jsonable(self)


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


# ---------------------------------------------------------------------------
# Loading and type checking

#: Environment shortcuts -> dotted key path.
_RENAMED = {"from": "from_"}


def _json_key(py_name: str) -> str:
    for k, v in _RENAMED.items():
        if v == py_name:
            return k
    return py_name


def _to_jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return {_json_key(f.name): _to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {k: _to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_jsonable(v) for v in obj]
    return obj


