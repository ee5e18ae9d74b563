"""Baselines: ``python -m bench.baseline_server --port N --pubkey HEX``.

Same reactor as ``python -m bws`` (Twisted's asyncio reactor), plain twisted.web:

* ``GET /bare``   -> ``{"ok":true}``: the HTTP ceiling of one Python process.
* ``GET /auth...`` -> the same after ONE coincurve signature check of the
  request (``x-signature`` over ``get|<uri relative to /auth>|{}`` by
  ``--pubkey``, exactly as bws checks a bwc request): the authenticated ceiling.
"""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pubkey", required=True)
    args = p.parse_args(argv)

    from bws.reactor import install

    install()
    from twisted.internet import reactor
    from twisted.web.resource import Resource
    from twisted.web.server import Site

    from bws.crypto import verify_request_signature

    body = b'{"ok":true}'
    pubkeys = [args.pubkey]

    class Root(Resource):
        isLeaf = True

        def render_GET(self, request):
            request.setHeader(b"content-type", b"application/json")
            uri = request.uri.decode("latin-1")
            if uri.startswith("/auth"):
                sig = (request.getHeader(b"x-signature") or b"").decode("latin-1")
                if not verify_request_signature("GET", uri[len("/auth"):], None, None, sig, pubkeys):
                    request.setResponseCode(401)
                    return b'{"code":"NOT_AUTHORIZED","message":"Invalid signature"}'
            return body

    site = Site(Root(), timeout=300)
    site.noisy = False
    reactor.listenTCP(args.port, site, interface="127.0.0.1")
    print(f"baseline listening on {args.port}", flush=True)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
