"""E-mail notifications: ``python -m emailservice`` (see emailservice/service.py)."""
