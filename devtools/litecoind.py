"""A litecoind regtest node for tests and ``start.sh --dev``.

Litecoin Core 0.21 is a Bitcoin Core fork with the same RPC, P2P framing (regtest
magic ``fabfb5da``) and script rules, so it stands in for a Bitcoin node.
Gotchas (docs/spec/toolchain.md §3) that shape this module:

* **Addresses are re-encoded by RPC.** A Bitcoin testnet P2SH ``2…`` address is
  accepted by ``sendtoaddress`` but every RPC answer shows it as Litecoin's
  ``Q…`` form (version byte 0x3a instead of 0xc4). P2PKH ``m…/n…`` stay as is.
  Compare outputs by ``scriptPubKey`` hex (or hash160), never by address text.
* **MWEB activates at height 432** on regtest: mining block 432 needs a peg-in,
  and afterwards raw RPC blocks carry an MWEB extension a Bitcoin parser cannot
  read. :meth:`RegtestNode.mine` therefore refuses to go past height
  :data:`MAX_HEIGHT` (431).
* **No ZMQ** is compiled in: watch the chain over P2P (:attr:`RegtestNode.p2p_address`)
  or by polling RPC.

The node runs in the foreground under :class:`~devtools.process.ManagedProcess`
(never ``-daemon``) so its whole process group can be killed.

Command line (dev mode)::

    python -m devtools.litecoind --datadir ./data/litecoind --rpc-port 19443 --p2p-port 19444
"""

from __future__ import annotations

import argparse
import base64
import json
import signal
import sys
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any, List, Optional, Sequence, Union

from bws.adapters.bitcoind_rpc import RpcError, answer_result, request_body
from devtools.process import ManagedProcess, require_binary

__all__ = ["RegtestNode", "RpcError", "MAX_HEIGHT", "INITIAL_HEIGHT"]

#: Highest block the helpers will mine: MWEB activates at 432 (see module doc).
MAX_HEIGHT = 431
#: Height after :meth:`RegtestNode.ensure_funded`: 101 blocks make the first
#: coinbase (50 LTC) mature, so the node wallet can spend.
INITIAL_HEIGHT = 101
#: Name of the node wallet that receives coinbases and pays :meth:`RegtestNode.fund`.
WALLET = "miner"

Amount = Union[int, float, str, Decimal]



def _btc_string(amount: Amount) -> str:
    """Fixed-point coin amount with 8 decimals, e.g. ``"1.50000000"``.

    Sent as a JSON string (Bitcoin Core's AmountFromValue accepts strings) so no
    float rounding can change the amount.
    """
    return format(Decimal(str(amount)).quantize(Decimal("0.00000001")), "f")


class RegtestNode:
    """One litecoind regtest node with its own datadir, RPC and P2P port.

    ``datadir``: directory (created) holding ``litecoin.conf``, the chain and wallets.
    ``rpc_port`` / ``p2p_port``: TCP ports on 127.0.0.1.
    ``log_dir``: where the process output goes (``litecoind.log``); default ``datadir``.

    Amounts passed to and returned by RPC are LTC ("btc" unit, 8 decimals);
    answers are parsed with ``Decimal`` for floats, so ``getbalance`` returns a
    ``Decimal``.
    """

    def __init__(
        self,
        datadir: Union[str, Path],
        rpc_port: int,
        p2p_port: int,
        rpc_user: str = "bws",
        rpc_password: str = "bwspass",
        log_dir: Optional[Union[str, Path]] = None,
        binary: Optional[str] = None,
        extra_args: Sequence[str] = (),
        timeout: float = 60.0,
    ):
        self.datadir = Path(datadir).resolve()
        self.rpc_port = rpc_port
        self.p2p_port = p2p_port
        self.rpc_user = rpc_user
        self.rpc_password = rpc_password
        self.log_dir = Path(log_dir).resolve() if log_dir else self.datadir
        self.binary = binary
        self.extra_args = list(extra_args)
        self.timeout = timeout
        self.process: Optional[ManagedProcess] = None
        #: Address (``rltc1…`` bech32) that receives mined coinbases; set by ensure_funded().
        self.mining_address: Optional[str] = None

    # -- addresses -----------------------------------------------------------

    @property
    def conf_path(self) -> Path:
        return self.datadir / "litecoin.conf"

    @property
    def rpc_url(self) -> str:
        """``http://user:pass@127.0.0.1:port`` (node-level, no wallet path)."""
        return f"http://{self.rpc_user}:{self.rpc_password}@127.0.0.1:{self.rpc_port}"

    @property
    def wallet_rpc_url(self) -> str:
        """RPC URL of the node wallet (``…/wallet/miner``)."""
        return f"{self.rpc_url}/wallet/{WALLET}"

    @property
    def p2p_address(self) -> tuple:
        """``("127.0.0.1", p2p_port)``: where a Bitcoin-protocol peer connects (magic fabfb5da)."""
        return ("127.0.0.1", self.p2p_port)

    # -- lifecycle -----------------------------------------------------------

    def write_conf(self) -> Path:
        """Write ``litecoin.conf``. Network options must sit in ``[regtest]``:
        since Core 0.17 ports/binds outside the section are ignored off mainnet."""
        self.datadir.mkdir(parents=True, exist_ok=True)
        self.conf_path.write_text(
            "\n".join(
                [
                    "regtest=1",
                    "server=1",
                    "txindex=1",
                    # Regtest has no fee estimates; without a fallback sendtoaddress fails.
                    "fallbackfee=0.0002",
                    f"rpcuser={self.rpc_user}",
                    f"rpcpassword={self.rpc_password}",
                    "[regtest]",
                    "rpcbind=127.0.0.1",
                    "rpcallowip=127.0.0.1",
                    f"rpcport={self.rpc_port}",
                    "bind=127.0.0.1",
                    f"port={self.p2p_port}",
                    "listen=1",
                    # Otherwise 0.21 also binds its Tor onion target 127.0.0.1:19444 (the default
                    # regtest P2P port), clashing with ./start.sh --dev and other nodes.
                    "listenonion=0",
                    # Offline machine: never try DNS seeds or outbound peers.
                    "dnsseed=0",
                    "",
                ]
            )
        )
        return self.conf_path

    def argv(self) -> List[str]:
        binary = require_binary("litecoind", self.binary)
        return [binary, f"-datadir={self.datadir}", f"-conf={self.conf_path}", *self.extra_args]

    def _ready(self) -> bool:
        # Answers -28 "Loading…" while warming up; rpc() raises then.
        self.rpc("getblockcount")
        return True

    def start(self) -> "RegtestNode":
        """Write the conf, start litecoind and wait until RPC answers. Returns self."""
        self.write_conf()
        self.process = ManagedProcess(
            "litecoind", self.argv(), self._ready, self.log_dir, timeout=self.timeout
        ).start()
        return self

    def stop(self) -> None:
        """Ask the node to shut down (flushes wallet and chain), then stop the process group."""
        if self.process and self.process.alive():
            try:
                self.rpc("stop")
                self.process.proc.wait(15)
            except Exception:
                pass  # fall through to SIGTERM/SIGKILL below
        if self.process:
            self.process.stop()

    def __enter__(self) -> "RegtestNode":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- RPC -----------------------------------------------------------------

    def rpc(self, method: str, *params: Any, wallet: Optional[str] = None, timeout: float = 30.0) -> Any:
        """Call one JSON-RPC method and return its ``result``.

        ``wallet``: wallet name for wallet RPCs when several wallets are loaded
        (posted to ``/wallet/<name>``). Floats in the answer come back as
        ``Decimal``. Raises :class:`RpcError` on an error answer. Synchronous (tests
        and the dev launcher call it from plain code); the JSON-RPC framing and the
        error are the service's own (bws/adapters/bitcoind_rpc.py).
        """
        path = f"/wallet/{wallet}" if wallet is not None else "/"
        body = json.dumps(request_body(method, params, method))
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.rpc_port}{path}",
            data=body.encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": "Basic "
                + base64.b64encode(f"{self.rpc_user}:{self.rpc_password}".encode()).decode(),
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            # Core answers RPC errors with HTTP 500 (404 for unknown method) and a JSON body.
            raw = e.read()
            if not raw:
                raise
        return answer_result(json.loads(raw, parse_float=Decimal), method, f"127.0.0.1:{self.rpc_port}")

    # -- wallet and chain helpers ---------------------------------------------

    def height(self) -> int:
        return self.rpc("getblockcount")

    def ensure_wallet(self) -> None:
        """Create (or, on an existing datadir, load) the ``miner`` wallet."""
        if WALLET in self.rpc("listwallets"):
            return
        try:
            self.rpc("loadwallet", WALLET)
        except RpcError:
            self.rpc("createwallet", WALLET)

    def ensure_funded(self) -> "RegtestNode":
        """Make the node wallet spendable: wallet loaded, chain at least at
        height 101 (first coinbase mature). Idempotent across restarts."""
        self.ensure_wallet()
        if self.mining_address is None:
            self.mining_address = self.rpc("getnewaddress", "", "bech32", wallet=WALLET)
        missing = INITIAL_HEIGHT - self.height()
        if missing > 0:
            self.mine(missing)
        return self

    def balance(self) -> Decimal:
        """Spendable (trusted, confirmed) balance of the node wallet in LTC."""
        return self.rpc("getbalance", wallet=WALLET)

    def new_address(self, address_type: str = "legacy") -> str:
        """A fresh node-wallet address: ``legacy`` (m/n…), ``p2sh-segwit`` (Q…) or ``bech32`` (rltc1…)."""
        return self.rpc("getnewaddress", "", address_type, wallet=WALLET)

    def fund(self, address: str, btc: Amount) -> str:
        """Pay ``btc`` LTC (e.g. ``1.5`` or ``"0.001"``) from the node wallet to
        ``address`` and return the txid (hex). Unconfirmed until :meth:`mine`.

        ``address`` may be Bitcoin-testnet form (``m/n…``, ``2…``); the RPC shows
        a ``2…`` output back as ``Q…`` (see module doc)."""
        return self.rpc("sendtoaddress", address, _btc_string(btc), wallet=WALLET)

    def mine(self, n: int = 1) -> List[str]:
        """Mine ``n`` blocks to the node wallet and return their hashes (hex,
        oldest first). Raises ``ValueError`` rather than reach height 432 (MWEB)."""
        if n < 1:
            raise ValueError("mine(n) needs n >= 1")
        height = self.height()
        if height + n > MAX_HEIGHT:
            raise ValueError(
                f"refusing to mine to height {height + n}: MWEB activates at {MAX_HEIGHT + 1} "
                "and changes the raw block format (docs/spec/toolchain.md §3)"
            )
        if self.mining_address is None:
            self.ensure_wallet()
            self.mining_address = self.rpc("getnewaddress", "", "bech32", wallet=WALLET)
        return self.rpc("generatetoaddress", n, self.mining_address, wallet=WALLET)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.litecoind",
        description="Run a litecoind regtest node in the foreground with a funded 'miner' "
        "wallet at height >= 101 (dev mode). Ctrl-C / SIGTERM stops it cleanly.",
    )
    parser.add_argument("--datadir", required=True, help="node data directory (created)")
    parser.add_argument("--rpc-port", type=int, default=19443, help="JSON-RPC port (default 19443)")
    parser.add_argument("--p2p-port", type=int, default=19444, help="P2P port (default 19444)")
    parser.add_argument("--rpc-user", default="bws")
    parser.add_argument("--rpc-password", default="bwspass")
    parser.add_argument("--log-dir", help="where litecoind.log goes (default: the datadir)")
    args = parser.parse_args(argv)

    node = RegtestNode(
        args.datadir, args.rpc_port, args.p2p_port, args.rpc_user, args.rpc_password, log_dir=args.log_dir
    )
    stopping = []
    # SIGTERM (stop.sh) must take the same clean path as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    node.start().ensure_funded()
    print(
        json.dumps(
            {
                "rpcUrl": node.rpc_url,
                "walletRpcUrl": node.wallet_rpc_url,
                "p2p": f"127.0.0.1:{node.p2p_port}",
                "height": node.height(),
                "balance": str(node.balance()),
            }
        ),
        flush=True,
    )
    try:
        while not stopping and node.process.alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    crashed = not node.process.alive()
    node.stop()
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
