#!/usr/bin/env bash
# BWS-Twisted setup: installs everything the services and the test suite need.
# Debian 12, as root. Idempotent: run it again after pulling new changes.
#   ./setup.sh
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nsetup.sh: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root: it installs Debian packages (redis-server, litecoind, haproxy, chromium)"
command -v apt-get >/dev/null || fail "apt-get not found: setup.sh supports Debian 12"

# haproxy: tests/plugins/haproxy.py (API processes behind a load balancer);
# chromium: tests/plugins/browser.py (pages rendered headless);
# systemd: only for `systemd-analyze verify` of service units (nothing is started under
# systemd, and verify works without systemd as PID 1).
APT_PACKAGES=(redis-server litecoind wrk haproxy chromium systemd)
PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  if command -v python3.11 >/dev/null; then PYTHON=python3.11
  else APT_PACKAGES+=(python3 python3-venv python3-dev); PYTHON=python3; fi
fi
command -v node >/dev/null && command -v npm >/dev/null || APT_PACKAGES+=(nodejs npm)

step "Debian packages: ${APT_PACKAGES[*]}"
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -q || fail "apt-get update failed (is the Debian mirror reachable?)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" || fail "apt-get install ${missing[*]} failed"
else
  echo "already installed"
fi
command -v litecoind >/dev/null || fail "litecoind missing after install"
command -v redis-server >/dev/null || fail "redis-server missing after install"
for b in haproxy chromium systemd-analyze; do command -v "$b" >/dev/null || fail "$b missing after install"; done

step "Python virtual environment (.venv, $($PYTHON --version 2>&1))"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || fail "$PYTHON is not Python 3.11"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv || fail "could not create .venv (apt-get install python3-venv?)"

step "Python packages (pinned by constraints.txt)"
.venv/bin/python -m pip install -q --upgrade pip || fail "pip upgrade failed"
.venv/bin/python -m pip install -q -c constraints.txt -e '.[test,bench]' || fail "pip install failed (see the messages above)"

step "npm packages (ganache, solc, bitcore-wallet-client 6.7.5 + bwc10/bwc11, locker) from package-lock.json"
stamp=node_modules/.setup-stamp
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "up to date"
else
  # --ignore-scripts: bitcore-wallet-client 6.7.5 pulls phantomjs-prebuilt, whose install
  # script downloads a browser; nothing we use needs any package's install script.
  # The lock keeps each client's bitcore-lib a single copy: 6.7.5's tree is hoisted (one
  # bitcore-lib 0.15.0 at the top, which tests/interop/bwc_driver.js also loads) and the
  # bwc10/bwc11 aliases have their own trees under node_modules/bwc1x/node_modules (bitcore-lib
  # refuses to load twice in one process). To change it, edit package.json and run
  #   npm install --ignore-scripts --install-strategy=shallow
  # starting from this lock (shallow places only the new trees; the existing ones stay put).
  # "cbor-extract": "2.2.2" (an optional native accelerator deep in bwc11's tree) is pinned
  # because the registry here has no @cbor-extract/* 2.2.3 platform packages, and without
  # their lock entries npm ci refuses the lock.
  npm ci --ignore-scripts --no-audit --no-fund || fail "npm ci failed"
  echo "$want" > "$stamp"
fi

step "Check"
.venv/bin/python -c 'import twisted, klein, pymongo, coincurve, bip32, web3; print("python deps ok")' || fail "python imports failed"
node -e 'require("bitcore-wallet-client"); console.log("bitcore-wallet-client ok")' || fail "bitcore-wallet-client does not load"
# Each client in its own process: two bitcore-lib versions never load in one.
for alias in bwc10 bwc11; do
  node -e "require('$alias'); console.log('$alias: bitcore-wallet-client', require('$alias/package.json').version, 'ok')" \
    || fail "$alias (bitcore-wallet-client alias) does not load"
done
[ -x node_modules/.bin/ganache ] || fail "ganache missing from node_modules"
check_dir=$(mktemp -d)
trap 'rm -rf "$check_dir"' EXIT
haproxy -c -f /dev/stdin >/dev/null <<<$'defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\nlisten t\n  bind 127.0.0.1:1\n  server s 127.0.0.1:1 check' \
  || fail "haproxy -c rejects a minimal configuration (see its messages above)"
echo "$(haproxy -v | head -1) ok"
# The flags tests/plugins/browser.py passes; a page's script must have run.
dom=$(timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$check_dir/chromium" \
  --dump-dom 'data:text/html,<p id=p></p><script>document.getElementById("p").textContent="rendered"</script>' 2>"$check_dir/chromium.log") \
  || fail "headless chromium failed: $(tail -3 "$check_dir/chromium.log")"
grep -q '>rendered<' <<<"$dom" || fail "headless chromium did not run the page's script: $dom"
echo "$(chromium --version 2>/dev/null) headless ok"
printf '[Unit]\nDescription=setup.sh check\n[Service]\nExecStart=/bin/true\n' >"$check_dir/setup-check.service"
systemd-analyze verify "$check_dir/setup-check.service" || fail "systemd-analyze verify fails on a minimal unit"
echo "$(systemd-analyze --version | head -1): verify ok"
echo
echo "setup complete. Run the tests with: ./run-tests.sh"
