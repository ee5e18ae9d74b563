"""Adapters: the code that talks to the outside world on the services' behalf.

Each implements a Protocol of bws/interfaces.py and is built once per process
by bws/runtime.py from the configuration:

* ``lock/`` -- per-wallet locks: local.py (``local``), locker.py (``locker``), redis.py (``redis``);
* ``broker/`` -- wake-up signals: local.py, ws.py (``websocket``), redis.py; base.py is what the
  network brokers share;
* ``explorers/`` -- chain backends: bitcoind.py, web3.py, erc20.py;
* bitcoind_rpc.py -- the one Bitcoin Core JSON-RPC client (explorer, BTC monitor, dev node);
* redis_conn.py -- the one Redis connection recipe; errors.py -- ExplorerError.

Adapters never import the services, the HTTP layer or the bootstrap (pyproject.toml import-linter).
"""
