"""Delivery: what happens to a notification after it is stored (docs/notifications.md).

=================  ===========================================================
module             job
=================  ===========================================================
``stream``         StreamConsumer: the durable, exactly-once reading of the
                   ``notifications`` stream (cursor, claims, retries)
``outbox``         Outbox + ``new_row``: the one delivery-row schema and the
                   worker that sends each row once (e-mail, push, webhooks)
``recipients``     who hears about a notification (e-mail and push)
``templates``      e-mail/push texts: loading, rendering, amounts
``webhooks``       signed webhook delivery (WebhookService, TreqPoster)
``destinations``   the webhook SSRF guard (DestinationPolicy), also used at
                   registration
=================  ===========================================================

Producing a notification (store, then publish) is the wallet service's
Notifier (bws/service/notifier.py). Nothing here imports ``bws.service`` or
the HTTP layer: delivery runs in the emailservice and pushservice processes.
"""
