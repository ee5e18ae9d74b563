#!/usr/bin/env bash
# The test command: pytest on Twisted's asyncio reactor (set in pyproject.toml).
# Every server the tests need is started by the fixtures on free 127.0.0.1 ports.
#   ./run-tests.sh                # whole suite
#   ./run-tests.sh tests/integration/test_storage.py -k wallet
# pytest exits 5 when no test ran; that is a failure here, as any non-zero exit.
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/pytest ] || { echo "run-tests.sh: .venv is missing: run ./setup.sh first" >&2; exit 2; }
exec .venv/bin/pytest "$@"
