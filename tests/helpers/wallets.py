"""Create and join wallets through a the services (tests/helpers/services.py) (like the reference's
``helpers.createAndJoinWallet``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from tests.helpers.keys import CopayerKeys, WalletKey


def join_opts(wallet_id: str, key: WalletKey, copayer: CopayerKeys, name: str = "copayer", **extra: Any) -> dict:
    """Body of a join request for ``copayer`` signed with the wallet key."""
    return {
        "walletId": wallet_id,
        "name": name,
        "xPubKey": copayer.xpub,
        "requestPubKey": copayer.request_pub,
        "copayerSignature": key.copayer_signature(name, copayer.xpub, copayer.request_pub),
        "customData": f"custom data {name}",
        **extra,
    }


@dataclass
class TestWallet:
    id: str
    key: WalletKey
    copayers: list[CopayerKeys]
    copayer_ids: list[str] = field(default_factory=list)
    result: Optional[dict] = None

    __test__ = False

    def as_copayer(self, service, i: int = 0):
        """The service bound to copayer ``i``."""
        return service.bind(self.id, self.copayer_ids[i])


async def create_and_join(
    service,
    m: int = 1,
    n: int = 1,
    *,
    coin: str = "btc",
    network: str = "livenet",
    bip44: bool = True,
    copayers: Optional[Sequence[CopayerKeys]] = None,
    key: Optional[WalletKey] = None,
    single_address: bool = False,
    join: Optional[int] = None,
) -> TestWallet:
    """Create an m-of-n wallet and join ``join`` (default n) copayers."""
    key = key or WalletKey.random()
    derivation = "BIP44" if bip44 else "BIP45"
    copayers = list(copayers) if copayers else [CopayerKeys.random(network, derivation) for _ in range(n)]
    opts = {"name": "my wallet", "m": m, "n": n, "pubKey": key.pub, "coin": coin, "network": network,
            "singleAddress": single_address}
    if not bip44:
        opts["supportBIP44AndP2PKH"] = False
    res = await service.create_wallet(opts)
    w = TestWallet(res["walletId"], key, copayers)
    for i, c in enumerate(copayers[: n if join is None else join]):
        extra = {"coin": coin}
        if not bip44:
            extra["supportBIP44AndP2PKH"] = False
        r = await service.join_wallet(join_opts(w.id, key, c, name=f"copayer {i + 1}", **extra))
        w.copayer_ids.append(r["copayerId"])
        w.result = r
    return w
