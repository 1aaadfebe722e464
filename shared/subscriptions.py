"""The subscription lifecycle: hold, heal and release streamers' EventSub subscriptions.

Every viewer of a streamer shares one lease and its four subscriptions (go-live alerts
share it too, needing only ``stream.online``: see :mod:`shared.leases`); a Redis lock
per streamer makes sure they are created once however many ask.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis
from redis.lock import Lock

from shared.events import Broadcaster, lease_broadcaster
from shared.eventsub import HEALTHY, PENDING, condition_broadcaster, subscription_condition
from shared.leases import (
    ALERT,
    WATCH,
    WEBSUB,
    HeldSubscription,
    Lease,
    all_leases,
    extend,
    forget_lease,
    get_lease,
    lease_lock,
    lease_reasons,
    missing_subscriptions,
    new_lease,
    save_lease,
    wanted_subscriptions,
)
from shared.settings import Settings
from shared.twitch.client import TwitchClient, eventsub_budget_spent
from shared.twitch.errors import (
    SubscriptionExists,
    TooManySubscriptions,
    TwitchError,
    TwitchNotFound,
)
from shared.websub import REQUEST_TTL, new_secret, remember_request, topic_for

logger = logging.getLogger(__name__)


class BudgetExceeded(Exception):
    """Holding another streamer would pass the app's EventSub cost budget."""


class Subscriptions:
    """Creates, adopts and deletes our subscriptions at Twitch, and keeps the leases."""

    def __init__(self, twitch: TwitchClient, client: redis.Redis, settings: Settings):
        self.twitch, self.redis, self.settings = twitch, client, settings

    @property
    def uses_websub(self) -> bool:
        """True when streamers are followed through the legacy WebSub hub, not EventSub."""
        return self.settings.webhook_transport == WEBSUB

    def lease(self, broadcaster_id: str) -> Lease | None:
        """The lease on a streamer, or None."""
        return get_lease(self.redis, broadcaster_id)

    def leases(self) -> list[Lease]:
        """Every lease we hold."""
        return all_leases(self.redis)

    def save(self, lease: Lease) -> None:
        """Store a lease (hold :meth:`lock` while reading and changing it)."""
        save_lease(self.redis, lease)

    def listed(self, broadcaster_id: str | None = None) -> list[dict]:
        """Our EventSub subscriptions as Twitch lists them: all, or one streamer's."""
        query = {"user_id": broadcaster_id} if broadcaster_id else {}
        return [s for s in self.twitch.eventsub_subscriptions(**query)["data"] if self.is_ours(s)]

    def users_by_id(self, ids: list[str]) -> list[dict]:
        """Twitch's users with these ids (missing ones left out)."""
        return self.twitch.users_by_id(ids)

    def lock(self, broadcaster_id: str) -> Lock:
        """The lock that serializes every change to one streamer's lease."""
        return lease_lock(self.redis, broadcaster_id)

    @property
    def renew_before(self) -> float:
        """Re-subscribe at the WebSub hub when a hub lease has less than this left."""
        return max(3 * self.settings.lease_check_interval, self.settings.websub_lease_seconds / 10)

    def ensure(self, broadcaster: Broadcaster, reason: str | None = WATCH) -> Lease:
        """Hold the subscriptions of ``broadcaster`` (id, login, name) for ``reason`` (None:
        for the reasons its lease has, as when healing it); renew its lease."""
        with self.lock(broadcaster["id"]):
            return self._hold(broadcaster, reason)

    def settle(
        self, broadcaster: Broadcaster, reason: str, wanted: Callable[[], bool]
    ) -> Lease | None:
        """Hold ``reason``'s subscriptions if ``wanted()``, else let go of them; asked
        under the lease's lock, so that changes racing each other end as the last one
        left things. The lease as it is now, or None."""
        with self.lock(broadcaster["id"]):
            if wanted():
                return self._hold(broadcaster, reason)
            lease = get_lease(self.redis, broadcaster["id"])
            return self._let_go(lease, reason) if lease else None

    def let_go(self, broadcaster_id: str, reason: str) -> Lease | None:
        """Stop holding a streamer's lease for ``reason``; the lease left, or None."""
        with self.lock(broadcaster_id):
            lease = get_lease(self.redis, broadcaster_id)
            return self._let_go(lease, reason) if lease else None

    def _hold(self, broadcaster: Broadcaster, reason: str | None) -> Lease:
        lease = get_lease(self.redis, broadcaster["id"]) or new_lease(
            broadcaster, self.settings.webhook_transport, reason or WATCH
        )
        if reason and reason not in lease_reasons(lease):
            lease["reasons"] = [*lease_reasons(lease), reason]
        try:
            for kind, version in missing_subscriptions(lease, self.renew_before):
                lease["subscriptions"][kind] = self.create(broadcaster["id"], kind, version)
        finally:
            if reason != ALERT:  # an alert is no viewer on the channel
                extend(lease, self.settings.lease_grace_seconds)
            save_lease(self.redis, lease)
        return lease

    def _let_go(self, lease: Lease, reason: str) -> Lease | None:
        """Drop ``reason`` from a lease: delete the subscriptions no reason left needs, or
        release the lease when no reason is left."""
        if reason not in lease_reasons(lease):
            return lease
        reasons = [held_for for held_for in lease_reasons(lease) if held_for != reason]
        if not reasons:
            self._release(lease)
            return None
        still_wanted = {kind for kind, _ in wanted_subscriptions(lease, reasons)}
        for kind in [kind for kind in lease["subscriptions"] if kind not in still_wanted]:
            self.delete(lease["subscriptions"].pop(kind)["id"])
        lease["reasons"] = reasons
        save_lease(self.redis, lease)
        logger.info("holding %s for %s only", lease["login"], ", ".join(reasons))
        return lease

    def create(self, broadcaster_id: str, kind: str, version: str) -> HeldSubscription:
        """Create one subscription, or adopt ours if Twitch says it exists."""
        if kind == WEBSUB:
            return self.websub("subscribe", broadcaster_id)
        cost = eventsub_budget_spent(self.redis)
        if cost:
            raise BudgetExceeded(
                f"EventSub budget spent ({cost['total_cost']} of "
                f"{cost['max_total_cost']}); release a streamer first"
            )
        try:
            created = self.twitch.create_eventsub_subscription(
                kind,
                version,
                subscription_condition(kind, broadcaster_id),
                self.settings.callback_url,
                self.settings.twitch_webhook_secret,
            )
        except SubscriptionExists:
            created = self.find_ours(broadcaster_id, kind)
        except TooManySubscriptions as error:
            raise BudgetExceeded(f"Twitch refused another subscription: {error.message}") from error
        logger.info("holding %s for %s (%s)", kind, broadcaster_id, created["status"])
        return {"id": created["id"], "status": created["status"]}

    def find_ours(self, broadcaster_id: str, kind: str) -> dict:
        """Our healthy subscription of ``kind`` for a broadcaster, as Twitch lists it."""
        for found in self.listed(broadcaster_id):
            if (
                found["type"] == kind
                and found["status"] in HEALTHY
                and condition_broadcaster(kind, found.get("condition")) == broadcaster_id
            ):
                return found
        raise TwitchError(409, f"Twitch reports {kind} as existing but does not list it")

    def is_ours(self, subscription: dict) -> bool:
        """True for subscriptions that call our callback (never touch the others)."""
        callback: str | None = subscription.get("transport", {}).get("callback")
        return callback == self.settings.callback_url

    def release(self, lease: Lease) -> None:
        """Delete a lease's subscriptions at Twitch and forget the lease."""
        with self.lock(lease["broadcaster_id"]):
            self._release(lease)

    def _release(self, lease: Lease) -> None:
        for kind, held in lease["subscriptions"].items():
            if kind == WEBSUB:
                self.websub("unsubscribe", lease["broadcaster_id"])
            else:
                self.delete(held["id"])
        forget_lease(self.redis, lease)
        logger.info("released the lease on %s", lease["login"])

    def websub(self, mode: str, broadcaster_id: str) -> HeldSubscription:
        """(Un)subscribe at the WebSub hub; its verification GET is answered by the web,
        once. A subscription gets a secret of its own, so that a notification's
        signature binds its topic (the web keeps the secret once the hub verified)."""
        topic = topic_for(self.settings.twitch_api_url, broadcaster_id)
        lease_seconds = self.settings.websub_lease_seconds
        secret = remember_request(
            self.redis, mode, topic, new_secret() if mode == "subscribe" else "", lease_seconds
        )
        self.twitch.websub_hub(mode, topic, self.settings.callback_url, lease_seconds, secret)
        logger.info("asked the WebSub hub to %s %s", mode, topic)
        return {"id": topic, "status": PENDING, "expires_at": time.time() + REQUEST_TTL}

    def delete(self, subscription_id: str) -> None:
        """Delete one subscription at Twitch; already gone is fine."""
        try:
            self.twitch.delete_eventsub_subscription(subscription_id)
        except TwitchNotFound:
            pass

    def renew(self, occupied: set[str], now: float | None = None) -> list[str]:
        """Extend the leases on channels that have viewers; the logins renewed."""
        renewed = []
        for lease in all_leases(self.redis):
            if lease["login"] in occupied:
                with self.lock(lease["broadcaster_id"]):
                    current = get_lease(self.redis, lease["broadcaster_id"])
                    if current:
                        grace = self.settings.lease_grace_seconds
                        save_lease(self.redis, extend(current, grace, now))
                        renewed.append(lease["login"])
                if current and missing_subscriptions(current, self.renew_before):
                    self.ensure(lease_broadcaster(current), reason=None)
        return renewed

    def release_idle(self, occupied: set[str], now: float | None = None) -> list[str]:
        """Let go of the watching nobody did for the grace period (releasing the leases
        held for nothing else); the logins no longer watched."""
        now = time.time() if now is None else now
        idle = [
            lease
            for lease in all_leases(self.redis)
            if WATCH in lease_reasons(lease)
            and lease["expires_at"] <= now
            and lease["login"] not in occupied
        ]
        for lease in idle:
            self.let_go(lease["broadcaster_id"], WATCH)
        return [lease["login"] for lease in idle]
