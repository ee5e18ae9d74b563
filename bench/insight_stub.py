"""BENCHMARK STUB: a tiny Insight-compatible HTTP API for the ORIGINAL
bitcore-wallet-service 2.5.1 (its ``insight`` explorer provider).

``python -m bench.insight_stub --port N``.  Answers what the read routes,
address creation, history and the proposal flow ask for, from the same
generator as :mod:`bench.stub_explorer` (so both servers see the same chain:
the same funded addresses via ``$BENCH_FUNDED_FILE``, the same 10,000-tx
history for a 1,000-address wallet):
``POST /api/addrs/utxo``, ``POST /api/addrs/txs`` (``from``/``to`` in the
query string, as the original's insight provider sends them, or in the body),
``GET /api/addr/:a``, ``GET /api/utils/estimatefee``, ``GET /api/sync``,
``GET /api/tx/:txid``, ``POST /api/tx/send`` (accepts any well-formed
transaction and marks the outputs it spends).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args(argv)

    from bws.reactor import install

    install()
    from twisted.internet import reactor
    from twisted.web.resource import Resource
    from twisted.web.server import Site

    from bench.stub_explorer import HEIGHT, BenchStubExplorer

    ex = BenchStubExplorer()

    def run(coro):
        # the stub's coroutines never await anything: drive them synchronously
        try:
            coro.send(None)
        except StopIteration as stop:
            return stop.value
        raise RuntimeError("stub coroutine suspended")

    def body_of(request) -> dict:
        raw = request.content.read()
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            from urllib.parse import parse_qs

            return {k: v[-1] for k, v in parse_qs(raw.decode()).items()}

    class Api(Resource):
        isLeaf = True

        def _json(self, request, value, code=200):
            request.setResponseCode(code)
            request.setHeader(b"content-type", b"application/json")
            return json.dumps(value).encode()

        def render_GET(self, request):
            path = request.path.decode()
            if path.startswith("/api/utils/estimatefee"):
                nb = (request.args.get(b"nbBlocks") or [b"2"])[0].decode().split(",")
                rates = run(ex.estimate_fee([int(n) for n in nb if n]))
                return self._json(request, {str(k): v for k, v in rates.items()})
            if path.startswith("/api/sync"):
                return self._json(request, {"status": "finished", "blockChainHeight": HEIGHT, "height": HEIGHT})
            if path.startswith("/api/addr/"):
                return self._json(request, {"addrStr": path.split("/")[3], "txApperances": 0,
                                            "unconfirmedTxApperances": 0, "transactions": []})
            if path.startswith("/api/tx/"):
                return self._json(request, "Not found", 404)
            return self._json(request, {"error": "not in the stub"}, 404)

        def render_POST(self, request):
            path = request.path.decode()
            b = body_of(request)
            addrs = [a for a in str(b.get("addrs") or "").split(",") if a]
            if path == "/api/addrs/utxo":
                return self._json(request, run(ex.get_utxos(addrs)))
            if path == "/api/addrs/txs":
                q = {k.decode(): v[-1].decode() for k, v in request.args.items()}
                frm = int(q.get("from") or b.get("from") or 0)
                to = int(q.get("to") or b.get("to") or frm + 10)
                page, total = run(ex.get_transactions(addrs, frm, to))
                return self._json(request, {"totalItems": total, "from": frm, "to": to, "items": page})
            if path == "/api/tx/send":
                try:
                    return self._json(request, {"txid": run(ex.broadcast(b.get("rawtx")))})
                except Exception as e:  # noqa: BLE001 - what insight answers a bad tx with
                    request.setResponseCode(400)
                    return f"TX decode failed: {e}".encode()
            return self._json(request, {"error": "not in the stub"}, 404)

    site = Site(Api())
    site.noisy = False
    reactor.listenTCP(args.port, site, interface="127.0.0.1")
    print(f"insight stub listening on {args.port}", flush=True)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
