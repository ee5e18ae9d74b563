#!/usr/bin/env bash
# Stop every BWS-Twisted process started by ./start.sh and remove the pid files.
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || { echo "stop.sh: .venv is missing: run ./setup.sh first" >&2; exit 2; }
exec .venv/bin/python -m ops.supervisor stop "$@"
