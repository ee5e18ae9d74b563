"""Fiat-rate service process: ``python -m fiatrateservice`` (see fiatrateservice/service.py)."""
