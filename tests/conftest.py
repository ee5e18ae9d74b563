"""Test configuration: every server a test needs is started here, for real.

Plugins, one per kind of server, so each stays small:
- tests.plugins.db     SecantusDB (MongoDB wire protocol) and redis-server
- tests.plugins.chains litecoind regtest and two ganache chains (+ the TRY token)
- tests.plugins.mail   an SMTP sink
- tests.plugins.push   fake FCM/APNs and a webhook receiver
- tests.plugins.haproxy  HAProxy in front of backend ports (load balancing, health checks)
- tests.plugins.browser  headless Chromium: a page's DOM and a PNG screenshot
"""

pytest_plugins = [
    "tests.plugins.db",
    "tests.plugins.chains",
    "tests.plugins.mail",
    "tests.plugins.push",
    "tests.plugins.haproxy",
    "tests.plugins.browser",
]
