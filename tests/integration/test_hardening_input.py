"""Issue 15 finding 12: odd input answers 4xx with a reference error code, never
a 500 or a traceback, and a refused request changes nothing.

Everything runs against a real ``python -m bws`` (SecantusDB, and litecoind
regtest as the btc/testnet node, so create/sign/history reach the chain code
instead of stopping at "no explorer"), through real HTTP, signed by a copayer of
a real, funded 1-of-1 wallet where the route needs a signature (support staff
for the staff route).

* the odd-value fuzz: EVERY operation of the served OpenAPI description gets
  each value of :data:`ODD_VALUES` in each of its body fields (output and input
  fields included), query parameters and path parameters, every other field
  valid, so the odd value is what the service sees;
* body extremes on every route: nesting at and one past ``MAX_JSON_DEPTH``, a
  real field filled until the body is exactly ``BODY_LIMIT`` bytes and one byte
  more, object keys no database can store and keys it can;
* the findings' own cases, one test each (non-string ``outputs[].script``, a NUL
  byte in a JSON key, ``minTs=1e400``, a fee above the maximum, made-up inputs)
  and the transport's (non-UTF-8 path, long URL and header, odd Host).

Each answer is checked by :meth:`Stack.check`: below 500 (except the reference
500 of spec §7.3 that odd input cannot cause: the unconfigured eth node), no
traceback in the body or in the server's log since the previous request, a
reference ``{"code"}`` on every 4xx, and a refusal changes no stored document
(wallets, lookups, addresses, proposals, notifications, preferences, notes,
subscriptions, webhooks, sessions...; caches excluded): whenever the database
server's write counters moved across a refused request, every document is
compared with the snapshot taken after the last write.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import quote

import pytest
import requests

from bws.http.app import BODY_LIMIT
from bws.http.jsonbody import MAX_JSON_DEPTH
from bws.chains.txbuild import unsigned_raw
from bws.errors import ERROR_MESSAGES
from bws.model import TxProposal
from tests.bws_process import start_bws
from tests.helpers.keys import CopayerKeys, WalletKey

pytestmark = pytest.mark.timeout(600)

REFERENCE_CODES = set(ERROR_MESSAGES) | {"BADREQUEST", "NOT_FOUND"}
#: spec §7.3 500s that are not caused by the request's values: no eth/tri node is configured here
ALLOWED_500 = {"获取ETH地址信息失败，请稍后再试"}
#: collections that are caches (rebuilt on demand) or the API process's own heartbeat in the
#: process registry (bws/process_registry.py, refreshed every 10 s whatever the requests do),
#: not state a refused request could corrupt
CACHE_COLLECTIONS = {"cache", "eth_balance_cache", "try_balance_cache", "processes"}
#: log lines that mean an exception escaped to the error envelope or to Twisted
LOG_ALARMS = ("Traceback (most recent call last)", "unexpected error", "Unhandled error", "Unhandled Error")


def _nested(depth: int) -> Any:
    """An object ``depth`` levels deep, alternating objects and arrays."""
    value: Any = 1
    for i in range(depth):
        value = {"a": value} if i % 2 else [value]
    return value


#: (label, value): the odd-value set of the issue -- null, bools, +-1e308, 2^64,
#: NaN-like strings, NUL, lone surrogates, 60 KB strings, nested objects -- plus
#: a negative number, the empty string and an object with keys no database takes
ODD_VALUES: list[tuple[str, Any]] = [
    ("null", None),
    ("true", True),
    ("false", False),
    ("1e308", 1e308),
    ("-1e308", -1e308),
    ("2^64", 2**64),
    ("-1", -1),
    ("'NaN'", "NaN"),
    ("'-Infinity'", "-Infinity"),
    ("'1e400'", "1e400"),
    ("NUL", "ab\u0000cd"),
    ("lone surrogate", "\ud800"),
    ("60 KB string", "x" * 60_000),
    ("empty string", ""),
    ("nested object", _nested(12)),
    ("odd keys", {"\u0000": 1, "$gt": "", "a.b": 1, "__proto__": {"x": 1}}),
]


def query_form(value: Any) -> str:
    """An odd value as URL-encoded query/path text: strings as UTF-8 (a lone
    surrogate as the bytes a lax encoder sends), null/bools as words, numbers
    as JS prints them, lists and objects as their JSON text."""
    if isinstance(value, str):
        return quote(value.encode("utf-8", "surrogatepass"), safe="")
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value).replace("e+", "e")
    return quote(json.dumps(value), safe="")


# ----------------------------------------------------------------------------- the stack


@dataclass
class Answer:
    status: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


@dataclass
class Stack:
    """The API process, its database and log, and the wallet the requests act on."""

    base: str
    db: Any
    log_path: Path
    http: requests.Session = field(default_factory=requests.Session)
    wallet_id: str = ""
    copayer: Optional[CopayerKeys] = None
    staff: Optional[CopayerKeys] = None
    address: str = ""
    ids: dict[str, Any] = field(default_factory=dict)
    join_key: Optional[WalletKey] = None
    scans: int = 0
    newcomer: Optional[CopayerKeys] = None
    _log_offset: int = 0
    _snapshot: Optional[dict] = None
    _writes: tuple = ()
    node: Any = None
    failures: list[str] = field(default_factory=list)
    sent: int = 0

    # -- requests
    def request(self, method: str, path: str, body: Any = None, signer: Optional[CopayerKeys] = None,
                raw: Optional[bytes] = None, headers: Optional[dict] = None) -> Answer:
        """One request; ``path`` relative to the base path, query included.  A
        JSON ``body`` is serialised with ASCII escapes (so lone surrogates and
        NUL travel as ``\\uXXXX``), ``raw`` is sent as is; the signature covers
        exactly the bytes sent, as bwc's does."""
        h = {"x-client-version": "bwc-6.8.0", **(headers or {})}
        if raw is None and body is not None:
            raw = json.dumps(body, separators=(",", ":")).encode("ascii")
        if raw is not None:
            h["Content-Type"] = "application/json"
        if signer is not None:
            h["x-identity"] = signer.copayer_id("btc")
            h["x-signature"] = signer.sign(f"{method.lower()}|{path}|{raw.decode('utf-8') if raw else '{}'}")
            if signer is self.staff:
                h["x-wallet-id"] = self.wallet_id
        self.sent += 1
        if self._writes != self.writes():  # something wrote since the last check (a background job)
            self.resync()
        try:
            r = self.http.request(method, self.base + path, data=raw, headers=h, timeout=60)
        except requests.ConnectionError as e:  # the server dropped the connection without answering
            self.http = requests.Session()
            return Answer(0, f"no answer: {e}")
        return Answer(r.status_code, r.text)

    def ok(self, method: str, path: str, body: Any = None, signer: Optional[CopayerKeys] = None) -> Any:
        """A setup request that must succeed."""
        a = self.request(method, path, body, signer)
        assert a.status == 200, (method, path, a.status, a.text[:500])
        self.resync()
        return a.json()

    # -- checks
    def new_log(self) -> str:
        with open(self.log_path, "rb") as f:
            f.seek(self._log_offset)
            data = f.read()
        self._log_offset += len(data)
        return data.decode("utf-8", "replace")

    def writes(self) -> tuple[int, int, int]:
        """The database server's insert/update/delete counters (serverStatus)."""
        c = self.db.client.admin.command("serverStatus")["opcounters"]
        return c["insert"], c["update"], c["delete"]

    def snapshot(self) -> dict:
        """Every stored document, by collection (caches excluded)."""
        out = {}
        for name in sorted(self.db.list_collection_names()):
            if name not in CACHE_COLLECTIONS:
                out[name] = list(self.db[name].find({}, sort=[("_id", 1)]))
        return out

    def resync(self) -> None:
        """Take the current state and log position as the reference for the next check."""
        self.new_log()
        self._writes = self.writes()
        self._snapshot = self.snapshot()

    def check(self, where: str, a: Answer) -> None:
        """Record every way ``a`` breaks the rules of this module (see module doc).

        State: the snapshot is retaken only after a request that wrote (the
        server's write counters moved), so a refused request that wrote is
        compared document by document with the state just before it."""
        problems = []
        log = self.new_log()
        if a.status == 0 or a.status >= 500:
            body = _maybe_json(a.text)
            if not (a.status == 500 and isinstance(body, dict) and body.get("error") in ALLOWED_500):
                problems.append(f"answered {a.status}")
        if "Traceback" in a.text:
            problems.append("traceback in the answer")
        alarms = [m for m in LOG_ALARMS if m in log]
        if alarms:
            problems.append(f"log: {alarms}: {log[log.find(alarms[0]) - 200:][:1500]}")
        if 400 <= a.status < 500 and a.status != 429:
            body = _maybe_json(a.text)
            if not (isinstance(body, dict) and body.get("code") in REFERENCE_CODES):
                problems.append("4xx without a reference code")
        writes = self.writes()
        if writes != self._writes:
            after = self.snapshot()
            if (400 <= a.status < 500 or a.status == 0) and after != self._snapshot:
                problems.append("refused but state changed: " + _diff(self._snapshot, after))
            self._writes, self._snapshot = writes, after
        if problems:
            self.failures.append(f"{where} -> {a.status} {a.text[:200]!r}: " + "; ".join(problems))


def _maybe_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _diff(before: dict, after: dict) -> str:
    out = []
    for name in sorted(set(before) | set(after)):
        b, a = before.get(name, []), after.get(name, [])
        if a != b:
            ids_b = {d["_id"] for d in b}
            added = [d for d in a if d["_id"] not in ids_b]
            changed = [d for d in a if d["_id"] in ids_b and d not in b]
            out.append(f"{name}: +{len(added)} ~{len(changed)} -{len(b) - len(a) + len(added)} "
                       f"{str((added or changed)[:1])[:300]}")
    return ", ".join(out)


def _wait_balance(stack: Stack, at_least: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        a = stack.request("GET", "/v1/balance/", signer=stack.copayer)
        if a.status == 200 and a.json()["totalAmount"] >= at_least:
            return
        time.sleep(0.2)
    raise AssertionError(f"wallet funds never showed up: {a.status} {a.text[:300]}")


def new_wallet(stack: Stack, m: int, n: int, join: int) -> tuple[str, WalletKey, list[CopayerKeys]]:
    """An m-of-n btc testnet wallet with ``join`` copayers joined over HTTP."""
    key = WalletKey.random()
    wid = stack.ok("POST", "/v2/wallets/", {"name": "odd", "m": m, "n": n, "pubKey": key.pub, "coin": "btc",
                                            "network": "testnet"})["walletId"]
    copayers = [CopayerKeys.random("testnet", "BIP44") for _ in range(join)]
    for i, c in enumerate(copayers):
        stack.ok("POST", f"/v2/wallets/{wid}/copayers/", join_body(wid, key, c, f"copayer {i + 1}"))
    return wid, key, copayers


def join_body(wallet_id: str, key: WalletKey, c: CopayerKeys, name: str = "newcomer") -> dict:
    return {"walletId": wallet_id, "name": name, "xPubKey": c.xpub, "requestPubKey": c.request_pub,
            "copayerSignature": key.copayer_signature(name, c.xpub, c.request_pub), "coin": "btc"}


def new_pending_txp(stack: Stack) -> str:
    """Create and publish a proposal spending 0.001 to the wallet's own address."""
    txp = stack.ok("POST", "/v2/txproposals/", {"outputs": [{"toAddress": stack.address, "amount": 100_000}],
                                                 "feePerKb": 10_000}, stack.copayer)
    stack.ok("POST", f"/v1/txproposals/{txp['id']}/publish/",
             {"proposalSignature": stack.copayer.sign(unsigned_raw(TxProposal.from_dict(txp)))}, stack.copayer)
    return txp["id"]


@pytest.fixture(scope="module")
def stack(mongo_server, litecoind, tmp_path_factory):
    db_name = "odd_" + uuid.uuid4().hex[:10]
    explorer = {"btc": {"testnet": {"provider": "bitcoind",
                                    "url": f"{litecoind.rpc_url}/wallet/bws-odd-{uuid.uuid4().hex[:6]}"}}}
    proc = start_bws(mongo_server.uri(db_name), tmp_path_factory.mktemp("bws_odd"),
                     BWS__blockchainExplorerOpts=json.dumps(explorer))
    client = mongo_server.sync_client()
    s = Stack(proc.base, client[db_name], proc.proc.log_path, node=litecoind)
    try:
        s.wallet_id, _key, (s.copayer,) = new_wallet(s, 1, 1, 1)
        s.address = s.ok("POST", "/v3/addresses/", {}, s.copayer)["address"]
        for _ in range(3):  # three coins: one locked by the pending proposal, two to select from
            litecoind.fund(s.address, "0.01")
        _wait_balance(s, 3_000_000)
        s.ids["pending"] = new_pending_txp(s)
        temp = s.ok("POST", "/v2/txproposals/", {"outputs": [{"toAddress": s.address, "amount": 50_000}]}, s.copayer)
        s.ids["temporary"] = temp["id"]
        s.ids["txid"] = "ab" * 32
        s.ok("PUT", f"/v1/txnotes/{s.ids['txid']}/", {"body": "a note"}, s.copayer)
        s.ok("POST", "/v1/pushnotifications/subscriptions/", {"token": "tok", "platform": "ios"}, s.copayer)
        # a support-staff copayer of another wallet (flag set before its first request: lookups are cached)
        _wid, _k, (s.staff,) = new_wallet(s, 1, 1, 1)
        s.db.copayers_lookup.update_one({"copayerId": s.staff.copayer_id("btc")}, {"$set": {"isSupportStaff": True}})
        new_join_wallet(s)
        s.resync()
        yield s
    finally:
        proc.stop()
        client.drop_database(db_name)
        client.close()


# ----------------------------------------------------------------------------- the routes


@dataclass
class Op:
    """How to call one operation with valid values; the fuzz then replaces one
    field at a time.  ``path``/``query``/``body`` are functions (fresh values per
    request: keys, signatures); ``body_for`` picks another valid body for some
    fields (e.g. explicit inputs); ``drop`` lists the fields that exclude each
    other (a fee level next to an odd feePerKb would only test the "only one of"
    rule); ``after_ok`` restores what an accepted request used up."""

    signer: Optional[str] = "copayer"
    path: Callable[[], dict] = dict
    query: Callable[[], dict] = dict
    body: Optional[Callable[[], dict]] = None
    body_for: Callable[[str], Optional[dict]] = lambda name: None
    drop: dict[str, tuple] = field(default_factory=dict)
    after_ok: Optional[Callable[[], None]] = None


def operations(s: Stack) -> dict[str, Op]:
    """One valid call per operation of the served OpenAPI description."""
    from bws.crypto import sign_message

    def create_wallet():
        return {"name": "w", "m": 1, "n": 1, "pubKey": WalletKey.random().pub, "coin": "btc", "network": "testnet"}

    def add_access():
        new = CopayerKeys.random("testnet")
        return {"requestPubKey": new.request_pub, "signature": sign_message(new.request_pub, s.copayer.auth_priv()),
                "name": "second device", "restrictions": {}}

    def join_v(version):
        def body():
            return join_body(s.ids["join_wallet"], s.join_key, s.newcomer)

        return Op(None, lambda: {"id": s.ids["join_wallet"]}, body=body, after_ok=lambda: new_join_wallet(s))

    def tx_body():
        # change to a known address: an accepted proposal then adds no address (the wallet's
        # UTXO look-up, hence every later request, would grow with each)
        return {"outputs": [{"toAddress": s.address, "amount": 20_000, "message": "m"}], "feePerKb": 10_000,
                "message": "msg", "customData": {"k": "v"}, "excludeUnconfirmedUtxos": False,
                "changeAddress": s.address}

    def tx_body_for(name):
        if name.startswith("inputs") or name == "fee":  # explicit inputs (a free coin per field), the caller's fee
            if s.ids.get("coin_for") != name:
                utxos = s.request("GET", "/v1/utxos/", signer=s.copayer).json()
                s.ids["coin"], s.ids["coin_for"] = next(u for u in utxos if not u["locked"]), name
            return {"outputs": [{"toAddress": s.address, "amount": 20_000}], "inputs": [dict(s.ids["coin"])],
                    "fee": 5_000}
        return None

    fee_choice = {"feeLevel": ("feePerKb",), "fee": ("feePerKb",)}

    def refresh_pending():
        # a stored proposal between two rejections: more than 10 rejections in a row
        # would put the creator in the backoff (TX_CANNOT_CREATE, spec §6.22)
        s.ok("POST", "/v2/txproposals/", {"outputs": [{"toAddress": s.address, "amount": 30_000}]}, s.copayer)
        s.ids["pending"] = new_pending_txp(s)

    def wait_scan():
        # the scan starts after a delay and writes the wallet until its ScanFinished notification
        deadline = time.monotonic() + 60
        while s.db.notifications.count_documents({"type": "ScanFinished"}) <= s.scans:
            assert time.monotonic() < deadline, "scan never finished"
            time.sleep(0.2)
        s.scans += 1
        s.resync()

    pending = lambda: {"id": s.ids["pending"]}  # noqa: E731
    eth_address = lambda: {"address": "0x" + "11" * 20}  # noqa: E731
    txid = lambda: {"txid": s.ids["txid"]}  # noqa: E731
    return {
        "POST /v1/wallets/": Op(None, body=create_wallet),
        "POST /v2/wallets/": Op(None, body=create_wallet),
        "GET /v1/wallets/": Op(),
        "GET /v2/wallets/": Op(query=lambda: {"includeExtendedInfo": "1", "twoStep": "1"}),
        "GET /v3/wallets/": Op(query=lambda: {"includeExtendedInfo": "1", "twoStep": "1", "serverMessageArray": "1",
                                              "numberFormat": "number"}),
        # x-identity only (no x-identities): every call is refused 401, as upstream; the bulk
        # route's own cases are in tests/integration/test_api_wallets_v3.py
        "GET /v1/wallets/all/": Op(query=lambda: {"includeExtendedInfo": "1", "silentFailure": "1"}),
        "POST /v1/wallets/exist": Op(None, body=lambda: {"copayers": [{
            "copayerId": s.copayer.copayer_id("btc"),
            "signature": sign_message(s.copayer.copayer_id("btc"), s.copayer.request_priv)}]}),
        "PUT /v1/copayers/{id}/": Op(None, lambda: {"id": s.copayer.copayer_id("btc")}, body=add_access),
        "POST /v1/wallets/{id}/copayers/": join_v(1),
        "POST /v2/wallets/{id}/copayers/": join_v(2),
        "GET /v1/wallets/{identifier}/": Op("staff", lambda: {"identifier": s.wallet_id},
                                            lambda: {"includeExtendedInfo": "1"}),
        "GET /v1/preferences/": Op(),
        "PUT /v1/preferences/": Op(body=lambda: {"email": "me@example.com", "language": "en", "unit": "btc"}),
        "GET /v1/txproposals/": Op(),
        "POST /v1/txproposals/": Op(None, body=tx_body),
        "GET /v1/txproposals/{id}/": Op(path=pending),
        "DELETE /v1/txproposals/{id}/": Op(path=pending, after_ok=refresh_pending),
        "POST /v1/addresses/": Op(body=lambda: {"ignoreMaxGap": True}),
        "POST /v2/addresses/": Op(body=lambda: {"ignoreMaxGap": True}),
        "POST /v3/addresses/": Op(body=lambda: {"ignoreMaxGap": True}),
        "GET /v1/addresses/": Op(query=lambda: {"limit": "5", "reverse": "1"}),
        "GET /v1/balance/": Op(query=lambda: {"coin": "btc"}),
        "GET /v1/utxos/": Op(query=lambda: {"addresses": s.address}),
        "POST /v1/login/": Op(),
        "POST /v1/logout/": Op(),
        "GET /v1/notifications/": Op(query=lambda: {"timeSpan": "60"}),
        "GET /v1/txnotes/{txid}/": Op(path=txid),
        "PUT /v1/txnotes/{txid}/": Op(path=txid, body=lambda: {"body": "a note"}),
        "GET /v1/txnotes/": Op(query=lambda: {"minTs": "0"}),
        "POST /v1/pushnotifications/subscriptions/": Op(body=lambda: {"token": "tok", "packageName": "com.example",
                                                                      "platform": "ios"}),
        "DELETE /v1/pushnotifications/subscriptions/": Op(),
        "DELETE /v2/pushnotifications/subscriptions/{token}/": Op(path=lambda: {"token": "tok"}),
        "POST /v2/pushnotifications/subscriptions/": Op(body=lambda: {
            "externalUserId": "ext", "type": "ios", "packageName": "com.example", "platform": "ios",
            "walletId": s.wallet_id, "token": "tok2"}),
        "DELETE /v3/pushnotifications/subscriptions/{externalUserId}/": Op(path=lambda: {"externalUserId": "ext"}),
        "POST /v1/txconfirmations/": Op(body=lambda: {"txid": s.ids["txid"]}),
        "DELETE /v1/txconfirmations/{txid}/": Op(path=txid),
        "POST /v1/webhooks/": Op(body=lambda: {"url": "https://1.1.1.1/hook", "secret": "s" * 20}),
        "GET /v1/webhooks/": Op(),
        "DELETE /v1/webhooks/{id}/": Op(path=lambda: {"id": str(uuid.uuid4())}),
        "GET /v1/webhooks/{id}/deliveries/": Op(path=lambda: {"id": str(uuid.uuid4())}),
        "GET /v1/version/": Op(None),
        "GET /v1/stats/": Op(None, query=lambda: {"network": "testnet", "coin": "btc", "from": "2020-01-01",
                                                  "to": "2020-02-01"}),
        "GET /v2/feelevels/": Op(None, query=lambda: {"coin": "btc", "network": "testnet"}),
        "GET /v1/feelevels/": Op(None, query=lambda: {"network": "testnet"}),
        "GET /v1/sendmaxinfo/": Op(query=lambda: {"feePerKb": "10000", "returnInputs": "1"},
                                   drop={"feeLevel": ("feePerKb",)}),
        "POST /v2/txproposals/": Op(body=tx_body, body_for=tx_body_for, drop=fee_choice),
        "POST /v1/txproposals/{id}/publish/": Op(path=lambda: {"id": s.ids["temporary"]},
                                                 body=lambda: {"proposalSignature": "00"}),
        "POST /v1/txproposals/{id}/signatures/": Op(path=pending, body=lambda: {"signatures": ["00"]}),
        "POST /v1/txproposals/{id}/rejections/": Op(path=pending, body=lambda: {"reason": "no"},
                                                    after_ok=refresh_pending),
        "POST /v1/txproposals/{id}/broadcast/": Op(path=pending),
        "POST /v1/broadcast_raw/": Op(body=lambda: {"network": "testnet", "rawTx": "00", "coin": "btc"}),
        "GET /v1/txhistory/": Op(query=lambda: {"skip": "0", "limit": "10"}),
        "POST /v1/addresses/scan/": Op(body=lambda: {"includeCopayerBranches": False}, after_ok=wait_scan),
        "GET /v1/fiatrates/{code}/": Op(None, lambda: {"code": "USD"},
                                        lambda: {"coin": "btc", "provider": "BitPay", "ts": "1500000000000"}),
        "GET /v2/fiatrates/{code}/": Op(None, lambda: {"code": "USD"},
                                        lambda: {"coin": "btc", "provider": "BitPay", "ts": "1500000000000"}),
        "GET /v3/fiatrates/": Op(None, query=lambda: {"code": "USD", "provider": "BitPay", "ts": "1500000000000"}),
        "GET /v3/fiatrates/{coin}/": Op(None, lambda: {"coin": "btc"},
                                        lambda: {"code": "USD", "provider": "BitPay", "ts": "1500000000000"}),
        "GET /v1/rates/eth/": Op(None),
        "GET /v1/rates/try/": Op(None),
        "GET /openapi.json": Op(None),
        "GET /v1/health/": Op(None),
        "GET /v1/eth/address_nonce/{address}/": Op(path=eth_address),
        "GET /v1/try/address_nonce/{address}/": Op(path=eth_address),
        "GET /v1/tri/address_nonce/{address}/": Op(path=eth_address),
        "GET /v1/get_transaction_pending_status/": Op(None, query=lambda: {"coin": "btc", "network": "testnet",
                                                                          "txid": s.ids["txid"]}),
        # bitcore-wallet-client 10.x / 11.x (issue 17: addresses and proposals)
        "GET /v3/wallets/": Op(query=lambda: {"includeExtendedInfo": "1", "twoStep": "1"}),
        "POST /v4/addresses/": Op(body=lambda: {"ignoreMaxGap": True, "isChange": False}),
        "GET /v2/addresses/": Op(query=lambda: {"limit": "5", "skip": "1", "reverse": "1", "noChange": "1",
                                                "addresses": s.address}),
        "POST /v1/clearcache/": Op(),
        "POST /v3/txproposals/": Op(body=lambda: {**tx_body(), "payProUrl": None, "isTokenSwap": None,
                                                  "replaceTxByFee": None, "chain": "btc", "txpVersion": 3},
                                    body_for=tx_body_for, drop=fee_choice),
        "GET /v2/txproposals/": Op(query=lambda: {"numberFormat": "number"}),
        "POST /v2/txproposals/{id}/publish/": Op(path=lambda: {"id": s.ids["temporary"]},
                                                 body=lambda: {"proposalSignature": "00"}),
        "POST /v2/txproposals/{id}/signatures/": Op(path=pending, body=lambda: {"signatures": ["00"]}),
        "GET /v1/txproposalsbyhash/{txid}/": Op(path=txid),
        "GET /v1/txcoins/": Op(query=lambda: {"coin": "btc", "network": "testnet", "txId": s.ids["txid"]}),
    }


def new_join_wallet(s: Stack) -> None:
    """A 1-of-2 wallet with one seat left, and the keys of who may take it."""
    s.ids["join_wallet"], s.join_key, _ = new_wallet(s, 1, 2, 1)
    s.newcomer = CopayerKeys.random("testnet", "BIP44")


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def fields_of(op: dict, components: dict) -> list[tuple[str, str]]:
    """(where, name) of every field an operation declares: ``("path", "id")``,
    ``("query", "limit")``, ``("body", "outputs.0.amount")`` (one level into
    arrays of objects)."""
    out = [(p["in"], p["name"]) for p in op.get("parameters", []) if p["in"] in ("path", "query")]
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body:
        for name, prop in _resolve(body, components).get("properties", {}).items():
            out.append(("body", name))
            prop = _resolve(prop, components)
            if prop.get("type") == "array" and "$ref" in prop.get("items", {}):
                for sub in _resolve(prop["items"], components).get("properties", {}):
                    out.append(("body", f"{name}.0.{sub}"))
    if not out:  # nothing declared: an undeclared query parameter must be ignored, whatever it holds
        out.append(("query", "x"))
    return out


def _set(body: dict, dotted: str, value: Any) -> None:
    """``_set(b, "outputs.0.amount", v)``: b["outputs"][0]["amount"] = v, creating the containers."""
    keys = [int(k) if k.isdigit() else k for k in dotted.split(".")]
    cur: Any = body
    for k, nxt in zip(keys, keys[1:]):
        empty = [] if isinstance(nxt, int) else {}
        if isinstance(k, int):
            while len(cur) <= k:
                cur.append(empty)
        elif not isinstance(cur.get(k), type(empty)):
            cur[k] = empty
        cur = cur[k]
    cur[keys[-1]] = value


def build(s: Stack, key: str, spec: Op, where: str = "", name: str = "", value: Any = None,
          raw_value: Optional[str] = None) -> tuple[str, str, Any, Optional[CopayerKeys]]:
    """(method, path with query, body, signer) of ``key`` with field ``name``
    (in ``where``) set to ``value`` (``raw_value``: already URL-encoded text)."""
    method, template = key.split(" ", 1)
    path_params = spec.path()
    query = spec.query()
    body = None
    if spec.body is not None:
        body = (spec.body_for(name) if where == "body" else None) or spec.body()
    for other in spec.drop.get(name, ()):
        query.pop(other, None)
        if body is not None:
            body.pop(other, None)
    text_params = {k: quote(str(v), safe="") for k, v in path_params.items()}
    text_query = {k: quote(str(v), safe="") for k, v in query.items()}
    if where == "path":
        text_params[name] = raw_value
    elif where == "query":
        text_query[name] = raw_value
    elif where == "body":
        body = body if body is not None else {}
        _set(body, name, value)
    path = template
    for k, v in text_params.items():
        path = path.replace("{" + k + "}", v)
    if text_query:
        path += "?" + "&".join(f"{k}={v}" for k, v in text_query.items())
    signer = {"copayer": s.copayer, "staff": s.staff, None: None}[spec.signer]
    return method, path, body, signer


def _report(stack: Stack) -> str:
    return f"{len(stack.failures)} of {stack.sent} requests broke a rule:\n" + "\n".join(stack.failures[:60])


def _described(stack: Stack) -> tuple[dict, dict]:
    doc = stack.ok("GET", "/openapi.json")
    ops = {f"{m.upper()} {p}": op for p, methods in doc["paths"].items() for m, op in methods.items()}
    return ops, doc["components"]["schemas"]


def _fuzz_order(key: str) -> tuple:
    # a started scan keeps the wallet busy: last
    return ("/addresses/scan/" in key, key)


def test_odd_values_in_every_field_of_every_route(stack):
    described, components = _described(stack)
    specs = operations(stack)
    assert set(described) == set(specs), sorted(set(described) ^ set(specs))
    started = time.monotonic()
    covered = set()
    for key in sorted(described, key=_fuzz_order):
        spec = specs[key]
        for where, name in fields_of(described[key], components):
            for label, value in ODD_VALUES:
                method, path, body, signer = build(stack, key, spec, where, name, value, query_form(value))
                a = stack.request(method, path, body, signer)
                stack.check(f"{key} {where}:{name}={label}", a)
                if a.status == 200 and spec.after_ok:
                    spec.after_ok()
            covered.add(key)
    took = time.monotonic() - started
    print(f"odd-value fuzz: {stack.sent} requests, {len(covered)} operations, {took:.0f} s")
    assert covered == set(described)
    assert not stack.failures, _report(stack)


def _nested_objects(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def _first_string_field(body: dict) -> str:
    return next((k for k, v in body.items() if isinstance(v, str)), "x")


def test_body_extremes_on_every_route(stack):
    """Every route (the body parser runs before routing, whatever the method):
    a field nested so the body is exactly MAX_JSON_DEPTH deep (parsed) and one
    level deeper (400); a real string field filled until the body is exactly
    BODY_LIMIT bytes (parsed) and one byte more (413); keys no database can
    store (400) and keys it can."""
    described, _ = _described(stack)
    specs = operations(stack)
    for key in sorted(described, key=_fuzz_order):
        spec = specs[key]
        method, path, base, signer = build(stack, key, spec)
        base = base or {}
        expected: list[tuple[str, dict, Optional[int]]] = []
        for depth in (MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1):  # the body object itself is level 1
            expected.append((f"depth {depth}", {**base, "customData": _nested_objects(depth - 1)},
                             400 if depth > MAX_JSON_DEPTH else None))
        name = _first_string_field(base)
        for size in (BODY_LIMIT, BODY_LIMIT + 1):
            filler = {**base, name: ""}
            pad = size - len(json.dumps(filler, separators=(",", ":")))
            expected.append((f"{size} bytes", {**base, name: "x" * pad}, 413 if size > BODY_LIMIT else None))
        for odd_key, refused in (("\u0000", 400), ("a\u0000", 400), ("\ud800", 400), ("$where", None),
                                 ("a.b", None), ("__proto__", None)):
            expected.append((f"key {odd_key!r}", {**base, odd_key: {odd_key: 1}}, refused))
        for label, body, status in expected:
            raw = json.dumps(body, separators=(",", ":")).encode("ascii")
            a = stack.request(method, path, raw=raw, signer=signer)
            stack.check(f"{key} {label}", a)
            body = _maybe_json(a.text)
            code = body.get("code") if isinstance(body, dict) else None
            if status is not None and not (a.status == status and code == "BADREQUEST"):
                stack.failures.append(f"{key} {label} -> {a.status} {a.text[:200]!r}: expected {status} BADREQUEST")
            if a.status == 200 and spec.after_ok:
                spec.after_ok()
    assert not stack.failures, _report(stack)


# ----------------------------------------------------------------------------- the findings' own cases


def _refused(stack: Stack, where: str, a: Answer, code: str, message: Optional[str] = None) -> None:
    """``a`` is a clean refusal (see Stack.check) with reference ``code`` (and ``message``)."""
    stack.check(where, a)
    body = _maybe_json(a.text)
    assert a.status == 400 and isinstance(body, dict) and body.get("code") == code, (where, a.status, a.text[:300])
    if message is not None:
        assert body.get("message") == message, (where, body)
    assert not stack.failures, _report(stack)


def _accepted(stack: Stack, where: str, a: Answer) -> Any:
    stack.check(where, a)
    assert a.status == 200, (where, a.status, a.text[:300])
    assert not stack.failures, _report(stack)
    return a.json()


@pytest.fixture
def clean(stack):
    """The module's stack with a fresh failure list and state reference."""
    stack.failures.clear()
    stack.resync()
    return stack


def test_non_string_output_script_is_invalid_script(clean):
    s = clean
    for script in (5, True, {"a": 1}, [1], 0.5, 1e308, "zz", "abc"):
        for validate in (True, False):
            body = {"outputs": [{"toAddress": s.address, "amount": 20_000, "script": script}],
                    "feePerKb": 10_000, "validateOutputs": validate}
            a = s.request("POST", "/v2/txproposals/", body, s.copayer)
            _refused(s, f"script={script!r} validateOutputs={validate}", a, "BADREQUEST", "Invalid script")
    # falsy scripts are ignored, as by bitcore's `if (o.script)`; hex text is a script
    for script in ("", 0, None, "6a0474657374"):
        body = {"outputs": [{"toAddress": s.address, "amount": 20_000, "script": script}], "feePerKb": 10_000,
                "dryRun": True}
        _accepted(s, f"script={script!r}", s.request("POST", "/v2/txproposals/", body, s.copayer))


def test_nul_in_a_json_key_and_lone_surrogates_are_refused(clean):
    s = clean
    join = join_body(s.ids["join_wallet"], s.join_key, s.newcomer)
    tx = {"outputs": [{"toAddress": s.address, "amount": 20_000, "message": "m"}], "feePerKb": 10_000}
    cases = [
        ("POST", f"/v2/wallets/{s.ids['join_wallet']}/copayers/", {**join, "customData": {"a\u0000b": 1}}, None),
        ("POST", "/v2/txproposals/", {**tx, "customData": {"\u0000": "x"}}, s.copayer),
        ("PUT", f"/v1/txnotes/{s.ids['txid']}/", {"body": {"k\u0000": 1}}, s.copayer),
        ("PUT", "/v1/preferences/", {"email": "me@example.com", "\u0000": 1}, s.copayer),
        ("POST", "/v1/pushnotifications/subscriptions/", {"token": "t", "platform": {"\u0000": 1}}, s.copayer),
    ]
    for method, path, body, signer in cases:
        _refused(s, f"{method} {path} NUL key", s.request(method, path, body, signer), "BADREQUEST",
                 "Invalid JSON: NUL character in an object key")
    for method, path, body, signer in cases[:3]:
        odd = json.loads(json.dumps(body).replace("\\u0000", "\\ud800"))
        _refused(s, f"{method} {path} surrogate key", s.request(method, path, odd, signer), "BADREQUEST",
                 "Invalid JSON: unpaired surrogate in an object key")
    _refused(s, "surrogate value", s.request("POST", "/v2/txproposals/", {**tx, "message": "\udc00"}, s.copayer),
             "BADREQUEST", "Invalid JSON: unpaired surrogate in a string")
    # what a database holds is still taken: NUL inside a value, paired surrogates (an emoji), $ and . in keys
    note = _accepted(s, "NUL value", s.request("PUT", f"/v1/txnotes/{s.ids['txid']}/",
                                                 {"body": "a\u0000b \U0001f600", "x": {"$k": 1, "a.b": 2}}, s.copayer))
    assert note["body"] == "a\u0000b \U0001f600"


def test_huge_and_infinite_numbers_in_the_query(clean):
    s = clean
    notes = _accepted(s, "minTs=0", s.request("GET", "/v1/txnotes/?minTs=0", signer=s.copayer))
    assert notes
    for value, count in (("1e400", 0), ("1e308", 0), ("Infinity", 0), ("-1e400", len(notes)), ("-1e308", len(notes)),
                         ("18446744073709551616", 0), ("NaN", len(notes))):
        got = _accepted(s, f"minTs={value}", s.request("GET", f"/v1/txnotes/?minTs={value}", signer=s.copayer))
        assert len(got) == count, (value, got)
    for value in ("-1e308", "-Infinity", "1e308", "-1", "1e400"):
        _accepted(s, f"timeSpan={value}", s.request("GET", f"/v1/notifications/?timeSpan={value}", signer=s.copayer))
    for value in ("1e308", "-1e308", "18446744073709551616", "1e400"):
        rate = _accepted(s, f"ts={value}", s.request("GET", f"/v1/fiatrates/USD/?ts={value}"))
        assert "rate" not in rate
    for value in ("1e308", "18446744073709551616"):
        _accepted(s, f"skip={value}", s.request("GET", f"/v1/txhistory/?skip={value}&limit=5", signer=s.copayer))


def _utxo(s: Stack, satoshis: int) -> dict:
    """An unlocked UTXO of the wallet worth ``satoshis`` (paid by the node when there is none)."""
    def find():
        return [u for u in s.ok("GET", "/v1/utxos/", signer=s.copayer) if u["satoshis"] == satoshis and not u["locked"]]

    if not find():
        s.node.fund(s.address, f"{satoshis / 1e8:.8f}")
        deadline = time.monotonic() + 30
        while not find() and time.monotonic() < deadline:
            time.sleep(0.2)
    assert find(), f"no {satoshis} sat coin showed up"
    return find()[0]


def test_fee_above_the_maximum_is_invalid_fee(clean):
    from bws.chains.constants import MAX_TX_FEE

    s = clean
    coin = _utxo(s, 50_000_000)
    out = [{"toAddress": s.address, "amount": 1_000_000}]
    for fee in (MAX_TX_FEE + 1, 40_000_000, 2**53):
        a = s.request("POST", "/v2/txproposals/", {"outputs": out, "inputs": [coin], "fee": fee}, s.copayer)
        _refused(s, f"fee={fee}", a, "BADREQUEST", f"Invalid fee: above the maximum of {MAX_TX_FEE} satoshis")
    txp = _accepted(s, "fee=MAX_TX_FEE", s.request("POST", "/v2/txproposals/", {
        "outputs": out, "inputs": [coin], "fee": MAX_TX_FEE, "dryRun": True}, s.copayer))
    assert txp["fee"] == MAX_TX_FEE


def test_fee_computed_above_the_maximum_is_invalid_fee():
    """The same rule when the fee comes from feePerKb x size (chains layer, no server needed)."""
    from bws.chains.constants import MAX_FEE_PER_KB, MAX_TX_FEE
    from bws.chains.selection import select_tx_inputs
    from bws.errors import ClientError

    key = "02" + "11" * 32
    utxos = [{"txid": f"{i:064x}", "vout": 0, "satoshis": 100_000_000, "address": "x", "path": "m/0/0",
              "publicKeys": [key], "confirmations": 10, "locked": False} for i in range(1, 30)]
    txp = TxProposal.from_dict({
        "version": 3, "coin": "btc", "outputs": [{"toAddress": "mssWKi5NbmMYdvkXiMsjWUQNWdTWzY7FBr", "amount": 2_500_000_000}],
        "feePerKb": MAX_FEE_PER_KB, "inputs": [], "addressType": "P2PKH", "requiredSignatures": 1, "walletN": 1,
        "changeAddress": "mssWKi5NbmMYdvkXiMsjWUQNWdTWzY7FBr", "outputOrder": [0, 1]})
    with pytest.raises(ClientError) as e:
        select_tx_inputs(txp, utxos, shuffle=list)
    assert (e.value.code, e.value.message) == ("BADREQUEST", f"Invalid fee: above the maximum of {MAX_TX_FEE} satoshis")


def test_made_up_inputs_are_unavailable_utxos(clean):
    s = clean
    coin = _utxo(s, 1_000_000)
    pending = s.ok("GET", f"/v1/txproposals/{s.ids['pending']}/", signer=s.copayer)
    out = [{"toAddress": s.address, "amount": 20_000}]
    made_up = [
        {**coin, "txid": "cd" * 32},                        # no such transaction
        {**coin, "vout": coin["vout"] + 7},                 # no such output
        {**coin, "vout": 2**64},                            # not even a possible output index
        {**coin, "vout": 2**32},
        dict(pending["inputs"][0]),                         # locked by a pending proposal
    ]
    for i, inp in enumerate(made_up):
        a = s.request("POST", "/v2/txproposals/", {"outputs": out, "inputs": [inp], "fee": 5_000}, s.copayer)
        _refused(s, f"made-up input {i}", a, "UNAVAILABLE_UTXOS")
    # a real coin with made-up amount, keys and path: the proposal spends the chain's coin as it is
    forged = {**coin, "satoshis": 90_000_000, "publicKeys": ["02" + "22" * 32], "path": "m/9/9"}
    txp = _accepted(s, "forged details", s.request("POST", "/v2/txproposals/", {
        "outputs": out, "inputs": [forged], "fee": 5_000, "dryRun": True}, s.copayer))
    (spent,) = txp["inputs"]
    assert [spent[k] for k in ("satoshis", "publicKeys", "path")] == [coin[k] for k in ("satoshis", "publicKeys", "path")]


def _raw_http(base: str, payload: bytes) -> bytes:
    import socket
    from urllib.parse import urlsplit

    u = urlsplit(base)
    with socket.create_connection((u.hostname, u.port), timeout=10) as sock:
        sock.sendall(payload)
        out = b""
        while True:
            data = sock.recv(65536)
            if not data:
                return out
            out += data


def test_transport_oddities_answer_json(clean):
    s = clean
    # a path parameter whose %-escapes are not UTF-8 (klein answered it in plain text and logged a traceback)
    a = s.request("GET", "/v1/txproposals/%ED%A0%80/", signer=s.copayer)
    _refused(s, "non-UTF-8 path", a, "BADREQUEST", "Invalid URL: a path parameter is not UTF-8")
    # a request line over Twisted's 16 KiB line limit (the connection was closed without an answer)
    a = s.request("GET", "/v1/txnotes/?minTs=" + "1" * 20_000, signer=s.copayer)
    s.check("long URL", a)
    assert a.status == 414 and a.json()["code"] == "BADREQUEST", (a.status, a.text[:200])
    prefix = "/" + s.base.split("/", 3)[3]
    out = _raw_http(s.base, f"GET {prefix}/v1/version/ HTTP/1.1\r\nHost: x\r\nX-Big: {'y' * 20_000}\r\n\r\n".encode())
    assert out.startswith(b"HTTP/1.1 431 ") and b'"code":"BADREQUEST"' in out, out[:300]
    # Host headers klein could not use: not UTF-8 (its plain-text 400 and a traceback), not a
    # name IDNA encodes (werkzeug's BadHost: a 500 page and a traceback); Express takes any Host
    for host in (b"\xff\xfe", b"a..b", b"x" * 300):
        head = f"GET {prefix}/v1/version/ HTTP/1.1\r\nConnection: close\r\nHost: ".encode()
        out = _raw_http(s.base, head + host + b"\r\n\r\n")
        assert out.startswith(b"HTTP/1.1 200 ") and b"serviceVersion" in out, (host, out[:300])
    assert not [m for m in LOG_ALARMS if m in s.new_log()]
    assert not s.failures, _report(s)
