"""Lock backends (:class:`bws.interfaces.Lock`): local.py, locker.py, redis.py; chosen by
``lockOpts.mode`` in bws/runtime.py ``make_lock``."""
