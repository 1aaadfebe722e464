"""Alert leases: hold a streamer's ``stream.online`` while some viewer wants go-live
alerts of them (:mod:`shared.leases`, reason ``alert``), and let go of it after.

The web queues :func:`settle_alert_lease` on each change to a viewer's list; beat runs
:func:`heal_alert_leases` to settle what a lost or failed task left out of step.
"""

from __future__ import annotations

import logging

from celery import shared_task

from shared.alerts import alerted_streamers, has_alerting_viewers
from shared.events import Broadcaster, lease_broadcaster
from shared.leases import ALERT, all_leases, lease_reasons, serves
from shared.task_names import HEAL_ALERT_LEASES, SETTLE_ALERT_LEASE
from worker.context import redis_client, subscriptions
from worker.subscriptions import follow_verification

logger = logging.getLogger(__name__)


@shared_task(name=SETTLE_ALERT_LEASE, acks_late=True)
def settle_alert_lease(broadcaster: Broadcaster) -> None:
    """Hold the streamer's ``stream.online`` for go-live alerts while a viewer wants
    them, else let go of it (the lease goes too unless someone watches)."""
    lease = subscriptions().settle(
        broadcaster, ALERT, lambda: has_alerting_viewers(redis_client(), broadcaster["id"])
    )
    follow_verification(lease)


@shared_task(name=HEAL_ALERT_LEASES, acks_late=True)
def heal_alert_leases() -> list[str]:
    """Settle each alert lease that is not what the viewers' lists want: an alerted
    streamer whose lease does not serve alerts, a lease held for alerts no viewer wants.
    The logins settled."""
    client = redis_client()
    alerted = alerted_streamers(client)
    leases = {lease["broadcaster_id"]: lease for lease in all_leases(client)}
    unsettled = [
        streamer
        for broadcaster_id, streamer in alerted.items()
        if not serves(leases.get(broadcaster_id), ALERT)
    ] + [
        lease_broadcaster(lease)
        for broadcaster_id, lease in leases.items()
        if ALERT in lease_reasons(lease) and broadcaster_id not in alerted
    ]
    for streamer in unsettled:
        settle_alert_lease.delay(streamer)
    if unsettled:
        logger.warning("alert leases out of step, settling: %s", [s["login"] for s in unsettled])
    return [streamer["login"] for streamer in unsettled]
