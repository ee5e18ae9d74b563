"""Local servers for development and tests: real chains and an SMTP sink.

* :mod:`devtools.process`   – ManagedProcess, free_port, … (generic process runner)
* :mod:`devtools.litecoind` – RegtestNode: litecoind regtest with a funded wallet
* :mod:`devtools.ganache`   – GanacheChain ("eth" 1337, "tri" 31337) + the TRY ERC20 token
* :mod:`devtools.smtpsink`  – an ESMTP sink (in-reactor or as a process writing a maildir)

Each runnable module has ``python -m devtools.<name> --help`` for ``start.sh --dev``.
Nothing here is used by the production services.
"""
