"""Keeps bench/ from rotting: the harness runs a few operations for about a second.

Starts its own SecantusDB and bws (bench/run.py), seeds 2 wallets of each kind
over HTTP (read wallets with pending proposals, funded spend wallets), loads
GET /v1/preferences/ and GET /v1/txproposals/ with wrk, runs the proposal flow
(create, publish, sign, broadcast) with bench/flow_load.py and prints the table.
Not a benchmark: nothing about speed is asserted.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_harness_runs_operations():
    p = subprocess.run(
        [sys.executable, "-m", "bench.run", "--ops", "preferences,txproposals,proposal", "--no-original",
         "--duration", "1", "--warmup", "0", "--wallets", "2", "--connections", "4", "--threads", "1"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=180,
    )
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    rows = [ln.split() for ln in p.stdout.splitlines()]
    for op in ("preferences", "txproposals"):
        row = next((r for r in rows if r[:2] == [op, "ours"]), None)
        assert row, p.stdout
        assert float(row[2]) > 0, p.stdout  # req/s
        assert "!" not in row, p.stdout  # no errors / non-2xx answers
    flow = next((ln for ln in p.stdout.splitlines() if ln.split()[:2] == ["proposal", "ours"]), None)
    assert flow, p.stdout + p.stderr[-3000:]
    assert float(flow.split()[2]) > 0, p.stdout  # flows/s
    assert "failed" not in flow and "not measured" not in flow, flow + p.stderr[-3000:]
    assert any(r[:2] == ["coincurve", "baseline"] for r in rows), p.stdout
    assert "targets:" in p.stdout and "total wall time" in p.stdout


def test_stub_explorer_replaces_spent_outputs(tmp_path):
    """A funded address keeps its UTXO count; broadcast spends are replaced, unfunded addresses have none."""
    from bitcoin.core import COutPoint, CMutableTransaction, CMutableTxIn, CMutableTxOut, lx

    from bench.stub_explorer import UTXO_SATOSHIS, BenchStubExplorer
    from bws.chains.address import script_for_address

    funded, other = "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
    (tmp_path / "funded").write_text(funded + "\n")
    ex = BenchStubExplorer(funded_file=str(tmp_path / "funded"))

    def run(coro):  # the stub's coroutines never suspend
        try:
            coro.send(None)
        except StopIteration as stop:
            return stop.value
        raise AssertionError("stub coroutine suspended")

    utxos = run(ex.get_utxos([other, funded]))
    assert len(utxos) == ex.utxos_per_address and {u["address"] for u in utxos} == {funded}
    assert all(u["satoshis"] == UTXO_SATOSHIS and u["scriptPubKey"] == script_for_address(funded) for u in utxos)
    spent = utxos[0]
    tx = CMutableTransaction([CMutableTxIn(COutPoint(lx(spent["txid"]), spent["vout"]))],
                             [CMutableTxOut(1000, bytes.fromhex(script_for_address(other)))])
    assert run(ex.broadcast(tx.serialize().hex()))
    after = run(ex.get_utxos([funded]))
    assert len(after) == ex.utxos_per_address
    assert spent["txid"] not in {u["txid"] for u in after}
    assert {u["txid"] for u in utxos[1:]} <= {u["txid"] for u in after}
    assert run(ex.get_utxos([other])) == []
