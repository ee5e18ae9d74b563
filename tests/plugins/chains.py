"""Session fixtures for real local chains: litecoind regtest and two ganache chains.

* ``litecoind`` -> :class:`devtools.litecoind.RegtestNode`, started, ``miner``
  wallet funded, chain at height 101 when the session starts (tests that mine move
  it on; the node refuses to pass height 431). Use ``rpc()``, ``rpc_url``,
  ``wallet_rpc_url``, ``p2p_address``, ``fund(address, btc) -> txid``,
  ``mine(n) -> [block hash]``, ``new_address()``, ``height()``, ``balance()``.
* ``ganache_eth`` / ``ganache_tri`` -> :class:`devtools.ganache.GanacheChain`
  (chain ids 1337 / 31337): ``url``, ``chain_id``, ``w3``, ``accounts``,
  ``private_key(i)``, ``rpc()``, ``mine(n)``.
* ``try_token`` -> checksummed address (str) of the TRY ERC20 on ``ganache_eth``;
  all supply (1e9 TRY = 10**27 units) belongs to ``ganache_eth.accounts[0]``.

Chains are shared by the whole session: derive fresh addresses per test instead
of assuming balances. A missing binary raises "... run ./setup.sh": these
fixtures fail, they never skip.
"""

import pytest

from devtools.ganache import GanacheChain, deploy_try_token
from devtools.litecoind import RegtestNode
from devtools.process import free_port


@pytest.fixture(scope="session")
def chain_logs(tmp_path_factory):
    """Directory holding every chain process log (kept by pytest for post-mortems)."""
    return tmp_path_factory.mktemp("chain-logs")


@pytest.fixture(scope="session")
def litecoind(tmp_path_factory, chain_logs):
    node = RegtestNode(
        tmp_path_factory.mktemp("litecoind"), rpc_port=free_port(), p2p_port=free_port(), log_dir=chain_logs
    )
    node.start()
    try:
        node.ensure_funded()
        yield node
    finally:
        node.stop()


def _ganache(name, chain_logs):
    chain = GanacheChain(name, free_port(), chain_logs)
    chain.start()
    return chain


@pytest.fixture(scope="session")
def ganache_eth(chain_logs):
    chain = _ganache("eth", chain_logs)
    yield chain
    chain.stop()


@pytest.fixture(scope="session")
def ganache_tri(chain_logs):
    chain = _ganache("tri", chain_logs)
    yield chain
    chain.stop()


@pytest.fixture(scope="session")
def try_token(ganache_eth):
    return deploy_try_token(ganache_eth)
