"""``python -m bws.lock_cli TOKEN``: take a wallet lock through the configured backend.

For operators (is the locker / Redis lock working? who holds wallet X?) and
for the multi-process tests. Prints one line per event on stdout:

* ``GRANTED <token>`` once the lock is held (then holds it ``--hold`` seconds;
  a negative value holds until the process is killed);
* ``RELEASED <token>`` after releasing it; exit status 0;
* ``WALLET_BUSY <message>`` when the lock was not granted within ``--wait``
  seconds (the same ClientError API clients get); exit status 3.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    from bws.reactor import install

    install()
    parser = argparse.ArgumentParser(prog="python -m bws.lock_cli", description=__doc__.split("\n\n")[0])
    parser.add_argument("token", help="lock name (a wallet id)")
    parser.add_argument("--config", help="JSON configuration file (lockOpts, redis.url)")
    parser.add_argument("--mode", choices=["locker", "redis", "local"], help="override lockOpts.mode")
    parser.add_argument("--wait", type=float, help="seconds to wait for the lock (default lockOpts.waitTime)")
    parser.add_argument("--hold", type=float, default=0.0, help="seconds to hold it; negative = until killed")
    parser.add_argument("--max-hold", type=float, help="server-side hold limit (default lockOpts.maxHoldTime)")
    args = parser.parse_args(argv)

    from twisted.internet import reactor, task
    from twisted.internet.defer import Deferred

    from bws.config import ConfigError, load_config
    from bws.errors import ClientError
    from bws.lock import make_lock, run_locked

    try:
        cfg = load_config(args.config)
    except ConfigError as e:
        print(f"lock_cli: configuration error: {e}", file=sys.stderr)
        return 2
    if args.mode:
        cfg.lockOpts.mode = args.mode
    lock = make_lock(cfg, reactor)
    wait = args.wait if args.wait is not None else cfg.lockOpts.waitTime
    max_hold = args.max_hold if args.max_hold is not None else cfg.lockOpts.maxHoldTime
    status = {"code": 1}

    async def held() -> None:
        print(f"GRANTED {args.token}", flush=True)
        if args.hold < 0:
            await Deferred()  # until killed
        elif args.hold > 0:
            await task.deferLater(reactor, args.hold, lambda: None)

    async def go() -> None:
        try:
            await run_locked(lock, args.token, held, wait_time=wait, max_hold=max_hold)
            print(f"RELEASED {args.token}", flush=True)
            status["code"] = 0
        except ClientError as e:
            print(f"{e.code} {e.message}", flush=True)
            status["code"] = 3 if e.code == "WALLET_BUSY" else 1
        # give the fire-and-forget release a moment to reach the server
        await task.deferLater(reactor, 0.1, lambda: None)

    def run() -> None:
        d = Deferred.fromCoroutine(go())
        d.addErrback(lambda f: (print(f"ERROR {f.getErrorMessage()}", file=sys.stderr), f.printTraceback()))
        d.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(run)
    reactor.run()
    return status["code"]


if __name__ == "__main__":
    sys.exit(main())
