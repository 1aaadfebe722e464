"""Subscriptions end to end: the Twitch emulator, web, worker, beat and a Pusher client."""

import pytest

from shared.eventsub import SUBSCRIPTION_VERSIONS
from shared.leases import lease_for_login
from tests.integration.conftest import run_flask, watch
from tests.support import wait_until

WANTED = len(SUBSCRIPTION_VERSIONS)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def enabled_subscriptions(twitch, stack):
    return [
        s
        for s in twitch.state()["subscriptions"]
        if s["status"] == "enabled"
        and s["transport"]["callback"] == stack.env["PUBLIC_URL"] + "/api/callback"
    ]


def lease_statuses(stack, login="cool_user"):
    lease = lease_for_login(stack.redis(), login)
    return {h["status"] for h in lease["subscriptions"].values()} if lease else set()


def test_watching_holds_its_enabled_subscriptions_and_events_flow(stack, twitch):
    subscriber = stack.subscribe("cool_user")
    watch(stack, "cool_user")
    held = wait_until(
        lambda: (
            len(enabled_subscriptions(twitch, stack)) == WANTED
            and enabled_subscriptions(twitch, stack)
        ),
        timeout=30,
        message="the challenge handshake never enabled the subscriptions",
    )
    lease = wait_until(
        lambda: (
            lease_statuses(stack) == {"enabled"} and lease_for_login(stack.redis(), "cool_user")
        ),
        timeout=15,
        message="the lease never saw the subscriptions enabled",
    )
    assert {h["id"] for h in lease["subscriptions"].values()} == {s["id"] for s in held}

    twitch("go-live", login="cool_user")  # title and category as they were: no channel.update
    name, data = subscriber.next(timeout=15)
    assert name == "stream.online"
    assert data["message"] == "Cool_User went live: Best Stream Ever (Fortnite)"
    twitch("go-offline", login="cool_user")
    assert subscriber.next(timeout=15)[0] == "stream.offline"

    twitch("go-live", login="cool_user", title="Speedrun <b>any%</b>", category="Celeste")
    name, data = subscriber.next(timeout=15)
    assert name == "channel.update"
    name, data = subscriber.next(timeout=15)
    assert name == "stream.online"
    assert data["message"] == "Cool_User went live: Speedrun <b>any%</b> (Celeste)"
    listed = run_flask(stack, "leases", "list")
    assert "cool_user" in listed.stdout and listed.stdout.count("enabled") == WANTED

    twitch("raid", **{"from": "cool_user", "to": "night_owl", "viewers": 1234})
    name, data = subscriber.next(timeout=15)
    assert name == "channel.raid"
    assert data["message"] == "Cool_User is raiding Night_Owl with 1,234 viewers"
    assert data["to"] == {"id": "517561072", "login": "night_owl", "name": "Night_Owl"}


def test_a_revocation_for_failures_heals_itself(stack, twitch):
    watch(stack, "cool_user")
    wait_until(lambda: len(enabled_subscriptions(twitch, stack)) == WANTED, timeout=30)
    online = next(s for s in enabled_subscriptions(twitch, stack) if s["type"] == "stream.online")
    twitch("revoke", subscription_id=online["id"], reason="notification_failures_exceeded")
    healed = wait_until(
        lambda: [
            s
            for s in enabled_subscriptions(twitch, stack)
            if s["type"] == "stream.online" and s["id"] != online["id"]
        ],
        timeout=30,
        message="the revoked subscription was never re-created",
    )
    lease = lease_for_login(stack.redis(), "cool_user")
    assert lease["subscriptions"]["stream.online"]["id"] == healed[0]["id"]


def test_a_removed_user_is_announced_and_released(stack, twitch):
    subscriber = stack.subscribe("cool_user")
    watch(stack, "cool_user")
    wait_until(lambda: len(enabled_subscriptions(twitch, stack)) == WANTED, timeout=30)
    online = next(s for s in enabled_subscriptions(twitch, stack) if s["type"] == "stream.online")
    twitch("revoke", subscription_id=online["id"], reason="user_removed")
    name, data = subscriber.next(timeout=15)
    assert name == "streamer.unavailable" and data["reason"] == "user_removed"
    assert data["message"] == "Cool_User can no longer be followed here"
    wait_until(
        lambda: enabled_subscriptions(twitch, stack) == [],
        timeout=15,
        message="the other subscriptions were not deleted",
    )
    wait_until(  # the lease is forgotten once its subscriptions are deleted at Twitch
        lambda: lease_for_login(stack.redis(), "cool_user") is None,
        timeout=15,
        message="the lease was not released",
    )


@pytest.mark.stack_env(LEASE_GRACE_SECONDS=2, LEASE_CHECK_INTERVAL=1, RECONCILE_INTERVAL=3600)
def test_an_unwatched_streamer_is_released_after_the_grace_period(stack, twitch):
    subscriber = stack.subscribe("cool_user")
    watch(stack, "cool_user")
    wait_until(lambda: len(enabled_subscriptions(twitch, stack)) == WANTED, timeout=30)
    stack.start_beat()
    subscriber.stop()  # the last viewer leaves; Pusher reports the channel vacated
    wait_until(
        lambda: enabled_subscriptions(twitch, stack) == [],
        timeout=30,
        message="the lease was never released",
    )
    assert lease_for_login(stack.redis(), "cool_user") is None
