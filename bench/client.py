"""A small synchronous bwc-style client for seeding benchmark data over HTTP,
and what bitcore-wallet-client does to sign a proposal.

Used against both servers (ours and the original BWS 2.5.1), so both get the
same data the same way.  Keys and request signing reuse ``tests.helpers``
(CopayerKeys, WalletKey, join_opts) and ``bws.crypto``; proposals are rebuilt
with ``bws.chains.txbuild`` (byte-identical to bitcore's serialisation) and
signed with coincurve, keys derived with the ``bip32`` library.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from typing import Any, Optional

from coincurve import PrivateKey

from bws.crypto import request_message
from tests.helpers.keys import CopayerKeys, WalletKey
from tests.helpers.wallets import join_opts

CLIENT_VERSION = "bwc-6.7.5"
#: where benchmark proposals pay to (a foreign mainnet P2PKH address)
PAY_TO = "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
PAY_AMOUNT = 10_000
FEE_PER_KB = 10_000
#: both servers (2.5.1 and ours) create proposals here; neither has /v3/txproposals/
CREATE_TX_PATH = "/v2/txproposals/"


def compact(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


class HttpError(Exception):
    def __init__(self, status: int, text: str, what: str):
        super().__init__(f"{what}: HTTP {status} {text[:300]}")
        self.status = status


@dataclass
class BenchWallet:
    """One 1-of-1 wallet: its id, the copayer's keys and id, a session token,
    the newest notification id (filled by :func:`seed_wallet`)."""

    id: str
    copayer: CopayerKeys
    copayer_id: str
    session: str = ""
    newest_notification: str = ""
    first_address: str = ""
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        c = self.copayer
        return {"id": self.id, "copayerId": self.copayer_id, "xprv": c.root.get_xpriv(), "network": c.network,
                "derivation": c.derivation, "firstAddress": self.first_address}

    @classmethod
    def from_json(cls, d: dict) -> "BenchWallet":
        from bip32 import BIP32

        return cls(d["id"], CopayerKeys(BIP32.from_xpriv(d["xprv"]), d["network"], d["derivation"]), d["copayerId"],
                   first_address=d.get("firstAddress", ""))


class SyncClient:
    """Persistent-connection HTTP client; ``base_path`` like "/bws/api"."""

    def __init__(self, port: int, base_path: str = "/bws/api", host: str = "127.0.0.1", timeout: float = 60):
        self.host, self.port, self.base_path, self.timeout = host, port, base_path.rstrip("/"), timeout
        self.conn: Optional[http.client.HTTPConnection] = None

    def _conn(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, body: Any = None, headers: Optional[dict] = None) -> Any:
        data = None if body is None else compact(body).encode()
        h = {"x-client-version": CLIENT_VERSION, **(headers or {})}
        if data is not None:
            h["Content-Type"] = "application/json"
        for attempt in (0, 1):
            try:
                c = self._conn()
                c.request(method, self.base_path + path, body=data, headers=h)
                r = c.getresponse()
                text = r.read().decode("utf-8", "replace")
                break
            except (ConnectionError, http.client.HTTPException):
                self.close()
                if attempt:
                    raise
        if r.status != 200:
            raise HttpError(r.status, text, f"{method} {path}")
        return json.loads(text) if text else None


def signed_headers(copayer: CopayerKeys, copayer_id: str, method: str, path: str, body: Any = None) -> dict:
    """x-identity / x-signature over ``method|path|body`` (body "{}" when None)."""
    text = "{}" if body is None else compact(body)
    return {"x-identity": copayer_id, "x-signature": copayer.sign(request_message(method, path, text))}


def call(client: SyncClient, w: BenchWallet, method: str, path: str, body: Any = None) -> Any:
    return client.request(method, path, body, signed_headers(w.copayer, w.copayer_id, method, path, body))


def create_wallet(client: SyncClient, name: str = "bench") -> BenchWallet:
    """A 1-of-1 BTC livenet BIP44 wallet, created and joined over HTTP."""
    key = WalletKey.random()
    copayer = CopayerKeys.random("livenet", "BIP44")
    res = client.request("POST", "/v2/wallets/", {"name": name, "m": 1, "n": 1, "pubKey": key.pub,
                                                  "coin": "btc", "network": "livenet"})
    wid = res["walletId"]
    joined = client.request("POST", f"/v2/wallets/{wid}/copayers/",
                            join_opts(wid, key, copayer, name="copayer 1", coin="btc"))
    return BenchWallet(wid, copayer, joined["copayerId"])


def seed_read_wallet(client: SyncClient, w: BenchWallet, addresses: int = 3, fund=None, proposals: int = 0) -> None:
    """Addresses (NewAddress notifications; ``fund(address)`` is called with
    the first one), ``proposals`` pending proposals, preferences, a login
    session and the newest notification id."""
    for i in range(addresses):
        a = call(client, w, "POST", "/v3/addresses/", {})["address"]
        if i == 0:
            w.first_address = a
            if fund is not None:
                fund(a)
    for _ in range(proposals):
        create_pending_proposal(client, w)
    call(client, w, "PUT", "/v1/preferences/", {"language": "en", "unit": "btc"})
    w.session = call(client, w, "POST", "/v1/login/", {})
    notes = call(client, w, "GET", "/v1/notifications/?timeSpan=3600")
    if not notes:
        raise RuntimeError(f"wallet {w.id}: no notifications after seeding")
    w.newest_notification = notes[-1]["id"]


# --------------------------------------------------------------------------- proposals, the way bwc signs them


def proposal_body(to: str = PAY_TO, amount: int = PAY_AMOUNT, fee_per_kb: int = FEE_PER_KB) -> dict:
    """``createTxProposal`` arguments as bwc sends them (undefined fields dropped)."""
    return {"outputs": [{"toAddress": to, "amount": amount}], "feePerKb": fee_per_kb, "excludeUnconfirmedUtxos": False}


def proposal_signature(txp: dict, copayer: CopayerKeys) -> str:
    """bwc publishTxProposal: ``signMessage(buildTx(txp).uncheckedSerialize(), requestPrivKey)``."""
    from bws.chains.txbuild import unsigned_raw
    from bws.model import TxProposal

    return copayer.sign(unsigned_raw(TxProposal.from_dict(txp)))


class InputSigner:
    """bwc signTxProposal for one copayer: a DER signature per input with the
    private key at ``inputPaths[i]`` below the copayer's base key, over the
    input's sighash.  Keys are derived once per path (bip32) and cached."""

    def __init__(self, copayer: CopayerKeys):
        self.copayer = copayer
        self._keys: dict[str, PrivateKey] = {}

    def key(self, path: str) -> PrivateKey:
        k = self._keys.get(path)
        if k is None:
            k = PrivateKey(self.copayer.root.get_privkey_from_path(self.copayer.base_path + path[1:]))
            self._keys[path] = k
        return k

    def sign(self, txp: dict) -> list[str]:
        from bws.chains.txbuild import build_tx
        from bws.model import TxProposal

        built = build_tx(TxProposal.from_dict(txp))
        paths = txp.get("inputPaths") or [i["path"] for i in txp["inputs"]]
        return [self.key(p).sign(built.sighash(i), hasher=None).hex() for i, p in enumerate(paths)]


def create_pending_proposal(client: SyncClient, w: BenchWallet) -> dict:
    """Create and publish one proposal (it stays pending: unsigned)."""
    txp = call(client, w, "POST", CREATE_TX_PATH, proposal_body())
    return call(client, w, "POST", f"/v1/txproposals/{txp['id']}/publish/",
                {"proposalSignature": proposal_signature(txp, w.copayer)})
