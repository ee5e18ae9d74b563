"""``python -m bench.seed_history --mongo-uri URI --wallet-id ID --addresses N``.

Gives an existing wallet N more receive addresses in one go, the way
``create_address`` does (``derive_wallet_address`` advances the wallet's
index, ``storage.addresses.store_with_wallet`` stores them with the wallet), without N
HTTP round trips: 1,000 addresses over HTTP take ~40 s on SecantusDB.
"""

from __future__ import annotations

import argparse
import sys


async def seed(uri: str, wallet_id: str, n: int) -> None:
    from bws.model import Wallet
    from bws.service.addresses import derive_wallet_address
    from bws.storage import Storage

    storage = await Storage(uri).connect()
    wallet = Wallet.from_dict(await storage.wallets.fetch(wallet_id))
    addresses = [derive_wallet_address(wallet, False) for _ in range(n)]
    await storage.addresses.store_with_wallet(wallet.to_dict(for_storage=True), [a.to_dict() for a in addresses])
    await storage.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--mongo-uri", required=True)
    p.add_argument("--wallet-id", required=True)
    p.add_argument("--addresses", type=int, default=1000)
    a = p.parse_args(argv)
    from bws.reactor import install

    install()
    from twisted.internet import defer, task

    task.react(lambda _r: defer.ensureDeferred(seed(a.mongo_uri, a.wallet_id, a.addresses)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
