"""Operator tools, outside the library package (no production module imports them).

* :mod:`ops.supervisor`  -- ``./start.sh`` / ``./stop.sh``: start, supervise and stop every process;
* :mod:`ops.embedded_db` -- the embedded SecantusDB server used when ``storageOpts.mongoDb.uri`` is empty;
* :mod:`ops.lock_cli`    -- take a wallet lock through the configured backend (operators, tests).

Each has ``python -m ops.<name> --help``. ``ops.supervisor --dev`` uses devtools/devstack.py
(the dependency goes one way: ops -> devtools, never back).
"""
