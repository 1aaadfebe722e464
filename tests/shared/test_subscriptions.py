"""Leases and the subscription lifecycle against the Twitch emulator and a real Redis."""

import dataclasses
import threading
import time

import pytest

from shared.alerts import add_alert, has_alerting_viewers, remove_alert
from shared.eventsub import PENDING, SUBSCRIPTION_VERSIONS
from shared.leases import ALERT, WATCH, WEBSUB, all_leases, get_lease, lease_for_login
from shared.subscriptions import BudgetExceeded, Subscriptions
from shared.twitch.client import TwitchClient, eventsub_cost
from shared.websub import REQUEST_TTL

pytestmark = pytest.mark.timeout(60)
COOL_USER = {"id": "958187706", "login": "cool_user", "name": "Cool_User"}
KINDS = set(SUBSCRIPTION_VERSIONS)


@pytest.fixture
def make_subscriptions(callback_settings, redis_client):
    clients = []

    def make():
        client = TwitchClient(callback_settings, redis_client)
        clients.append(client)
        return Subscriptions(client, redis_client, callback_settings)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def subscriptions(make_subscriptions):
    return make_subscriptions()


def at_twitch(twitch_emulator, callback=None):
    """The emulator's subscriptions, optionally only those calling ``callback``."""
    return [
        s
        for s in twitch_emulator.state()["subscriptions"]
        if callback is None or s["transport"]["callback"] == callback
    ]


def test_twenty_concurrent_viewers_create_each_subscription_once(
    make_subscriptions, twitch_emulator, redis_client
):
    instances = [make_subscriptions() for _ in range(20)]
    results, errors = [], []

    def watch(instance):
        try:
            results.append(instance.ensure(COOL_USER))
        except Exception as error:  # collected and reported below
            errors.append(error)

    threads = [threading.Thread(target=watch, args=(i,)) for i in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    created = at_twitch(twitch_emulator)
    assert sorted(s["type"] for s in created) == sorted(KINDS)
    lease = get_lease(redis_client, COOL_USER["id"])
    assert set(lease["subscriptions"]) == KINDS
    assert {h["id"] for h in lease["subscriptions"].values()} == {s["id"] for s in created}
    assert lease_for_login(redis_client, "cool_user") == lease


def test_existing_subscriptions_are_adopted_not_duplicated(
    subscriptions, twitch_emulator, redis_client, callback_settings
):
    first = subscriptions.ensure(COOL_USER)
    redis_client.flushdb()  # the app lost its state; Twitch still has the subscriptions
    second = subscriptions.ensure(COOL_USER)
    assert len(at_twitch(twitch_emulator)) == len(KINDS)
    assert {h["id"] for h in second["subscriptions"].values()} == {
        h["id"] for h in first["subscriptions"].values()
    }


def test_release_deletes_at_twitch_and_forgets(subscriptions, twitch_emulator, redis_client):
    lease = subscriptions.ensure(COOL_USER)
    subscriptions.release(lease)
    assert at_twitch(twitch_emulator) == []
    assert all_leases(redis_client) == []


def test_idle_leases_are_released_after_the_grace_period(
    subscriptions, twitch_emulator, redis_client, callback_settings
):
    lease = subscriptions.ensure(COOL_USER)
    later = lease["expires_at"] + 1
    assert subscriptions.release_idle(occupied={"cool_user"}, now=later) == []
    assert subscriptions.renew(occupied={"cool_user"}, now=later) == ["cool_user"]
    renewed = get_lease(redis_client, COOL_USER["id"])
    assert renewed["expires_at"] == later + callback_settings.lease_grace_seconds
    assert subscriptions.release_idle(occupied=set(), now=later) == []
    assert subscriptions.release_idle(occupied=set(), now=renewed["expires_at"]) == ["cool_user"]
    assert at_twitch(twitch_emulator) == []


def test_the_budget_is_checked_before_creating(subscriptions, twitch_emulator, redis_client):
    redis_client.hset(
        "sev:twitch:eventsub-cost",
        mapping={"total": 10, "total_cost": 10000, "max_total_cost": 10000},
    )
    with pytest.raises(BudgetExceeded, match="budget"):
        subscriptions.ensure(COOL_USER)
    assert at_twitch(twitch_emulator) == []


def test_raids_are_subscribed_from_the_watched_streamer_and_the_rest_by_it(
    subscriptions, twitch_emulator, callback_settings
):
    subscriptions.ensure(COOL_USER)
    conditions = {s["type"]: s["condition"] for s in at_twitch(twitch_emulator)}
    assert conditions.pop("channel.raid") == {
        "from_broadcaster_user_id": COOL_USER["id"],
        "to_broadcaster_user_id": "",
    }
    assert all(c == {"broadcaster_user_id": COOL_USER["id"]} for c in conditions.values())
    assert all(s["cost"] == 1 for s in at_twitch(twitch_emulator))


def test_an_existing_raid_subscription_is_adopted_by_its_raiding_streamer(
    subscriptions, twitch_emulator, redis_client
):
    raid = subscriptions.create(COOL_USER["id"], "channel.raid", "1")
    redis_client.flushdb()
    lease = subscriptions.ensure(COOL_USER)
    assert lease["subscriptions"]["channel.raid"]["id"] == raid["id"]
    assert len(at_twitch(twitch_emulator)) == len(KINDS)


def test_listed_names_only_our_subscriptions_all_or_one_streamers(subscriptions, callback_settings):
    held = {h["id"] for h in subscriptions.ensure(COOL_USER)["subscriptions"].values()}
    other = subscriptions.create("122699689", "stream.online", "1")
    subscriptions.twitch.create_eventsub_subscription(
        "stream.offline",
        "1",
        {"broadcaster_user_id": COOL_USER["id"]},
        "https://elsewhere.example/hook",
        callback_settings.twitch_webhook_secret,
    )
    assert {s["id"] for s in subscriptions.listed()} == held | {other["id"]}
    assert {s["id"] for s in subscriptions.listed(COOL_USER["id"])} == held


def test_users_by_id_and_the_transport_are_twitchs_and_the_settings(
    subscriptions, callback_settings, redis_client
):
    users = subscriptions.users_by_id([COOL_USER["id"]])
    assert [(u["id"], u["login"]) for u in users] == [(COOL_USER["id"], COOL_USER["login"])]
    assert subscriptions.uses_websub is False
    websub = dataclasses.replace(callback_settings, webhook_transport=WEBSUB)
    assert Subscriptions(subscriptions.twitch, redis_client, websub).uses_websub is True


def held_at_twitch(twitch_emulator) -> dict[str, str]:
    """The emulator's subscriptions: id by type."""
    return {s["type"]: s["id"] for s in at_twitch(twitch_emulator)}


def test_an_alert_holds_only_stream_online_and_counts_in_the_budget(
    subscriptions, twitch_emulator, redis_client
):
    lease = subscriptions.ensure(COOL_USER, ALERT)
    assert list(held_at_twitch(twitch_emulator)) == ["stream.online"]
    assert lease["reasons"] == [ALERT] and set(lease["subscriptions"]) == {"stream.online"}
    assert eventsub_cost(redis_client)["total"] == 1


def test_watching_adds_the_rest_and_idle_watching_shrinks_back_to_the_alert(
    subscriptions, twitch_emulator, redis_client
):
    subscriptions.ensure(COOL_USER, ALERT)
    online = held_at_twitch(twitch_emulator)["stream.online"]
    lease = subscriptions.ensure(COOL_USER)
    assert set(held_at_twitch(twitch_emulator)) == KINDS
    assert lease["reasons"] == [ALERT, WATCH]
    later = lease["expires_at"] + 1
    assert subscriptions.release_idle(occupied=set(), now=later) == ["cool_user"]
    assert held_at_twitch(twitch_emulator) == {"stream.online": online}
    assert get_lease(redis_client, COOL_USER["id"])["reasons"] == [ALERT]
    assert subscriptions.release_idle(occupied=set(), now=later + 3600) == []


def test_the_alert_is_let_go_when_no_one_wants_it_and_the_lease_with_it(
    subscriptions, twitch_emulator, redis_client
):
    assert subscriptions.settle(COOL_USER, ALERT, lambda: True)["reasons"] == [ALERT]
    assert subscriptions.settle(COOL_USER, ALERT, lambda: False) is None
    assert at_twitch(twitch_emulator) == [] and all_leases(redis_client) == []


def test_letting_go_of_the_alert_of_a_watched_streamer_keeps_the_watch(
    subscriptions, twitch_emulator, redis_client
):
    subscriptions.ensure(COOL_USER)
    subscriptions.settle(COOL_USER, ALERT, lambda: True)
    lease = subscriptions.settle(COOL_USER, ALERT, lambda: False)
    assert lease["reasons"] == [WATCH] and set(held_at_twitch(twitch_emulator)) == KINDS


def test_healing_an_alert_lease_recreates_only_what_the_alert_needs(
    subscriptions, twitch_emulator, redis_client
):
    lease = subscriptions.ensure(COOL_USER, ALERT)
    subscriptions.delete(lease["subscriptions"]["stream.online"]["id"])
    lease["subscriptions"]["stream.online"]["status"] = "notification_failures_exceeded"
    subscriptions.save(lease)
    healed = subscriptions.ensure(COOL_USER, reason=None)
    assert list(held_at_twitch(twitch_emulator)) == ["stream.online"]
    assert healed["reasons"] == [ALERT]


def test_the_alert_lease_is_released_when_the_last_alerting_viewer_removes_it(
    subscriptions, twitch_emulator, redis_client
):
    def settle():
        return subscriptions.settle(
            COOL_USER, ALERT, lambda: has_alerting_viewers(redis_client, COOL_USER["id"])
        )

    for viewer_id in ("1", "2"):
        add_alert(redis_client, viewer_id, COOL_USER, limit=50)
    assert settle()["reasons"] == [ALERT]
    remove_alert(redis_client, "1", "cool_user")
    assert settle() is not None and list(held_at_twitch(twitch_emulator)) == ["stream.online"]
    remove_alert(redis_client, "2", "cool_user")
    assert settle() is None and at_twitch(twitch_emulator) == []
    assert all_leases(redis_client) == []


def test_a_websub_request_is_held_pending_until_it_lapses(
    subscriptions, callback_settings, redis_client, twitch_emulator
):
    websub = Subscriptions(
        subscriptions.twitch,
        redis_client,
        dataclasses.replace(callback_settings, webhook_transport=WEBSUB),
    )
    before = time.time()
    lease = websub.ensure(COOL_USER)

    held = lease["subscriptions"][WEBSUB]
    assert held["status"] == PENDING
    assert before + REQUEST_TTL <= held["expires_at"] <= time.time() + REQUEST_TTL
    assert get_lease(redis_client, COOL_USER["id"]) == lease
    assert websub.ensure(COOL_USER)["subscriptions"][WEBSUB] == held, "asked once"
