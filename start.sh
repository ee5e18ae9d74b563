#!/usr/bin/env bash
# Start every BWS-Twisted process in the background, supervised (crashed processes restart).
#   ./start.sh [--dev] [--config FILE]
# --dev also runs local regtest/ganache chains and an SMTP sink (no external service needed).
# Writes pids/ and logs/ here; prints one line per process; ./stop.sh stops everything.
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || { echo "start.sh: .venv is missing: run ./setup.sh first" >&2; exit 2; }
exec .venv/bin/python -m ops.supervisor start "$@"
