"""The import rules of pyproject.toml ``[tool.importlinter]`` hold (issue 16).

Runs the real ``lint-imports`` over the source tree: production code never
imports ops/ or devtools/, devtools never imports ops, the layers
http -> services -> chains -> model are only imported downwards, storage,
adapters and delivery never import the services, the HTTP layer or the
bootstrap, and bws/interfaces.py stays Protocols only (a broken contract fails with
lint-imports' own report); no module-level import cycle, no production module over
500 lines, no *Mixin class in bws/services; one way to inject time (only the bootstrap
takes the global reactor or the wall clock); the services never test the coin.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_kept():
    exe = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run(
        [str(exe), "--no-cache"], capture_output=True, text=True, timeout=300, cwd=str(ROOT),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert " 0 broken" in r.stdout and "KEPT" in r.stdout, r.stdout


#: the bootstrap: these install / take the global reactor and hand it to everything else
_BOOTSTRAP = {"bws/runtime.py", "bws/reactor.py"}
#: modules that may still read the wall clock themselves, and why
_CLOCK_ALLOWED = {
    "bws/model/base.py": "now_ms/now_s: the model factories' default when no time is given; "
    "the services, monitors and delivery always pass their clock's time",
}
_CLOCK_CALLS = {"time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns"}


def _time_sources(source: str) -> list[str]:
    """What in ``source`` takes time or the reactor from the process instead of
    being given it: ``from twisted.internet import reactor`` (at any depth,
    any spelling), ``import twisted.internet.reactor``, a call of
    ``time.time()`` / ``time.monotonic()`` (or ``perf_counter``, under any
    alias, or imported from ``time``), ``datetime.now()`` / ``utcnow()``."""
    import ast

    tree = ast.parse(source)
    time_aliases = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names if a.name == "time"}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "twisted.internet":
            if any(a.name == "reactor" for a in node.names):
                found.append(f"{node.lineno}: imports the global reactor")
        elif isinstance(node, ast.Import) and any(a.name == "twisted.internet.reactor" for a in node.names):
            found.append(f"{node.lineno}: imports the global reactor")
        elif isinstance(node, ast.ImportFrom) and node.module == "time":
            if any(a.name in _CLOCK_CALLS for a in node.names):
                found.append(f"{node.lineno}: imports a clock from time")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            base = node.func.value
            if isinstance(base, ast.Name) and base.id in time_aliases and node.func.attr in _CLOCK_CALLS:
                found.append(f"{node.lineno}: calls {base.id}.{node.func.attr}()")
            elif node.func.attr in ("now", "utcnow") and (
                (isinstance(base, ast.Name) and base.id == "datetime")
                or (isinstance(base, ast.Attribute) and base.attr == "datetime")
            ):
                found.append(f"{node.lineno}: calls datetime.{node.func.attr}()")
    return found


def test_one_way_to_inject_time():
    """Issue 16 "one way to inject time": only the bootstrap (bws/runtime.py,
    bws/reactor.py) and the ``__main__`` modules take the global reactor or the
    wall clock; every other library module is given ``IReactorTime`` (or a
    time / ``now`` argument from it), so tests drive time with ``task.Clock``.
    The few exceptions are listed with their reason in :data:`_CLOCK_ALLOWED`."""
    offenders = []
    for path in sorted((ROOT / "bws").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in _BOOTSTRAP or path.name == "__main__.py" or rel in _CLOCK_ALLOWED:
            continue
        offenders += [f"{rel}:{hit}" for hit in _time_sources(path.read_text())]
    assert not offenders, offenders
    for rel in _CLOCK_ALLOWED:  # an exception that is no longer needed is dropped from the list
        assert _time_sources((ROOT / rel).read_text()), f"{rel} no longer reads the clock: remove it from _CLOCK_ALLOWED"
    # the check can fail: each spelling is found
    assert _time_sources("def f():\n    from twisted.internet import defer, reactor as r\n") == [
        "2: imports the global reactor"
    ]
    assert _time_sources("import twisted.internet.reactor") == ["1: imports the global reactor"]
    assert _time_sources("import time as _t\nx = _t.time()") == ["2: calls _t.time()"]
    assert _time_sources("import time\nx = time.monotonic()") == ["2: calls time.monotonic()"]
    assert _time_sources("from time import monotonic") == ["1: imports a clock from time"]
    assert _time_sources("import datetime\nx = datetime.datetime.now()") == ["2: calls datetime.now()"]
    assert _time_sources("import time\ntime.sleep(0)\nx = clock.seconds()") == []


PRODUCTION = ("bws", "bcmonitor", "emailservice", "pushservice", "fiatrateservice", "locker", "messagebroker")


def _module_graph(roots=PRODUCTION) -> dict[str, set[str]]:
    """module -> the project modules it imports at module level (function-level
    imports left out: they run after every module is loaded). ``from pkg import
    name`` counts as ``pkg.name`` when that is a module, else as ``pkg``."""
    import ast

    mods: dict[str, Path] = {}
    for root in roots:
        for path in (ROOT / root).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path

    def targets(cur: str, node: ast.AST) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name for a in node.names]
        base = node.module or ""
        if node.level:
            pkg = cur if mods[cur].name == "__init__.py" else cur.rsplit(".", 1)[0]
            for _ in range(node.level - 1):
                pkg = pkg.rsplit(".", 1)[0]
            base = pkg + ("." + base if base else "")
        return [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]

    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps: set[str] = set()
        for node in ast.parse(path.read_text()).body:
            for stmt in node.body if isinstance(node, ast.Try) else [node]:
                if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                    for t in targets(name, stmt):
                        while t and t not in mods:
                            t = t.rsplit(".", 1)[0] if "." in t else ""
                        if t and t != name:
                            deps.add(t)
        graph[name] = deps
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_module_level_import_cycle():
    assert _cycles(_module_graph()) == []
    # the check can fail: a two-module loop is found
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]


def test_production_modules_stay_within_the_size_budget():
    """docs/architecture.md: a module over ~500 lines is split by aggregate."""
    big = [
        f"{p.relative_to(ROOT)}: {n} lines"
        for root in PRODUCTION
        for p in (ROOT / root).rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 500
    ]
    assert not big, big


def test_no_mixins_in_the_services():
    import ast

    mixins = [
        f"{p.relative_to(ROOT)}: {node.name}"
        for p in (ROOT / "bws" / "services").rglob("*.py")
        for node in ast.walk(ast.parse(p.read_text()))
        if isinstance(node, ast.ClassDef) and node.name.endswith("Mixin")
    ]
    assert not mixins, mixins


_COIN_NAMES = {"btc", "bch", "eth", "tri", "try"}
_FAMILY_NAMES = {"EVM_COINS", "UTXO_COINS", "COIN_BTC", "COIN_BCH", "COIN_ETH", "COIN_TRI", "COIN_TRY", "is_evm"}


def _coin_branches(source: str) -> list[int]:
    """Lines of ``source`` that test a coin or a coin family: a comparison
    (``==``, ``!=``, ``in``, ``not in``) with a coin literal ("eth"), a coin or
    family constant (``C.COIN_TRY``, ``EVM_COINS``), or any use of ``is_evm``."""
    import ast

    def named(node: ast.AST) -> bool:
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
        if name in _FAMILY_NAMES:
            return True
        if isinstance(node, ast.Constant) and node.value in _COIN_NAMES:
            return True
        # a literal collection of coins (not e.g. the display units ("btc", "bit"))
        return isinstance(node, (ast.Tuple, ast.List, ast.Set)) and bool(node.elts) and all(named(e) for e in node.elts)

    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and any(
            isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)) for op in node.ops
        ):
            if any(named(x) for x in [node.left, *node.comparators]):
                lines.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr == "is_evm":
            lines.append(node.lineno)
    return sorted(set(lines))


def test_services_ask_the_chain_rules_instead_of_testing_the_coin():
    """Issue 16: coin differences live in the chain-rules strategies
    (bws/chains/rules.py ``rules_for``); the services and the HTTP layer never
    branch on the coin (``if coin in EVM_COINS``, ``coin == "try"``, ``rules.is_evm``)."""
    offenders = [
        f"{p.relative_to(ROOT)}:{n}"
        for pkg in ("services", "http")
        for p in (ROOT / "bws" / pkg).rglob("*.py")
        for n in _coin_branches(p.read_text())
    ]
    assert not offenders, offenders
    # the check can fail: each kind of coin test is found
    assert _coin_branches("if coin in C.EVM_COINS: pass") == [1]
    assert _coin_branches("x = 1\nif txp.coin == C.COIN_TRY: pass") == [2]
    assert _coin_branches("ok = coin in ('eth', 'tri')") == [1]
    assert _coin_branches("if rules.is_evm: pass") == [1]
    assert _coin_branches("if coin not in C.COINS: pass") == []
    assert _coin_branches("ok = unit in ('btc', 'bit')") == []
