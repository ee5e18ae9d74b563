"""Baselines: ``python -m bench.baseline_server --port N --pubkey HEX``.

Same reactor as ``python -m bws`` (Twisted's asyncio reactor), plain twisted.web:

* ``GET /bare``   -> ``{"ok":true}``: the HTTP ceiling of one Python process.
* ``GET /auth...`` -> the same after ONE coincurve signature check of the
  request (``x-signature`` over ``get|<uri relative to /auth>|{}`` by
  ``--pubkey``, exactly as bws checks a bwc request): the authenticated ceiling.
* ``GET /authdb...`` (with ``--mongo-uri``) -> the signature check, then ONE
  ``find_one`` by an indexed key through pymongo's AsyncMongoClient and
  :func:`bws.aio.as_deferred`, exactly as bws reads: the floor of an
  authenticated route that reads one document (bws's cheapest reads do this
  plus their own work).
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pubkey", required=True)
    p.add_argument("--mongo-uri", help="database for /authdb (a 'baseline' collection of 20 small docs is written)")
    args = p.parse_args(argv)

    from bws.reactor import install

    install()
    from twisted.internet import reactor
    from twisted.web.resource import Resource
    from twisted.web.server import NOT_DONE_YET, Site

    from bws.aio import as_deferred
    from bws.crypto import verify_request_signature

    coll = None
    if args.mongo_uri:
        from pymongo import AsyncMongoClient, MongoClient

        with MongoClient(args.mongo_uri) as sync:  # seed before serving
            c = sync.get_default_database("bench")["baseline"]
            c.drop()
            c.insert_many([{"walletId": f"w{i}", "copayerId": f"c{i}", "email": None, "language": "en"} for i in range(20)])
            c.create_index("walletId")
        coll = AsyncMongoClient(args.mongo_uri).get_default_database("bench")["baseline"]
    reads = [0]

    body = b'{"ok":true}'
    pubkeys = [args.pubkey]

    class Root(Resource):
        isLeaf = True

        def render_GET(self, request):
            request.setHeader(b"content-type", b"application/json")
            uri = request.uri.decode("latin-1")
            prefix = "/authdb" if uri.startswith("/authdb") else "/auth" if uri.startswith("/auth") else None
            if prefix:
                sig = (request.getHeader(b"x-signature") or b"").decode("latin-1")
                if not verify_request_signature("GET", uri[len(prefix):], None, None, sig, pubkeys):
                    request.setResponseCode(401)
                    return b'{"code":"NOT_AUTHORIZED","message":"Invalid signature"}'
            if prefix == "/authdb" and coll is not None:
                reads[0] += 1
                d = as_deferred(coll.find_one({"walletId": f"w{reads[0] % 20}"}, {"_id": False}))

                def done(doc):
                    request.write(json.dumps(doc).encode())
                    request.finish()

                def failed(f):
                    request.setResponseCode(500)
                    request.write(b'{"error":"Internal error"}')
                    request.finish()

                d.addCallbacks(done, failed)
                return NOT_DONE_YET
            return body

    site = Site(Root(), timeout=300)
    site.noisy = False
    reactor.listenTCP(args.port, site, interface="127.0.0.1")
    print(f"baseline listening on {args.port}", flush=True)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
