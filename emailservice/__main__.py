"""``python -m emailservice``: wiring only (config → storage → EmailService → stream consumer ``email``; bootstrap: bws/runtime.py)."""

from __future__ import annotations

DESCRIPTION = """\
Send e-mail for wallet notifications (NewCopayer, WalletComplete, NewTxProposal, NewOutgoingTx,
NewIncomingTx, TxProposalFinallyRejected, TxConfirmation) to the copayers whose preferences hold an
e-mail address, in their language and unit, through SMTP. Each (notification, recipient) is queued
once in email_queue (pending -> sent | fail) and retried with backoff on SMTP errors.
"""

EPILOG = """\
configuration keys (file or BWS__emailOpts__<key>=<json> environment overrides):
  emailOpts.enabled                 must be true, else the process idles
  emailOpts.host / port             SMTP server (default localhost:25)
  emailOpts.username / password     AUTH when a username is set
  emailOpts.startTls                require STARTTLS;  emailOpts.ignoreTLS  never use it
  emailOpts.from / subjectPrefix    sender and subject prefix
  emailOpts.templatePath            templates/<lang>/<name>.plain|.html (default ./templates)
  emailOpts.defaultLanguage / defaultUnit
  emailOpts.publicTxUrlTemplate     {coin: {network: "https://.../tx/{{txid}}"}}
  emailOpts.maxAttempts / retryBackoff / sendTimeout / pollInterval / leaseSeconds
  storageOpts.mongoDb.uri, messageBrokerOpts    database and wake-up broker
"""


def make_services(cfg, storage, reactor) -> list:
    """``[("email", EmailService, poll s, lease s)]``, or ``[]`` when e-mail is disabled."""
    import logging

    from emailservice.service import EmailService
    from emailservice.smtp import SmtpSender

    o = cfg.emailOpts
    if not o.enabled:
        logging.getLogger("emailservice").warning("emailOpts.enabled is false: not sending e-mail")
        return []
    sender = SmtpSender(
        reactor,
        o.host,
        o.port,
        username=o.username,
        password=o.password,
        start_tls=o.startTls,
        ignore_tls=o.ignoreTLS,
        timeout=o.sendTimeout,
    )
    service = EmailService(
        storage,
        o,
        sender,
        reactor,
        max_attempts=o.maxAttempts,
        backoff=o.retryBackoff,
        lease_seconds=o.leaseSeconds,
        poll_interval=o.pollInterval,
    )
    return [("email", service, o.pollInterval, o.leaseSeconds)]


async def build(cfg, deps):
    from bws import runtime
    from bws.config import ConfigError

    storage = await deps.storage()
    try:
        services = make_services(cfg, storage, deps.reactor)
    except Exception as e:  # noqa: BLE001 - a bad setting found while building the sender
        raise ConfigError(str(e)) from None
    return await runtime.stream_consumers(deps, services)


def main(argv=None) -> int:
    from bws import runtime

    return runtime.run("python -m emailservice", DESCRIPTION, build, epilog=EPILOG, add_args=runtime.add_start_from, argv=argv)


if __name__ == "__main__":
    import sys

    sys.exit(main())
