"""Subscription and lease tasks: ensure, renew, release, reconcile, revocations, app token."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from celery import Task, shared_task

from shared.events import (
    CHANNEL_PREFIX,
    Broadcaster,
    lease_broadcaster,
    login_of_channel,
    unavailable_event,
)
from shared.eventsub import FINAL, PENDING, RECREATABLE, format_eventsub_timestamp
from shared.leases import WATCH, Lease, get_lease, lease_for_login, save_lease
from shared.reconcile import reconcile, reconcile_lease
from shared.store import (
    count_unheld_revocation,
    helix_order_key,
    occupied_channels,
    remember_channel_state,
)
from shared.task_names import (
    CHECK_LEASE,
    ENSURE_SUBSCRIPTIONS,
    HANDLE_REVOCATION,
    RECONCILE_SUBSCRIPTIONS,
    RELEASE_IDLE_LEASES,
    RENEW_LEASES,
    VALIDATE_APP_TOKEN,
)
from shared.twitch.errors import TwitchError
from worker.context import pusher_client, redis_client, settings, subscriptions, twitch_client
from worker.publish import deliver

logger = logging.getLogger(__name__)


VERIFICATION_CHECKS = 10
VERIFICATION_CHECK_SECONDS = 3


@shared_task(name=ENSURE_SUBSCRIPTIONS, acks_late=True)
def ensure_subscriptions(broadcaster: Broadcaster, reason: str | None = WATCH) -> None:
    """Hold a streamer's subscriptions (``broadcaster``: id, login, name) for ``reason``
    (None: for the reasons its lease has, re-creating what it lost)."""
    lease = subscriptions().ensure(broadcaster, reason)
    follow_verification(lease)
    seed_channel_state(broadcaster["id"])


def follow_verification(lease: Lease | None) -> None:
    """Check on a lease until Twitch has verified its new subscriptions."""
    if lease and any(h["status"] == PENDING for h in lease["subscriptions"].values()):
        check_lease.apply_async((lease["broadcaster_id"],), countdown=VERIFICATION_CHECK_SECONDS)


def seed_channel_state(broadcaster_id: str) -> None:
    """Learn the channel's title and category now, so that its next ``stream.online``
    (which carries neither) reads "X went live: title (category)"."""
    asked_at = helix_order_key(time.time())
    try:
        channel = twitch_client().channel_information(broadcaster_id)
    except TwitchError as error:
        logger.warning("cannot look up channel %s: %s", broadcaster_id, error)
        return
    if channel:
        remember_channel_state(
            redis_client(),
            broadcaster_id,
            channel.get("title", ""),
            channel.get("game_name", ""),
            settings().recent_events_ttl,
            asked_at,
        )


@shared_task(name=CHECK_LEASE, bind=True, acks_late=True, max_retries=None)
def check_lease(self: Task, broadcaster_id: str) -> None:
    """Follow a lease until Twitch has verified its subscriptions (or re-create them)."""
    reconcile_lease(subscriptions(), broadcaster_id)
    lease = get_lease(redis_client(), broadcaster_id)
    pending = lease and any(h["status"] == PENDING for h in lease["subscriptions"].values())
    if pending and self.request.retries < VERIFICATION_CHECKS:
        raise self.retry(countdown=VERIFICATION_CHECK_SECONDS)


@shared_task(name=RENEW_LEASES, acks_late=True)
def renew_leases() -> list[str]:
    """Extend the leases of channels that have viewers."""
    return subscriptions().renew(channels_with_viewers())


@shared_task(name=RELEASE_IDLE_LEASES, acks_late=True)
def release_idle_leases() -> list[str]:
    """Release the leases nobody watched for the grace period."""
    return subscriptions().release_idle(channels_with_viewers())


@shared_task(name=RECONCILE_SUBSCRIPTIONS, acks_late=True)
def reconcile_subscriptions() -> dict:
    """Bring leases and Twitch's subscription list in step; end what Twitch ended."""
    report = reconcile(subscriptions(), channels_with_viewers())
    for login in report["unavailable"]:
        lease = lease_for_login(redis_client(), login)
        if lease:
            reason = next(
                h["status"] for h in lease["subscriptions"].values() if h["status"] in FINAL
            )
            now = format_eventsub_timestamp(datetime.now(UTC))
            end_for_good(lease, reason, f"unavailable-{lease['broadcaster_id']}-{now}", now)
    return report


@shared_task(name=VALIDATE_APP_TOKEN, acks_late=True)
def validate_app_token() -> bool:
    """Validate the shared app token; True when it had to be replaced."""
    return twitch_client().validate_app_token()


@shared_task(name=HANDLE_REVOCATION, acks_late=True)
def handle_revocation(revocation: dict, message_id: str) -> None:
    """Update the lease at once; re-create what may be, tell viewers what may not.

    Only a revocation of a subscription we hold counts: one naming any other
    subscription (an old one of ours, or one we never had) is logged and counted,
    and the streamer's lease is left alone.
    """
    lease = get_lease(redis_client(), revocation.get("broadcaster_id") or "")
    if lease is None or not holds(lease, revocation):
        ignore_revocation(revocation)
        return
    reason = revocation["reason"]
    with subscriptions().lock(lease["broadcaster_id"]):
        lease = get_lease(redis_client(), lease["broadcaster_id"])
        if lease is None or not holds(lease, revocation):  # released or re-created meanwhile
            ignore_revocation(revocation)
            return
        for held in lease["subscriptions"].values():
            if held["id"] == revocation["subscription_id"]:
                held["status"] = reason
        save_lease(redis_client(), lease)
    if reason in RECREATABLE:
        ensure_subscriptions.delay(lease_broadcaster(lease), reason=None)
    elif reason in FINAL:
        end_for_good(lease, reason, f"unavailable-{message_id}", revocation["revoked_at"])


def holds(lease: Lease, revocation: dict) -> bool:
    """True when the revoked subscription is one the lease holds."""
    revoked = revocation.get("subscription_id")
    return bool(revoked) and any(
        held.get("id") == revoked for held in lease["subscriptions"].values()
    )


def ignore_revocation(revocation: dict) -> None:
    """Log and count a revocation of a subscription we do not hold."""
    count_unheld_revocation(redis_client())
    logger.warning(
        "ignored the revocation of subscription %s (%s, broadcaster %s): not one we hold",
        revocation.get("subscription_id"),
        revocation.get("type"),
        revocation.get("broadcaster_id"),
    )


def end_for_good(lease: Lease, reason: str, event_id: str, occurred_at: str) -> None:
    """Tell the channel's viewers the streamer can no longer be followed; release the lease."""
    deliver(unavailable_event(lease, reason, event_id, occurred_at))
    subscriptions().release(lease)


def channels_with_viewers() -> set[str]:
    """Logins of the streamers whose channel has subscribers: Pusher's webhooks, checked
    against its channel list."""
    occupied = set(occupied_channels(redis_client()))
    try:
        channels = pusher_client().channels_info(prefix_filter=CHANNEL_PREFIX)
        occupied |= {
            login for login in map(login_of_channel, channels.get("channels", {})) if login
        }
    except Exception as error:  # Pusher unreachable: the webhooks' record stands
        logger.warning("cannot list Pusher channels (%s); using webhook records", error)
    return occupied
