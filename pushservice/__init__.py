"""Push notifications: ``python -m pushservice`` (see pushservice/service.py)."""
