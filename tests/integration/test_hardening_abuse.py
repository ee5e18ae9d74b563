"""Issue 15, findings 4 and 5 (docs/security.md §8): abuse by a client.

Finding 4, webhook SSRF: a webhook URL whose host is (or resolves to) a
loopback, private, link-local, reserved or multicast address is refused at
registration (real HTTP to the API), every delivery resolves and checks again
and connects to the checked address (DNS rebinding), and the deliveries list
shows one failure reason whatever happened on the wire (no port scanner).

Finding 5, unlimited wallet creation: upstream's per-IP limits are on by
default, ``X-Forwarded-For`` is ignored unless ``trustProxy``, two API
processes in Redis mode share one count (two real ``python -m bws``), and the
client-chosen fields are bounded (400, nothing stored).
"""

from __future__ import annotations

import dataclasses

import subprocess
import uuid

import pytest
import pytest_twisted
import requests
from twisted.internet import protocol, reactor, task

from bws.config import ConfigError, WebhookOpts, config_from_dict
from bws.model import constants as C
from bws.http.ratelimit import MemoryCounter, RedisCounter, make_rate_limiter
from bws.services.webhooks import NOT_PUBLIC, register_webhook
from bws.delivery.destinations import DestinationPolicy, address_allowed, resolve_host
from bws.delivery.webhooks import DELIVERY_FAILED, TreqPoster, WebhookService
from tests.helpers import db
from tests.bws_process import start_bws
from tests.helpers.fixtures import api, clock, explorer, service  # noqa: F401
from tests.helpers.keys import CopayerKeys, WalletKey
from tests.helpers.wallets import join_opts
from tests.notify_fixtures import make_wallet, notify
from tests.servers.proc import free_port

WALLET_MSG = "Too many wallets created from this IP, please try again after an hour"


# ---------------------------------------------------------------------------------------------
# Finding 4: webhook SSRF


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "::1", "169.254.169.254", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1",
     "100.64.0.1", "0.0.0.0", "::", "255.255.255.255", "224.0.0.1", "ff02::1", "fe80::1", "fe80::1%lo",
     "fc00::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::7f00:1", "2002:7f00:1::",
     "2001:0:4136:e378:8000:63bf:80ff:fffe"],  # Teredo whose client address is 127.0.0.1
)
def test_non_public_addresses_are_refused(address):
    assert not address_allowed(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8",
                                     "64:ff9b::808:808", "2002:808:808::1"])
def test_public_addresses_are_allowed(address):
    assert address_allowed(address)


def test_allow_list_admits_its_networks_only():
    nets = DestinationPolicy(["127.0.0.0/8", "10.1.0.0/16"]).allowed
    assert address_allowed("127.0.0.1", nets) and address_allowed("10.1.2.3", nets)
    assert address_allowed("::ffff:127.0.0.1", nets)  # the mapped form of an allowed address
    assert not address_allowed("10.2.0.1", nets) and not address_allowed("::1", nets)
    assert not address_allowed("169.254.169.254", nets)


def test_allow_list_is_validated_at_start_up():
    cfg = config_from_dict({"webhookOpts": {"allowPrivateNetworks": ["10.0.0.0/8", "fd00::/8"]}})
    assert cfg.webhookOpts.allowPrivateNetworks == ["10.0.0.0/8", "fd00::/8"]
    assert config_from_dict({}).webhookOpts.allowPrivateNetworks == []
    for bad in (["10.0.0.1/8"], ["intranet"], ["10.0.0.0/33"]):
        with pytest.raises(ConfigError, match=r"^webhookOpts\.allowPrivateNetworks\[0\]: must be a CIDR network"):
            config_from_dict({"webhookOpts": {"allowPrivateNetworks": bad}})


@pytest_twisted.ensureDeferred
async def test_odd_host_spellings_resolve_like_the_http_client():
    for host in ("0x7f000001", "2130706433", "127.1", "017700000001", "127.0.0.1"):
        assert await resolve_host(host, 443) == ["127.0.0.1"], host


async def _copayer(client, n: int = 1, name: str = "w"):
    """Create an n-of-n wallet and join n copayers over HTTP -> (wallet id, [CopayerKeys])."""
    key = WalletKey.random()
    r = await client.post("/v2/wallets/", {"name": name, "m": n, "n": n, "pubKey": key.pub})
    assert r.status == 200, r.text
    wid = r.json["walletId"]
    copayers = [CopayerKeys.random() for _ in range(n)]
    for i, c in enumerate(copayers):
        r = await client.post(f"/v2/wallets/{wid}/copayers/", join_opts(wid, key, c, name=f"c{i}"))
        assert r.status == 200, r.text
    return wid, copayers


INTERNAL_URLS = [
    "https://127.0.0.1/hook", "https://[::1]/hook", "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.1/hook", "https://172.16.0.1/hook", "https://192.168.1.1/hook", "https://100.64.0.1/",
    "https://0x7f000001/hook", "https://2130706433/hook", "https://127.1/hook", "https://017700000001/",
    "https://[::ffff:127.0.0.1]/hook", "https://[::ffff:a9fe:a9fe]/", "https://localhost:8443/hook",
    "https://0.0.0.0/", "https://[fe80::1]/", "https://224.0.0.1/", "https://[fd00::1]/",
    "https://nonexistent.invalid/hook",  # does not resolve: same answer, tells nothing about internal names
]


@pytest_twisted.ensureDeferred
async def test_registration_refuses_internal_destinations(api):
    _, (c,) = await _copayer(api.client)
    for url in INTERNAL_URLS:
        r = await api.client.post("/v1/webhooks/", {"url": url}, c)
        assert (r.status, r.json) == (400, {"code": "BADREQUEST", "message": NOT_PUBLIC}), url
    assert (await api.client.get("/v1/webhooks/", c)).json == []
    r = await api.client.post("/v1/webhooks/", {"url": "https://8.8.8.8/hook"}, c)
    assert r.status == 200 and r.json["url"] == "https://8.8.8.8/hook"
    r = await api.client.post("/v1/webhooks/", {"url": "https://8.8.8.8:99999/hook"}, c)
    assert (r.status, r.json["message"]) == (400, "Invalid url: bad port")
    # the operator's allow-list admits its networks, and only those
    api.service.tunables = dataclasses.replace(api.service.tunables, webhook_allow_private_networks=("127.0.0.0/8",))
    for url in ("https://127.0.0.1:8443/hook", "https://0x7f000001/hook", "https://[::ffff:127.0.0.1]/h"):
        assert (await api.client.post("/v1/webhooks/", {"url": url}, c)).status == 200, url
    for url in ("https://10.0.0.1/hook", "https://169.254.169.254/", "https://[::1]/hook"):
        assert (await api.client.post("/v1/webhooks/", {"url": url}, c)).status == 400, url


async def _wait_settled(storage, hook_ids, attempts: int, timeout: float = 20.0):
    """The delivery rows of ``hook_ids`` once each has ``attempts`` attempts and no retry left."""
    rows = []
    for _ in range(int(timeout / 0.1)):
        rows = [r for h in hook_ids for r in await storage.webhooks.fetch_deliveries(h)]
        if len(rows) == len(hook_ids) and all(
            r["attempts"] >= attempts and r.get("leaseUntil") is None and r["status"] in ("sent", "fail")
            and (r["status"] == "sent" or r.get("nextAttemptOn") is None) for r in rows
        ):
            return rows
        await task.deferLater(reactor, 0.1, lambda: None)
    raise AssertionError(f"deliveries did not settle: {rows}")


def _service(storage, poster, attempts: int = 1) -> WebhookService:
    opts = WebhookOpts(enabled=True, retryBackoff=0.1, maxAttempts=attempts, pollInterval=0.1, allowHttp=True, timeout=2)
    return WebhookService(storage, opts, reactor, poster, reactor=reactor)


class _StandInDns:
    """A DNS stand-in for names the machine cannot resolve: ``answers[host]`` is a list
    of address lists, one per lookup (the last repeats); other names go to getaddrinfo."""

    def __init__(self, answers: dict[str, list[list[str]]]):
        self.answers = answers
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        if host not in self.answers:
            return await resolve_host(host, port)
        self.lookups.append(host)
        seq = self.answers[host]
        return seq.pop(0) if len(seq) > 1 else seq[0]


@pytest_twisted.ensureDeferred
async def test_delivery_connects_to_the_checked_address(storage, webhook_receiver):
    """The name exists only in the stand-in DNS: the POST reaching the receiver proves it went
    to the checked address, not to a second lookup of the HTTP client's own."""
    dns = _StandInDns({"hooks.example": [["127.0.0.1"]]})
    policy = DestinationPolicy(["127.0.0.0/8"], resolve=dns)
    w = await make_wallet(storage, m=1, n=1)
    url = f"http://hooks.example:{webhook_receiver.port}/hook"
    hook = await register_webhook(storage, w["id"], "w1-c1", {"url": url}, allow_http=True, policy=policy, now=int(reactor.seconds()))
    webhook_receiver.secret = hook["secret"]
    svc = _service(storage, TreqPoster(reactor, 2, policy))
    svc.start()
    try:
        await svc.handle(await notify(storage, "NewIncomingTx", w, {"txid": "aa", "amount": 5}))
        (row,) = await _wait_settled(storage, [hook["id"]], 1)
    finally:
        svc.stop()
    assert row["status"] == "sent" and row["responseStatus"] == 200
    (req,) = webhook_receiver.requests
    assert req["valid"] and req["headers"]["host"] == f"hooks.example:{webhook_receiver.port}"
    assert dns.lookups == ["hooks.example", "hooks.example"]  # registration, then the delivery


@pytest_twisted.ensureDeferred
async def test_dns_rebinding_after_registration_is_refused(storage, webhook_receiver):
    """Public at registration, 127.0.0.1 at delivery: nothing reaches the local receiver."""
    dns = _StandInDns({"rebind.example": [["8.8.8.8"], ["127.0.0.1"]]})
    policy = DestinationPolicy(resolve=dns)
    w = await make_wallet(storage, m=1, n=1)
    url = f"http://rebind.example:{webhook_receiver.port}/hook"
    hook = await register_webhook(storage, w["id"], "w1-c1", {"url": url}, allow_http=True, policy=policy, now=int(reactor.seconds()))
    svc = _service(storage, TreqPoster(reactor, 2, policy), attempts=2)
    svc.start()
    try:
        await svc.handle(await notify(storage, "NewIncomingTx", w, {"txid": "aa", "amount": 5}))
        (row,) = await _wait_settled(storage, [hook["id"]], 2)
    finally:
        svc.stop()
    assert webhook_receiver.requests == []
    assert row["status"] == "fail" and row["lastError"] == DELIVERY_FAILED and "responseStatus" not in row
    assert dns.lookups == ["rebind.example"] * 3


@pytest_twisted.ensureDeferred
async def test_https_delivery_to_an_allowed_name_verifies_its_certificate(storage, tmp_path):
    """Real getaddrinfo (localhost), TLS to the pinned address, certificate checked for the name."""
    from twisted.internet.ssl import Certificate
    from twisted.web.client import BrowserLikePolicyForHTTPS

    from tests.servers.fake_apns import make_self_signed
    from tests.servers.webhook_receiver import WebhookReceiver

    cert, key = make_self_signed(tmp_path)
    receiver = WebhookReceiver().start(tls=(cert, key))
    try:
        w = await make_wallet(storage, m=1, n=1)
        url = f"https://localhost:{receiver.port}/hook"
        with pytest.raises(Exception, match="public addresses only"):
            await register_webhook(storage, w["id"], "w1-c1", {"url": url}, now=int(reactor.seconds()))
        policy = DestinationPolicy(["127.0.0.0/8", "::1/128"])
        hook = await register_webhook(storage, w["id"], "w1-c1", {"url": url}, policy=policy, now=int(reactor.seconds()))
        receiver.secret = hook["secret"]
        tls = BrowserLikePolicyForHTTPS(trustRoot=Certificate.loadPEM(cert.read_bytes()))
        svc = _service(storage, TreqPoster(reactor, 2, policy, tls=tls))
        svc.start()
        try:
            await svc.handle(await notify(storage, "NewIncomingTx", w, {"txid": "aa", "amount": 5}))
            (row,) = await _wait_settled(storage, [hook["id"]], 1)
        finally:
            svc.stop()
        assert row["status"] == "sent", row
        (req,) = receiver.requests
        assert req["valid"] and req["headers"]["host"] == f"localhost:{receiver.port}"
    finally:
        await receiver.stop()


class _HangUp(protocol.Protocol):
    def connectionMade(self):
        self.transport.loseConnection()


@pytest_twisted.ensureDeferred
async def test_failures_look_the_same_in_the_deliveries_list(storage):
    """Closed port (refused), a server that hangs up (lost) and a destination the
    delivery policy refuses: the copayer sees the same row for each."""
    hang_up = reactor.listenTCP(0, protocol.Factory.forProtocol(_HangUp), interface="127.0.0.1")
    try:
        w = await make_wallet(storage, m=3, n=3)
        urls = [f"http://127.0.0.1:{free_port()}/hook", f"http://127.0.0.1:{hang_up.getHost().port}/hook",
                "http://10.255.255.1:8080/hook"]
        registration = DestinationPolicy(["127.0.0.0/8", "10.0.0.0/8"])
        hooks = [await register_webhook(storage, w["id"], c["id"], {"url": u}, allow_http=True, policy=registration, now=int(reactor.seconds()))
                 for c, u in zip(w["copayers"], urls)]
        svc = _service(storage, TreqPoster(reactor, 2, DestinationPolicy(["127.0.0.0/8"])))
        svc.start()
        try:
            await svc.handle(await notify(storage, "NewIncomingTx", w, {"txid": "aa", "amount": 5}))
            await _wait_settled(storage, [h["id"] for h in hooks], 1)
        finally:
            svc.stop()
    finally:
        await hang_up.stopListening()
    from bws.services.webhooks import list_webhook_deliveries

    seen = []
    for c, h in zip(w["copayers"], hooks):
        (row,) = await list_webhook_deliveries(storage, w["id"], c["id"], h["id"])
        seen.append({k: row.get(k) for k in ("status", "attempts", "lastError", "responseStatus", "nextAttemptOn")})
    assert seen == [{"status": "fail", "attempts": 1, "lastError": DELIVERY_FAILED, "responseStatus": None,
                     "nextAttemptOn": None}] * 3


# ---------------------------------------------------------------------------------------------
# Finding 5: wallet creation limits and field sizes


def test_upstream_limits_are_on_by_default_and_ignore_forwarded_for(caplog):
    lim = make_rate_limiter(config_from_dict({}), reactor)
    assert lim is not None and not lim.trust_proxy and isinstance(lim.counter, MemoryCounter)
    cw = lim.rules["createWallet"]
    assert (cw.window_ms, cw.max, cw.delay_after, cw.delay_ms, cw.message) == (3_600_000, 15, 8, 3000, WALLET_MSG)
    fl = lim.rules["feeLevels"]
    assert (fl.window_ms, fl.max, fl.delay_after, fl.delay_ms) == (600_000, 10, 5, 300)
    with caplog.at_level("WARNING", logger="bws.http.ratelimit"):
        assert lim.client_ip("192.0.2.9", {"x-forwarded-for": "203.0.113.7"}) == "192.0.2.9"
        assert lim.client_ip("192.0.2.9", {"x-forwarded-for": "203.0.113.8"}) == "192.0.2.9"
    # the operator behind a proxy learns why everybody shares one count (once, not per request)
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "bws.http.ratelimit"]
    assert "set rateLimits.trustProxy to true" in warning
    for mode in ({"lockOpts": {"mode": "redis"}}, {"messageBrokerOpts": {"mode": "redis"}}):
        assert isinstance(make_rate_limiter(config_from_dict(mode), reactor).counter, RedisCounter)


def test_spoofed_forwarded_for_and_two_processes_share_one_count(mongo_server, redis_server, tmp_path):
    """The default limits of two real API processes in Redis lock mode: the 16th wallet
    from one address is refused whichever process serves it and whatever
    X-Forwarded-For says. Only the slow-down step is shortened (3 s -> 10 ms)."""
    dbid = 11
    subprocess.run(["redis-cli", "-p", str(redis_server.port), "-n", str(dbid), "FLUSHDB"], check=True,
                   capture_output=True, timeout=10)
    db = "abuse_" + uuid.uuid4().hex[:10]
    env = {"BWS_LOCK_MODE": "redis", "BWS_BROKER_MODE": "redis", "BWS_REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/{dbid}",
           "BWS__rateLimits__createWallet__delayMs": "10"}
    p1 = start_bws(mongo_server.uri(db), tmp_path / "one", name="bws_a", default_limits=True, **env)
    p2 = start_bws(mongo_server.uri(db), tmp_path / "two", name="bws_b", default_limits=True, **env)
    try:
        statuses = []
        for i in range(16):
            body = {"name": "w", "m": 1, "n": 1, "pubKey": WalletKey.random().pub}
            r = requests.post((p1, p2)[i % 2].base + "/v2/wallets/", json=body, timeout=30,
                              headers={"x-client-version": "bwc-6.8.0", "X-Forwarded-For": f"198.51.100.{i + 1}"})
            statuses.append(r.status_code)
        assert statuses == [200] * 15 + [429], statuses
        assert r.text == WALLET_MSG
        with mongo_server.sync_client() as c:
            assert c[db].wallets.count_documents({}) == 15
    finally:
        p1.stop()
        p2.stop()
        with mongo_server.sync_client() as c:
            c.drop_database(db)


def _long(n: int) -> str:
    return "x" * n


@pytest_twisted.ensureDeferred
async def test_field_sizes_are_bounded(api, storage):
    client = api.client

    async def wallets() -> int:
        return db.count(storage, "wallets")

    key = WalletKey.random()
    huge = {"name": _long(99_000), "m": 1, "n": 1, "pubKey": key.pub}
    r = await client.post("/v2/wallets/", huge)
    assert (r.status, r.json) == (400, {"code": "BADREQUEST",
                                          "message": f"Invalid wallet name: longer than {C.MAX_NAME_LENGTH} characters"})
    assert await wallets() == 0
    r = await client.post("/v2/wallets/", dict(huge, name=_long(C.MAX_NAME_LENGTH)))  # the bound itself is fine
    assert r.status == 200
    wid = r.json["walletId"]
    c = CopayerKeys.random()
    r = await client.post(f"/v2/wallets/{wid}/copayers/", join_opts(wid, key, c, name=_long(C.MAX_NAME_LENGTH + 1)))
    assert (r.status, r.json["message"]) == (400, f"Invalid copayer name: longer than {C.MAX_NAME_LENGTH} characters")
    r = await client.post(f"/v2/wallets/{wid}/copayers/",
                          join_opts(wid, key, c, customData={"k": _long(C.MAX_CUSTOM_DATA_LENGTH)}))
    assert (r.status, r.json["message"]) == (400, f"Invalid customData: longer than {C.MAX_CUSTOM_DATA_LENGTH} characters")
    assert (await storage.wallets.fetch(wid))["copayers"] == []
    r = await client.post(f"/v2/wallets/{wid}/copayers/", join_opts(wid, key, c, name="me"))
    assert r.status == 200, r.text

    too_long = {
        ("POST", "/v2/txproposals/", "message"): {"outputs": [{"toAddress": "1L3z9LPd861FWQhf3vDn89Fnc9dkdBo2CG", "amount": 10_000}],
                                                 "message": _long(C.MAX_MESSAGE_LENGTH + 1)},
        ("POST", "/v2/txproposals/", "message "): {"outputs": [{"toAddress": "1L3z9LPd861FWQhf3vDn89Fnc9dkdBo2CG", "amount": 10_000,
                                                               "message": _long(C.MAX_MESSAGE_LENGTH + 1)}]},
        ("POST", "/v2/txproposals/", "customData"): {"outputs": [], "customData": [_long(C.MAX_CUSTOM_DATA_LENGTH)]},
        ("POST", "/v2/txproposals/", "payProUrl"): {"outputs": [], "payProUrl": "https://a/" + _long(C.MAX_URL_LENGTH)},
        ("POST", "/v1/txproposals/nope/rejections/", "reason"): {"reason": _long(C.MAX_MESSAGE_LENGTH + 1)},
        ("PUT", "/v1/txnotes/" + "a" * 64 + "/", "body"): {"body": _long(C.MAX_MESSAGE_LENGTH + 1)},
        ("PUT", "/v1/txnotes/" + "a" * (C.MAX_TXID_LENGTH + 1) + "/", "txid"): {"body": "hi"},
        ("POST", "/v1/pushnotifications/subscriptions/", "token"): {"token": _long(C.MAX_TOKEN_LENGTH + 1)},
        ("POST", "/v1/pushnotifications/subscriptions/", "packageName"): {"token": "t", "packageName": _long(2000)},
        ("POST", "/v1/txconfirmations/", "txid"): {"txid": _long(C.MAX_TXID_LENGTH + 1)},
    }
    for (method, path, field), body in too_long.items():
        r = await client.request(method, path, body, c)
        assert r.status == 400 and r.json["message"].startswith(f"Invalid {field.strip()}: longer than "), (path, r.text)
    assert db.count(storage, "tx_notes") == 0
    assert db.count(storage, "push_notification_subs") == 0
    # within the bounds the same routes still work
    r = await client.request("PUT", "/v1/txnotes/" + "a" * 64 + "/", {"body": _long(C.MAX_MESSAGE_LENGTH)}, c)
    assert r.status == 200, r.text
