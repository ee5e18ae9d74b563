"""``./start.sh --dev``: local chains, an SMTP sink and a config that uses them.

A newcomer runs ``./start.sh --dev`` and gets a complete, offline system:

* litecoind regtest (Bitcoin-compatible; testnet-format addresses) on RPC
  19443 / P2P 19444, data in ``data/dev/litecoind``;
* ganache "eth" (chain id 1337) on 8545 with the TRY token deployed, and
  ganache "tri" (chain id 31337) on 8546;
* an SMTP sink on 2525 writing every mail into ``data/dev/mail``;
* a DEV STAND-IN for FCM (:mod:`devtools.fakefcm`) on 9099 logging every push to
  ``data/dev/fcm-messages.jsonl``, with generated stand-in service-account credentials
  ``data/dev/fake-fcm-service-account.json`` (token_uri -> the fake);
* ``data/dev/config.json``: the operator's config (if any) with the chains,
  the SMTP sink, e-mail and push turned on, used by every service.

Ports are fixed by default so the README's copy-paste commands work; they are
loopback only. Each can be overridden with ``BWS_DEV_PORT_<NAME>`` (NAME one of
LITECOIND_RPC, LITECOIND_P2P, ETH, TRI, SMTP, FCM), e.g. for tests.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import NamedTuple, Optional

import rlp
from eth_utils import keccak, to_checksum_address

from devtools.ganache import CHAIN_IDS, MNEMONIC
from devtools.process import port_open

DEV_PORTS = {"litecoind_rpc": 19443, "litecoind_p2p": 19444, "eth": 8545, "tri": 8546, "smtp": 2525, "fcm": 9099}


def dev_ports(environ=None) -> dict[str, int]:
    """DEV_PORTS with ``BWS_DEV_PORT_<NAME>`` environment overrides applied."""
    environ = os.environ if environ is None else environ
    out = dict(DEV_PORTS)
    for name in out:
        raw = environ.get(f"BWS_DEV_PORT_{name.upper()}")
        if raw:
            try:
                out[name] = int(raw)
            except ValueError:
                raise SystemExit(f"BWS_DEV_PORT_{name.upper()}: must be a port number, got {raw!r}") from None
    return out
RPC_USER, RPC_PASSWORD = "bws", "bwspass"


def first_contract_address(deployer: str) -> str:
    """Address of the first contract ``deployer`` creates (nonce 0): keccak(rlp([sender, 0]))[12:]."""
    raw = keccak(rlp.encode([bytes.fromhex(deployer[2:]), 0]))[12:]
    return to_checksum_address(raw)


def dev_config(base: dict, run_dir: Path, try_token: str, ports: Optional[dict] = None, fcm_account: str = "") -> dict:
    """The operator's config dict with the dev chains, SMTP sink, e-mail and push filled in."""
    p = ports or DEV_PORTS
    cfg = json.loads(json.dumps(base))
    cfg.setdefault("blockchainExplorerOpts", {}).update(
        {
            "btc": {
                "testnet": {
                    "provider": "bitcoind",
                    "url": f"http://{RPC_USER}:{RPC_PASSWORD}@127.0.0.1:{p['litecoind_rpc']}",
                    "p2p": f"127.0.0.1:{p['litecoind_p2p']}",
                    "magic": "fabfb5da",
                }
            },
            "eth": {"livenet": {"provider": "web3", "url": f"http://127.0.0.1:{p['eth']}", "chainId": CHAIN_IDS["eth"], "pollInterval": 1.0}},
            "tri": {"livenet": {"provider": "web3", "url": f"http://127.0.0.1:{p['tri']}", "chainId": CHAIN_IDS["tri"], "pollInterval": 1.0}},
            "try": {
                "livenet": {
                    "provider": "erc20",
                    "url": f"http://127.0.0.1:{p['eth']}",
                    "chainId": CHAIN_IDS["eth"],
                    "tokenAddress": try_token,
                    "pollInterval": 1.0,
                }
            },
        }
    )
    email = cfg.setdefault("emailOpts", {})
    email.update({"enabled": True, "host": "127.0.0.1", "port": p["smtp"], "ignoreTLS": True})
    if fcm_account:
        push = cfg.setdefault("pushNotificationsOpts", {})
        push["enabled"] = True
        push["fcm"] = {
            "serviceAccountFile": fcm_account,
            "endpointBase": f"http://127.0.0.1:{p['fcm']}/v1/projects",
        }
        # Deliver quickly in dev (defaults are tuned for production providers).
        push.setdefault("pollInterval", 1.0)
        push.setdefault("retryBackoff", 2.0)
        push.setdefault("sendTimeout", 10.0)
    email.setdefault("pollInterval", 1.0)
    email.setdefault("retryBackoff", 2.0)
    # The embedded database keeps its data beside the run directory's other state.
    if not cfg.get("storageOpts", {}).get("mongoDb", {}).get("uri"):
        emb = cfg.setdefault("storageOpts", {}).setdefault("embedded", {})
        emb.setdefault("dataPath", str(run_dir / "data" / "db"))
    return cfg


class DevProcess(NamedTuple):
    """One dev server for the supervisor (ops/supervisor.py turns it into its ProcessSpec)."""

    name: str
    argv: list[str]
    #: TCP port answering once the server is ready.
    port: int


def prepare_dev(run_dir: Path, base_config_path: Optional[str]) -> tuple[str, list[DevProcess]]:
    """Write ``data/dev/config.json`` and return (its path, the dev processes to run first)."""
    from eth_account import Account

    dev_dir = run_dir / "data" / "dev"
    dev_dir.mkdir(parents=True, exist_ok=True)
    base: dict = {}
    if base_config_path:
        base = json.loads(Path(base_config_path).read_text())
    elif (run_dir / "config.json").exists():
        base = json.loads((run_dir / "config.json").read_text())
    Account.enable_unaudited_hdwallet_features()
    deployer = Account.from_mnemonic(MNEMONIC, account_path="m/44'/60'/0'/0/0").address
    try_token = first_contract_address(deployer)
    p = dev_ports()
    from devtools.fakefcm import write_dev_service_account

    fcm_account = write_dev_service_account(dev_dir / "fake-fcm-service-account.json", f"http://127.0.0.1:{p['fcm']}")
    cfg = dev_config(base, run_dir, try_token, p, str(fcm_account))
    path = dev_dir / "config.json"
    path.write_text(json.dumps(cfg, indent=2))
    path.chmod(0o600)  # holds the dev node's RPC password
    py = sys.executable

    if port_open(p["litecoind_p2p"]):  # not a health port, so checked here
        raise SystemExit(f"cannot start: litecoind P2P port {p['litecoind_p2p']} is in use; set BWS_DEV_PORT_LITECOIND_P2P")
    specs = [
        DevProcess(
            "dev-litecoind",
            [py, "-m", "devtools.litecoind", "--datadir", str(dev_dir / "litecoind"),
             "--rpc-port", str(p["litecoind_rpc"]), "--p2p-port", str(p["litecoind_p2p"]), "--log-dir", str(run_dir / "logs")],
            p["litecoind_rpc"],
        ),
        DevProcess(
            "dev-ganache-eth",
            [py, "-m", "devtools.ganache", "--chain", "eth", "--port", str(p["eth"]), "--log-dir", str(run_dir / "logs"), "--deploy-try"],
            p["eth"],
        ),
        DevProcess(
            "dev-ganache-tri",
            [py, "-m", "devtools.ganache", "--chain", "tri", "--port", str(p["tri"]), "--log-dir", str(run_dir / "logs")],
            p["tri"],
        ),
        DevProcess(
            "dev-smtpsink",
            [py, "-m", "devtools.smtpsink", "--port", str(p["smtp"]), "--maildir", str(dev_dir / "mail")],
            p["smtp"],
        ),
        DevProcess(
            "dev-fakefcm",
            [py, "-m", "devtools.fakefcm", "--port", str(p["fcm"]), "--log", str(dev_dir / "fcm-messages.jsonl")],
            p["fcm"],
        ),
    ]
    return str(path), specs
