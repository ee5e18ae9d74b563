"""Broker backends (:class:`bws.interfaces.Broker`): local.py, ws.py, redis.py; chosen by
``messageBrokerOpts.mode`` in bws/runtime.py ``make_broker``."""
