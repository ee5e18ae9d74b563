"""The import rules of pyproject.toml ``[tool.importlinter]`` hold (issue 16).

Runs the real ``lint-imports`` over the source tree: production code never
imports ops/ or devtools/, devtools never imports ops, the layers
http -> services -> chains -> model are only imported downwards, storage,
adapters and delivery never import the services, the HTTP layer or the
bootstrap, and bws/interfaces.py stays Protocols only. A broken contract fails with lint-imports' own report.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_kept():
    exe = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run(
        [str(exe), "--no-cache"], capture_output=True, text=True, timeout=300, cwd=str(ROOT),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert " 0 broken" in r.stdout and "KEPT" in r.stdout, r.stdout


def test_only_runtime_imports_the_global_reactor():
    """``from twisted.internet import reactor`` at module level: only bws/runtime.py may
    (inside its run()); every other library module gets the reactor passed in."""
    offenders = []
    for path in (ROOT / "bws").rglob("*.py"):
        if path.name == "runtime.py" and path.parent == ROOT / "bws":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if line.startswith(("from twisted.internet import reactor", "import twisted.internet.reactor")):
                offenders.append(f"{path.relative_to(ROOT)}:{n}")
    assert not offenders, offenders
