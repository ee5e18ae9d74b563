"""``python -m pushservice``: wiring only (config → storage → PushService + WebhookService → stream consumers
``push``, ``webhooks``; bootstrap: bws/runtime.py)."""

from __future__ import annotations

DESCRIPTION = """\
Push wallet notifications to the copayers' devices: FCM HTTP v1 (pyfcm, service-account
credentials) and, for iOS subscriptions when configured, APNs over HTTP/2 with a JWT (ES256)
provider token via httpx. A token the provider reports unregistered is removed. Also delivers
signed webhooks (webhookOpts.enabled). Each (notification, device) and (notification, webhook)
is queued once and retried with backoff.
"""

EPILOG = """\
configuration keys (file or BWS__pushNotificationsOpts__<key>=<json> environment overrides):
  pushNotificationsOpts.enabled                 must be true for pushes
  pushNotificationsOpts.fcm.serviceAccountFile  Google service-account JSON (FCM HTTP v1)
  pushNotificationsOpts.fcm.projectId           default: the service account's project
  pushNotificationsOpts.fcm.endpointBase        default https://fcm.googleapis.com/v1/projects
  pushNotificationsOpts.apns.keyFile/keyId/teamId/topic/baseUrl/caFile   APNs token auth (.p8 key)
  pushNotificationsOpts.templatePath/defaultLanguage/defaultUnit/subjectPrefix
  pushNotificationsOpts.maxAttempts/retryBackoff/sendTimeout/pollInterval/leaseSeconds
  webhookOpts.enabled/timeout/maxAttempts/retryBackoff/maxBackoff/pollInterval/leaseSeconds/allowHttp/allowPrivateNetworks
apns2 is deliberately not used: it does not import on Python 3.10+ and breaks twisted.web.
The legacy FCM endpoint (/fcm/send with a server key) is retired and not implemented.
"""


def make_services(cfg, storage, reactor) -> list:
    """``[(consumer name, service, poll s, lease s)]`` for push and webhooks, each when enabled.
    Raises OSError for an unreadable APNs key file."""
    import logging

    log = logging.getLogger("pushservice")
    out = []
    o = cfg.pushNotificationsOpts
    if o.enabled:
        from pushservice.service import PushService

        fcm = apns = None
        if o.fcm.serviceAccountFile:
            from pushservice.fcm import FcmSender

            fcm = FcmSender(
                reactor,
                service_account_file=o.fcm.serviceAccountFile,
                project_id=o.fcm.projectId,
                endpoint_base=o.fcm.endpointBase,
                timeout=o.sendTimeout,
            )
        if o.apns.keyFile:
            from pushservice.apns import ApnsSender

            with open(o.apns.keyFile, "rb") as f:
                key = f.read()
            apns = ApnsSender(
                key_pem=key,
                key_id=o.apns.keyId,
                team_id=o.apns.teamId,
                topic=o.apns.topic,
                base_url=o.apns.baseUrl,
                ca_file=o.apns.caFile,
                timeout=o.sendTimeout,
            )
        if fcm is None and apns is None:
            log.warning("pushNotificationsOpts: neither fcm.serviceAccountFile nor apns.keyFile is set; no pushes")
        else:
            service = PushService(
                storage,
                o,
                reactor,
                fcm=fcm,
                apns=apns,
                max_attempts=o.maxAttempts,
                backoff=o.retryBackoff,
                lease_seconds=o.leaseSeconds,
                poll_interval=o.pollInterval,
            )
            out.append(("push", service, o.pollInterval, o.leaseSeconds))
    else:
        log.warning("pushNotificationsOpts.enabled is false: not pushing")
    w = cfg.webhookOpts
    if w.enabled:
        from bws.delivery.webhooks import WebhookService

        out.append(("webhooks", WebhookService(storage, w, reactor, reactor=reactor), w.pollInterval, w.leaseSeconds))
    return out


async def build(cfg, deps):
    from bws import runtime
    from bws.config import ConfigError

    storage = await deps.storage()
    try:
        services = make_services(cfg, storage, deps.reactor)
    except Exception as e:  # noqa: BLE001 - bad key file, missing service account, ...
        raise ConfigError(str(e)) from None
    return await runtime.stream_consumers(deps, services)


def main(argv=None) -> int:
    from bws import runtime

    return runtime.run("python -m pushservice", DESCRIPTION, build, epilog=EPILOG, add_args=runtime.add_start_from, argv=argv)


if __name__ == "__main__":
    import sys

    sys.exit(main())
