"""Shared test helpers: copayer keys (keys.py), wallet set-up through the
service (wallets.py), a signing HTTP client like bwc (client.py), and fixtures
that build a WalletService and serve the API on a free port (fixtures.py),
direct database reads and writes for what the storage API does not offer (db.py)."""
