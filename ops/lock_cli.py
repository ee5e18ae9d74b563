"""``python -m ops.lock_cli TOKEN``: take a wallet lock through the configured backend.

For operators (is the locker / Redis lock working? who holds wallet X?) and
for the multi-process tests. Prints one line per event on stdout:

* ``GRANTED <token>`` once the lock is held (then holds it ``--hold`` seconds;
  a negative value holds until the process is killed);
* ``RELEASED <token>`` after releasing it; exit status 0;
* ``WALLET_BUSY <message>`` when the lock was not granted within ``--wait``
  seconds (the same ClientError API clients get); exit status 3.

Bootstrap and lock factory: bws/runtime.py (the same ``make_lock`` the API uses).
"""

from __future__ import annotations

import sys


def add_args(p) -> None:
    p.add_argument("token", help="lock name (a wallet id)")
    p.add_argument("--mode", choices=["locker", "redis", "local"], help="override lockOpts.mode")
    p.add_argument("--wait", type=float, help="seconds to wait for the lock (default lockOpts.waitTime)")
    p.add_argument("--hold", type=float, default=0.0, help="seconds to hold it; negative = until killed")
    p.add_argument("--max-hold", type=float, help="server-side hold limit (default lockOpts.maxHoldTime)")


def configure(cfg, args) -> None:
    if args.mode:
        cfg.lockOpts.mode = args.mode


async def build(cfg, deps):
    """Take the lock, hold it, release it; always ends with ``deps.exit(status)``."""
    from twisted.internet import task
    from twisted.internet.defer import Deferred

    from bws.errors import ClientError
    from bws.interfaces import run_locked

    args, reactor = deps.args, deps.reactor
    lock = deps.lock()
    wait = args.wait if args.wait is not None else cfg.lockOpts.waitTime
    max_hold = args.max_hold if args.max_hold is not None else cfg.lockOpts.maxHoldTime

    async def held() -> None:
        print(f"GRANTED {args.token}", flush=True)
        if args.hold < 0:
            await Deferred()  # until killed
        elif args.hold > 0:
            await task.deferLater(reactor, args.hold, lambda: None)

    try:
        await run_locked(lock, args.token, held, wait_time=wait, max_hold=max_hold)
        print(f"RELEASED {args.token}", flush=True)
        code = 0
    except ClientError as e:
        print(f"{e.code} {e.message}", flush=True)
        code = 3 if e.code == "WALLET_BUSY" else 1
    # give the fire-and-forget release a moment to reach the server
    await task.deferLater(reactor, 0.1, lambda: None)
    deps.exit(code)


def main(argv: list[str] | None = None) -> int:
    from bws import runtime

    return runtime.run(
        "python -m ops.lock_cli", __doc__.split("\n\n")[0], build, add_args=add_args, configure=configure, argv=argv
    )


if __name__ == "__main__":
    sys.exit(main())
