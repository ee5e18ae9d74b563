"""Run the API as a real ``python -m bws`` process (hardening tests).

``start_bws(mongo_uri, log_dir, **env)`` starts one on a free loopback port
(local lock and broker, rate limits off, unless the env says otherwise) and waits until
``GET /v1/version/`` answers; ``.base`` is ``http://127.0.0.1:<port>/bws/api``.
``signed_request`` / ``create_wallet_http`` drive it synchronously with
``requests``, signing like bitcore-wallet-client (tests/helpers/keys.py).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import requests

from tests.helpers.keys import CopayerKeys, WalletKey
from tests.servers.proc import ManagedProcess, free_port


@dataclass
class BwsProcess:
    proc: ManagedProcess
    port: int
    base: str

    def stop(self) -> None:
        self.proc.stop()


def _ready(base: str) -> bool:
    return requests.get(base + "/v1/version/", timeout=1).status_code == 200


def start_bws(
    mongo_uri: str, log_dir: Path, name: str = "bws", port: Optional[int] = None, *, default_limits: bool = False,
    **env: str,
) -> BwsProcess:
    """``default_limits``: keep the configured rate limits (on by default);
    otherwise they are turned off, as tests create many wallets from 127.0.0.1."""
    port = port or free_port()
    base = f"http://127.0.0.1:{port}/bws/api"
    full_env = {
        "BWS_CONFIG": "",
        "BWS_PORT": str(port),
        "BWS_HOST": "127.0.0.1",
        "BWS_MONGODB_URI": mongo_uri,
        "BWS_LOCK_MODE": "local",
        "BWS_BROKER_MODE": "local",
        **({} if default_limits else {"BWS__rateLimits__enabled": "false"}),
        **env,
    }
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    proc = ManagedProcess(
        name, [sys.executable, "-m", "bws"], ready=lambda: _ready(base), log_dir=log_dir, env=full_env,
        cwd=str(log_dir), timeout=30,
    ).start()
    return BwsProcess(proc, port, base)


def compact(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def signed_request(
    http: requests.Session,
    base: str,
    method: str,
    path: str,
    body: Any = None,
    copayer: Optional[CopayerKeys] = None,
    headers: Optional[dict] = None,
    timeout: float = 30,
) -> requests.Response:
    """One request; ``path`` relative to the base path (query included)."""
    h = {"x-client-version": "bwc-6.8.0", **(headers or {})}
    data = None
    text = "{}"
    if body is not None:
        text = compact(body)
        data = text.encode("utf-8")
        h["Content-Type"] = "application/json"
    if copayer is not None:
        h["x-identity"] = copayer.copayer_id("btc")
        h["x-signature"] = copayer.sign(f"{method.lower()}|{path}|{text}")
    return http.request(method, base + path, data=data, headers=h, timeout=timeout)


def create_wallet_http(http: requests.Session, base: str, m: int = 1, n: int = 1, headers: Optional[dict] = None):
    """Create an m-of-n livenet btc wallet and join n copayers over HTTP ->
    (wallet id, wallet key, [CopayerKeys])."""
    key = WalletKey.random()
    r = signed_request(http, base, "POST", "/v2/wallets/",
                       {"name": "w", "m": m, "n": n, "pubKey": key.pub, "coin": "btc", "network": "livenet"},
                       headers=headers)
    assert r.status_code == 200, r.text
    wallet_id = r.json()["walletId"]
    copayers = [CopayerKeys.random("livenet", "BIP44") for _ in range(n)]
    for i, c in enumerate(copayers):
        name = f"copayer {i + 1}"
        body = {"walletId": wallet_id, "name": name, "xPubKey": c.xpub, "requestPubKey": c.request_pub,
                "copayerSignature": key.copayer_signature(name, c.xpub, c.request_pub), "coin": "btc"}
        r = signed_request(http, base, "POST", f"/v2/wallets/{wallet_id}/copayers/", body)
        assert r.status_code == 200, r.text
    return wallet_id, key, copayers
