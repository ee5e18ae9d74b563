"""Local servers for development and tests: real chains and an SMTP sink.

* :mod:`bws.devtools.process`   – ManagedProcess, free_port, … (generic process runner)
* :mod:`bws.devtools.litecoind` – RegtestNode: litecoind regtest with a funded wallet
* :mod:`bws.devtools.ganache`   – GanacheChain ("eth" 1337, "tri" 31337) + the TRY ERC20 token
* :mod:`bws.devtools.smtpsink`  – an ESMTP sink (in-reactor or as a process writing a maildir)

Each runnable module has ``python -m bws.devtools.<name> --help`` for ``start.sh --dev``.
Nothing here is used by the production services.
"""
