"""``python -m bench.bws_server --config FILE``: ``python -m bws`` exactly, except
that every BTC/BCH explorer is the in-memory BENCHMARK STUB
(:class:`bench.stub_explorer.BenchStubExplorer`), so the benchmark measures
our server's own cost, not a node's."""

from __future__ import annotations

import sys


def main(argv=None) -> int:
    from bws.reactor import install

    install()
    import bws.__main__ as entry

    from bench.stub_explorer import BenchStubExplorer

    def build_explorers(cfg):
        return {(c, n): BenchStubExplorer(c, n) for c in ("btc", "bch") for n in ("livenet", "testnet")}

    entry.build_explorers = build_explorers
    return entry.main(argv)


if __name__ == "__main__":
    sys.exit(main())
