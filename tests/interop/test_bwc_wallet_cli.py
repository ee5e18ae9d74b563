"""``tools/bwc-wallet.js`` (the README quick start's wallet) run as a subprocess, as a user
runs it, against a real ``python -m bws`` on litecoind regtest (issue 21 item 8):

* 1-of-1: create, address, paid from the node, balance, ``send`` to a node address → the
  transaction is in the node's mempool paying that address the amount;
* 2-of-2: ``address`` before the second copayer joined says how many joined and what to do
  (share the secret, ``join``) instead of ``Illegal State.``; after the join, ``send`` by one
  copayer waits for the other, who sees it in ``pending`` and ``sign``s it → broadcast;
* ``help``/``--help`` print the usage (no stray ``"use strict";``); bad input is one clear
  line on stderr and a non-zero exit.

No block is mined here (unconfirmed inputs are spendable by proposals; the session node
must stay below height 432).
"""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from tests.interop.harness import wait_for
from tests.servers.proc import ROOT, free_port, require_binary

pytestmark = pytest.mark.interop

CLI = ROOT / "tools" / "bwc-wallet.js"
SAT = 100_000_000


class Cli:
    """One copayer: ``node tools/bwc-wallet.js`` with its own WALLET_FILE."""

    def __init__(self, base_url: str, wallet_file: Path):
        self.env = {**os.environ, "BWS_URL": base_url, "WALLET_FILE": str(wallet_file)}

    def run(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
        return subprocess.run(
            [require_binary("node"), str(CLI), *args],
            env=self.env, cwd=str(ROOT), capture_output=True, text=True, timeout=timeout,
        )

    def ok(self, *args: str):
        """Run a command that must succeed; its JSON output."""
        r = self.run(*args)
        assert r.returncode == 0, f"{args}: exit {r.returncode}: {r.stderr}"
        return json.loads(r.stdout)

    def fails(self, *args: str, status: int = 1) -> str:
        """Run a command that must fail with ``status``; its one stderr line."""
        r = self.run(*args)
        assert r.returncode == status, f"{args}: exit {r.returncode} (want {status}): {r.stdout} {r.stderr}"
        assert r.stdout == "", r.stdout
        lines = r.stderr.splitlines()
        assert len(lines) == 1, f"{args}: want one error line, got {r.stderr!r}"
        assert lines[0].startswith("error: "), lines
        return lines[0]


def mempool_payment(litecoind, txid: str, address: str) -> int:
    """Satoshis the mempool transaction ``txid`` pays to ``address``."""
    assert litecoind.rpc("getmempoolentry", txid)
    tx = litecoind.rpc("getrawtransaction", txid, True)
    script = litecoind.rpc("validateaddress", address)["scriptPubKey"]
    paid = [o for o in tx["vout"] if o["scriptPubKey"]["hex"] == script]
    assert len(paid) == 1, tx["vout"]
    return int(Decimal(str(paid[0]["value"])) * SAT)


def test_1of1_create_address_fund_balance_send(bws_api, litecoind, tmp_path):
    me = Cli(bws_api.base_url, tmp_path / "solo.json")
    created = me.ok("create")
    assert (created["m"], created["n"]) == (1, 1)
    assert "secret" not in created
    first = created["address"]
    assert (tmp_path / "solo.json").stat().st_mode & 0o777 == 0o600

    second = me.ok("address")["address"]
    assert second != first
    litecoind.fund(second, "0.5")
    wait_for(lambda: me.ok("balance")["totalAmount"] == 50_000_000, timeout=30, what="0.5 BTC in the CLI balance")

    dest = litecoind.new_address("legacy")
    sent = me.ok("send", dest, "0.1234")
    assert sent["status"] == "broadcasted", sent
    assert sent["amount"] == 12_340_000 and sent["fee"] > 0
    assert sent["outputs"] == [{"toAddress": dest, "amount": 12_340_000}]
    assert mempool_payment(litecoind, sent["txid"], dest) == 12_340_000

    # nothing left to sign; the balance is what was paid in minus amount and fee
    assert me.ok("pending") == []
    wait_for(
        lambda: me.ok("balance")["totalAmount"] == 50_000_000 - 12_340_000 - sent["fee"],
        timeout=30,
        what="balance after the send",
    )


def test_2of2_incomplete_wallet_message_then_pending_and_sign(bws_api, litecoind, tmp_path):
    alice = Cli(bws_api.base_url, tmp_path / "alice.json")
    bob = Cli(bws_api.base_url, tmp_path / "bob.json")
    created = alice.ok("create", "2", "2")
    secret = created["secret"]
    assert secret.endswith("Tbtc") and "address" not in created

    msg = alice.fails("address")
    assert "Illegal State" not in msg
    assert "1 of 2 copayers have joined" in msg, msg
    assert secret in msg and "join" in msg, msg
    # every command that needs the whole wallet says the same
    assert "1 of 2 copayers have joined" in alice.fails("send", litecoind.new_address("legacy"), "0.01")

    assert bob.ok("join", secret)["joined"] is True
    addr = bob.ok("address")["address"]
    assert addr.startswith("2")  # P2SH 2-of-2, testnet
    litecoind.fund(addr, "0.3")
    wait_for(lambda: alice.ok("balance")["totalAmount"] == 30_000_000, timeout=30, what="0.3 BTC seen by alice")

    dest = litecoind.new_address("legacy")
    proposed = alice.ok("send", dest, "0.05")
    assert proposed["status"] == "pending" and "txid" not in proposed, proposed
    assert (proposed["signatures"], proposed["requiredSignatures"]) == (1, 2)
    assert "sign " + proposed["id"] in proposed["next"]

    (waiting,) = bob.ok("pending")
    assert waiting["id"] == proposed["id"]
    assert waiting["outputs"] == [{"toAddress": dest, "amount": 5_000_000}]
    assert (waiting["signatures"], waiting["signedByYou"], waiting["creator"]) == (1, False, "me")
    assert alice.ok("pending")[0]["signedByYou"] is True
    # alice already signed: signing again is refused with the server's reason
    assert "COPAYER_VOTED" in alice.fails("sign", proposed["id"])

    sent = bob.ok("sign", proposed["id"])
    assert sent["status"] == "broadcasted", sent
    assert mempool_payment(litecoind, sent["txid"], dest) == 5_000_000
    assert bob.ok("pending") == [] and alice.ok("pending") == []


def test_help_and_usage_errors(bws_api, tmp_path):
    cli = Cli(bws_api.base_url, tmp_path / "none.json")
    for flag in ("--help", "help", "-h"):
        r = cli.run(flag)
        assert r.returncode == 0 and r.stderr == "", (flag, r)
        assert r.stdout.startswith("usage: node tools/bwc-wallet.js COMMAND"), r.stdout
        assert "use strict" not in r.stdout
        for cmd in ("create [M N]", "join SECRET", "address", "send ADDRESS AMOUNT_BTC", "pending", "sign PROPOSAL_ID"):
            assert cmd in r.stdout, cmd

    bare = cli.run()
    assert bare.returncode == 2 and bare.stdout == ""
    assert bare.stderr.startswith("usage: node tools/bwc-wallet.js COMMAND") and "use strict" not in bare.stderr

    assert "unknown command 'frobnicate'" in cli.fails("frobnicate", status=2)
    assert "run 'node tools/bwc-wallet.js create' first" in cli.fails("balance")
    assert "AMOUNT_BTC" in cli.fails("send", "mzBc4XEFSdzCDcTxAgf6EZXgsZWpztRhef", "1,5", status=2)
    assert "AMOUNT_BTC" in cli.fails("send", "mzBc4XEFSdzCDcTxAgf6EZXgsZWpztRhef", "0.000000001", status=2)
    assert "ADDRESS AMOUNT_BTC" in cli.fails("send", "mzBc4XEFSdzCDcTxAgf6EZXgsZWpztRhef", status=2)
    assert "create [M N]" in cli.fails("create", "3", "2", status=2)


def test_bad_destination_and_unreachable_server(bws_api, litecoind, tmp_path):
    me = Cli(bws_api.base_url, tmp_path / "w.json")
    me.ok("create")
    # a Litecoin-only address (bech32 rltc1…) is not a testnet BTC address: the server refuses it
    assert "INVALID_ADDRESS" in me.fails("send", litecoind.new_address("bech32"), "0.01")
    assert "INSUFFICIENT_FUNDS" in me.fails("send", litecoind.new_address("legacy"), "0.01")

    nowhere = f"http://127.0.0.1:{free_port()}/bws/api"
    assert f"cannot reach BWS at {nowhere}" in Cli(nowhere, tmp_path / "w.json").fails("balance")
