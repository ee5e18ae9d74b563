"""``python -m bench.bws_server --config FILE``: ``python -m bws`` exactly, except
that every BTC/BCH explorer is the in-memory BENCHMARK STUB
(:class:`bench.stub_explorer.BenchStubExplorer`), so the benchmark measures
our server's own cost, not a node's."""

from __future__ import annotations

import os
import sys


def _log_commands(path: str) -> None:
    """Debug aid: count the database commands by name (and cumulated ms) into ``path`` every second."""
    import collections
    import json
    import threading
    import time

    from pymongo import monitoring

    counts: collections.Counter = collections.Counter()
    micros: collections.Counter = collections.Counter()

    class Listener(monitoring.CommandListener):
        def started(self, event):
            counts[event.command_name] += 1

        def succeeded(self, event):
            micros[event.command_name] += event.duration_micros

        def failed(self, event):
            micros[event.command_name] += event.duration_micros

    class Pool(monitoring.ConnectionPoolListener):
        def connection_created(self, event):
            counts["(connection created)"] += 1

        def connection_closed(self, event):
            counts["(connection closed: %s)" % event.reason] += 1

        def pool_created(self, event): pass
        def pool_ready(self, event): pass
        def pool_cleared(self, event): counts["(pool cleared)"] += 1
        def pool_closed(self, event): pass
        def connection_ready(self, event): pass
        def connection_check_out_started(self, event): pass
        def connection_check_out_failed(self, event): counts["(checkout failed)"] += 1
        def connection_checked_out(self, event): pass
        def connection_checked_in(self, event): pass

    monitoring.register(Listener())
    monitoring.register(Pool())

    def dump():
        while True:
            time.sleep(1)
            with open(path, "w") as f:
                json.dump({k: [v, micros[k] / 1000] for k, v in counts.items()}, f)

    threading.Thread(target=dump, daemon=True).start()


def main(argv=None) -> int:
    import bws.__main__ as entry
    from bench.stub_explorer import BenchStubExplorer
    from bws import runtime

    async def build(cfg, deps):
        # The API process exactly as bws/__main__.py builds it, with the stub explorers.
        deps.explorers = lambda storage: {
            (c, n): BenchStubExplorer(c, n) for c in ("btc", "bch") for n in ("livenet", "testnet")
        }
        return await entry.build(cfg, deps)

    if os.environ.get("BENCH_COMMAND_LOG"):
        _log_commands(os.environ["BENCH_COMMAND_LOG"])
    return runtime.run(
        "python -m bench.bws_server", entry.DESCRIPTION + " BENCHMARK STUB explorers.", build,
        add_args=entry.add_args, configure=entry.configure, argv=argv,
    )  # fmt: skip

if __name__ == "__main__":
    sys.exit(main())
