"""Keeps bench/ from rotting: the harness runs one operation for about a second.

Starts its own SecantusDB and bws (bench/run.py), seeds 2 wallets over HTTP,
loads GET /v1/preferences/ with wrk and prints the table. Not a benchmark:
nothing about speed is asserted.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_harness_runs_one_operation():
    p = subprocess.run(
        [sys.executable, "-m", "bench.run", "--ops", "preferences", "--no-original", "--duration", "1",
         "--warmup", "0", "--wallets", "2", "--connections", "4", "--threads", "1"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120,
    )
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    rows = [ln.split() for ln in p.stdout.splitlines()]
    prefs = [r for r in rows if r[:2] == ["preferences", "ours"]]
    assert prefs, p.stdout
    assert float(prefs[0][2]) > 0, p.stdout  # req/s
    assert "!" not in prefs[0], p.stdout  # no errors / non-2xx answers
    assert any(r[:2] == ["coincurve", "baseline"] for r in rows), p.stdout
    assert "targets:" in p.stdout
