"""Local Ethereum chains (ganache 7.9.2 from npm) for tests and ``start.sh --dev``.

Two chains run side by side, each its own process, port and chain id:

* ``eth``: the Ethereum stand-in, chain id :data:`CHAIN_IDS` ``["eth"]`` = 1337;
* ``tri``: the Trias stand-in, chain id ``CHAIN_IDS["tri"]`` = 31337.

Both use the well-known test mnemonic :data:`MNEMONIC`, so accounts are
deterministic: account *i* is ``m/44'/60'/0'/0/i`` (10 accounts, 1000 ETH each,
unlocked in ganache so ``eth_sendTransaction`` from them works). Blocks are mined
instantly per transaction (``--miner.instamine eager``).

The TRY token (ERC20, symbol ``TRY``, name ``Trias Token``, 18 decimals) is
compiled ahead of time into ``contracts/TryToken.json`` (solc at evmVersion
``shanghai``: ganache cannot run cancun bytecode, docs/spec/toolchain.md §4); deploy
it with :func:`deploy_try_token`.

Command line (dev mode)::

    python -m devtools.ganache --chain eth --port 8545 --deploy-try
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, List, Optional, Sequence, Union

from devtools.process import ManagedProcess, node_bin

__all__ = [
    "CHAIN_IDS",
    "MNEMONIC",
    "TRY_ARTIFACT",
    "TRY_INITIAL_SUPPLY",
    "GanacheChain",
    "load_try_artifact",
    "deploy_try_token",
    "try_token_contract",
]

#: Chain ids per chain name; distinct so a signed tx for one cannot replay on the other.
CHAIN_IDS = {"eth": 1337, "tri": 31337}
#: The shared test mnemonic (hardhat/foundry default); NEVER use it for real funds.
MNEMONIC = "test test test test test test test test test test test junk"
#: Number of funded accounts ganache derives from the mnemonic.
ACCOUNT_COUNT = 10
#: Compiled TryToken ({abi, bytecode, deployedBytecode, compiler, evmVersion}).
TRY_ARTIFACT = Path(__file__).resolve().parent / "contracts" / "TryToken.json"
#: Default supply minted to accounts[0]: 1e9 TRY in smallest units (18 decimals).
TRY_INITIAL_SUPPLY = 10**9 * 10**18


class GanacheChain:
    """One ganache process.

    ``name``: ``"eth"`` or ``"tri"`` (picks the default chain id) or any label
    when ``chain_id`` is given. ``port``: HTTP JSON-RPC port on 127.0.0.1.
    ``log_dir``: where ``ganache-<name>.log`` goes.
    """

    def __init__(
        self,
        name: str,
        port: int,
        log_dir: Union[str, Path],
        chain_id: Optional[int] = None,
        timeout: float = 60.0,
    ):
        if chain_id is None:
            if name not in CHAIN_IDS:
                raise ValueError(f"unknown chain {name!r}: pass chain_id or use one of {sorted(CHAIN_IDS)}")
            chain_id = CHAIN_IDS[name]
        self.name = name
        self.port = port
        self.chain_id = chain_id
        self.log_dir = Path(log_dir)
        self.timeout = timeout
        self.process: Optional[ManagedProcess] = None
        self._w3 = None

    @property
    def url(self) -> str:
        """HTTP JSON-RPC endpoint, ``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def argv(self) -> List[str]:
        return [
            node_bin("ganache"),
            "--chain.chainId", str(self.chain_id),
            # Also pin the net_version to the chain id so both answers agree.
            "--chain.networkId", str(self.chain_id),
            "--wallet.mnemonic", MNEMONIC,
            "--wallet.totalAccounts", str(ACCOUNT_COUNT),
            "--server.host", "127.0.0.1",
            "--server.port", str(self.port),
            "--miner.instamine", "eager",
            "--logging.quiet",
        ]  # fmt: skip

    def rpc(self, method: str, *params: Any, timeout: float = 10.0) -> Any:
        """Raw JSON-RPC call; returns ``result`` (hex strings as ganache sends them)."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
        req = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            answer = json.loads(resp.read())
        if "error" in answer:
            raise RuntimeError(f"{self.name} {method}: {answer['error']}")
        return answer["result"]

    def _ready(self) -> bool:
        return int(self.rpc("eth_chainId", timeout=1.0), 16) == self.chain_id

    def start(self) -> "GanacheChain":
        """Start ganache and wait until ``eth_chainId`` answers with our chain id."""
        self.process = ManagedProcess(
            f"ganache-{self.name}", self.argv(), self._ready, self.log_dir, timeout=self.timeout
        ).start()
        return self

    def stop(self) -> None:
        if self.process:
            self.process.stop()

    def __enter__(self) -> "GanacheChain":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- web3 helpers ----------------------------------------------------------

    @property
    def w3(self):
        """A synchronous ``web3.Web3`` on :attr:`url` (created once)."""
        if self._w3 is None:
            from web3 import Web3

            self._w3 = Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 30}))
        return self._w3

    @property
    def accounts(self) -> List[str]:
        """The 10 unlocked, funded accounts (EIP-55 checksummed ``0x…``)."""
        return list(self.w3.eth.accounts)

    @staticmethod
    def private_key(index: int) -> str:
        """Hex private key (``0x…``) of account ``index`` (path m/44'/60'/0'/0/index)."""
        from eth_account import Account

        Account.enable_unaudited_hdwallet_features()
        return Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}").key.to_0x_hex()

    def mine(self, n: int = 1) -> int:
        """Mine ``n`` empty blocks (``evm_mine``); returns the new block number."""
        for _ in range(n):
            self.rpc("evm_mine")
        return int(self.rpc("eth_blockNumber"), 16)


def load_try_artifact() -> dict:
    """The committed compile output: ``{"abi": [...], "bytecode": "0x…", ...}``."""
    return json.loads(TRY_ARTIFACT.read_text())


def deploy_try_token(chain: GanacheChain, initial_supply: int = TRY_INITIAL_SUPPLY, deployer: Optional[str] = None) -> str:
    """Deploy TryToken on ``chain`` from ``deployer`` (default accounts[0]), who
    receives ``initial_supply`` smallest units. Returns the checksummed contract address."""
    art = load_try_artifact()
    w3 = chain.w3
    deployer = deployer or w3.eth.accounts[0]
    contract = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
    tx_hash = contract.constructor(initial_supply).transact({"from": deployer})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    if receipt["status"] != 1:
        raise RuntimeError(f"TryToken deploy failed on {chain.name}: {receipt}")
    return receipt["contractAddress"]


def try_token_contract(chain: GanacheChain, address: str):
    """A web3 contract object for a deployed TryToken at ``address``."""
    return chain.w3.eth.contract(address=address, abi=load_try_artifact()["abi"])


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.ganache",
        description="Run one local ganache chain in the foreground (dev mode). "
        f"Chains: {', '.join(f'{k} (chain id {v})' for k, v in CHAIN_IDS.items())}. "
        f"Accounts come from the test mnemonic '{MNEMONIC}'.",
    )
    parser.add_argument("--chain", choices=sorted(CHAIN_IDS), default="eth", help="which chain (default eth)")
    parser.add_argument("--port", type=int, default=8545, help="JSON-RPC port (default 8545)")
    parser.add_argument("--chain-id", type=int, help="override the chain id")
    parser.add_argument("--log-dir", default="./logs", help="where ganache-<chain>.log goes (default ./logs)")
    parser.add_argument(
        "--deploy-try", action="store_true", help="deploy the TRY ERC20 token and print its address"
    )
    args = parser.parse_args(argv)

    chain = GanacheChain(args.chain, args.port, args.log_dir, chain_id=args.chain_id)
    stopping = []
    # SIGTERM (stop.sh) must take the same clean path as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    chain.start()
    info = {"chain": chain.name, "chainId": chain.chain_id, "url": chain.url}
    if args.deploy_try:
        info["tryToken"] = deploy_try_token(chain)
    print(json.dumps(info), flush=True)
    try:
        while not stopping and chain.process.alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    crashed = not chain.process.alive()
    chain.stop()
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
