"""The embedded default database: a SecantusDB server on loopback.

When ``storageOpts.mongoDb.uri`` is empty, every process connects to
``mongodb://<embedded.host>:<embedded.port>/<embedded.dbName>``, and this
launcher (run by start.sh) serves it: SecantusDB speaks the MongoDB wire
protocol, so the same pymongo code path runs here and against production
MongoDB. Nothing else in the project knows which server it talks to.

    python -m ops.embedded_db [--config FILE] [--data-path DIR] [--port N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from bws.config import ConfigError, load_config


def secantus_binary() -> str:
    """Path of the ``secantusd-py`` launcher installed with the Python dependencies."""
    beside = Path(sys.executable).with_name("secantusd-py")
    if beside.exists():
        return str(beside)
    found = shutil.which("secantusd-py")
    if not found:
        raise SystemExit("secantusd-py not found: run ./setup.sh (it installs the Python dependencies)")
    return found


def server_argv(host: str, port: int, data_path: str, test_commands: bool = False) -> list[str]:
    """Command line of a standalone SecantusDB server (``data_path`` ':memory:' = ephemeral)."""
    argv = [secantus_binary(), "--host", host, "--port", str(port), "--storage-path", data_path, "--standalone"]
    if test_commands:
        argv.append("--enable-test-commands")
    return argv


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ops.embedded_db",
        description="Run the embedded MongoDB-compatible database (SecantusDB) used when no MongoDB URI is configured.",
    )
    parser.add_argument("--config", help="config file (default: $BWS_CONFIG or ./config.json)")
    parser.add_argument("--data-path", help="data directory (default: storageOpts.embedded.dataPath, ./data/db)")
    parser.add_argument("--host", help="listen address (default: storageOpts.embedded.host)")
    parser.add_argument("--port", type=int, help="listen port (default: storageOpts.embedded.port, 27017)")
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config)
    except ConfigError as e:
        raise SystemExit(f"configuration error: {e}")
    emb = cfg.storageOpts.embedded
    data_path = args.data_path or emb.dataPath
    if data_path != ":memory:":
        os.makedirs(data_path, exist_ok=True)
    cmd = server_argv(args.host or emb.host, args.port or emb.port, data_path)
    print(f"embedded_db: serving {data_path} on {args.host or emb.host}:{args.port or emb.port}", flush=True)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()
