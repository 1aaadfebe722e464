"""Reconciliation of our leases with Twitch's subscription list, against the Twitch
emulator and a real Redis."""

import dataclasses

import pytest

from shared.eventsub import HEALTHY, MISSING, PENDING, SUBSCRIPTION_VERSIONS
from shared.leases import ALERT, WEBSUB, get_lease, new_lease, save_lease
from shared.reconcile import empty_report, reconcile, reconcile_lease
from shared.subscriptions import Subscriptions
from shared.twitch.client import TwitchClient
from tests.support import free_port

pytestmark = pytest.mark.timeout(60)
COOL_USER = {"id": "958187706", "login": "cool_user", "name": "Cool_User"}
KINDS = set(SUBSCRIPTION_VERSIONS)


@pytest.fixture
def subscriptions(callback_settings, redis_client):
    client = TwitchClient(callback_settings, redis_client)
    yield Subscriptions(client, redis_client, callback_settings)
    client.close()


def at_twitch(twitch_emulator, callback=None):
    """The emulator's subscriptions, optionally only those calling ``callback``."""
    return [
        s
        for s in twitch_emulator.state()["subscriptions"]
        if callback is None or s["transport"]["callback"] == callback
    ]


def test_reconcile_heals_revoked_deletes_orphans_and_spares_others(
    subscriptions, twitch_emulator, redis_client, callback_settings
):
    lease = subscriptions.ensure(COOL_USER)
    revoked_id = lease["subscriptions"]["stream.online"]["id"]
    twitch_emulator.control(
        "revoke", subscription_id=revoked_id, reason="notification_failures_exceeded"
    )
    orphan = subscriptions.create("122699689", "stream.online", "1")
    foreign = subscriptions.twitch.create_eventsub_subscription(
        "stream.offline",
        "1",
        {"broadcaster_user_id": "122699689"},
        "https://elsewhere.example/hook",
        callback_settings.twitch_webhook_secret,
    )

    report = reconcile(subscriptions, occupied={"cool_user"})

    assert report["recreated"] == ["cool_user"]
    assert revoked_id in report["deleted"] and orphan["id"] in report["deleted"]
    remaining = {s["id"]: s for s in at_twitch(twitch_emulator)}
    assert foreign["id"] in remaining, "a subscription for another callback was touched"
    ours = at_twitch(twitch_emulator, callback_settings.callback_url)
    assert sorted(s["type"] for s in ours) == sorted(KINDS)
    held = get_lease(redis_client, COOL_USER["id"])["subscriptions"]
    assert held["stream.online"]["id"] != revoked_id
    assert {h["id"] for h in held.values()} == {s["id"] for s in ours}


def test_reconcile_after_a_restart_adopts_watched_channels(
    subscriptions, twitch_emulator, redis_client
):
    held = {h["id"] for h in subscriptions.ensure(COOL_USER)["subscriptions"].values()}
    redis_client.flushdb()
    report = reconcile(subscriptions, occupied={"cool_user"})
    assert sorted(report["adopted"]) == sorted(held) and report["deleted"] == []
    assert {s["id"] for s in at_twitch(twitch_emulator)} == held
    lease = get_lease(redis_client, COOL_USER["id"])
    assert {h["id"] for h in lease["subscriptions"].values()} == held


def test_reconcile_after_a_restart_deletes_unwatched(subscriptions, twitch_emulator, redis_client):
    subscriptions.ensure(COOL_USER)
    redis_client.flushdb()
    report = reconcile(subscriptions, occupied=set())
    assert len(report["deleted"]) == len(KINDS) and at_twitch(twitch_emulator) == []


def test_reconcile_deletes_a_raid_subscription_on_the_raided_side_as_not_ours_to_keep(
    subscriptions, twitch_emulator, redis_client, callback_settings
):
    held = subscriptions.ensure(COOL_USER)["subscriptions"]
    raided_side = subscriptions.twitch.create_eventsub_subscription(
        "channel.raid",
        "1",
        {"to_broadcaster_user_id": COOL_USER["id"]},
        callback_settings.callback_url,
        callback_settings.twitch_webhook_secret,
    )
    report = reconcile(subscriptions, occupied={"cool_user"})
    assert report["deleted"] == [raided_side["id"]] and report["adopted"] == []
    lease = get_lease(redis_client, COOL_USER["id"])
    assert lease["subscriptions"]["channel.raid"]["id"] == held["channel.raid"]["id"]


def test_one_lease_recreates_what_twitch_no_longer_lists(
    subscriptions, twitch_emulator, redis_client
):
    held = subscriptions.ensure(COOL_USER)["subscriptions"]
    gone = held["channel.update"]["id"]
    subscriptions.twitch.delete_eventsub_subscription(gone)

    report = reconcile_lease(subscriptions, COOL_USER["id"])

    assert report == dict(empty_report(), recreated=["cool_user"])
    now = get_lease(redis_client, COOL_USER["id"])["subscriptions"]
    assert now["channel.update"]["id"] != gone and now["channel.update"]["status"] in HEALTHY
    assert {h["id"] for h in now.values()} == {s["id"] for s in at_twitch(twitch_emulator)}


def test_one_lease_adopts_what_twitch_lists_and_it_lost(
    subscriptions, twitch_emulator, redis_client
):
    lease = subscriptions.ensure(COOL_USER)
    listed = lease["subscriptions"]["stream.offline"]["id"]
    lease["subscriptions"]["stream.offline"] = {"id": "lost-id", "status": MISSING}
    save_lease(redis_client, lease)

    report = reconcile_lease(subscriptions, COOL_USER["id"])

    assert report == dict(empty_report(), adopted=[listed])
    held = get_lease(redis_client, COOL_USER["id"])["subscriptions"]["stream.offline"]
    assert held["id"] == listed and held["status"] in HEALTHY
    assert len(at_twitch(twitch_emulator)) == len(KINDS)


def test_a_lease_that_is_gone_reconciles_to_nothing(subscriptions, twitch_emulator):
    assert reconcile_lease(subscriptions, COOL_USER["id"]) == empty_report()
    assert at_twitch(twitch_emulator) == []


@pytest.mark.parametrize("reason", ["user_removed", "authorization_revoked"])
def test_a_final_revocation_makes_the_streamer_unavailable_not_recreated(
    subscriptions, twitch_emulator, redis_client, reason
):
    revoked = subscriptions.ensure(COOL_USER)["subscriptions"]["stream.online"]["id"]
    twitch_emulator.control("revoke", subscription_id=revoked, reason=reason)

    report = reconcile(subscriptions, occupied={"cool_user"})

    assert report == dict(empty_report(), deleted=[revoked], unavailable=["cool_user"])
    held = get_lease(redis_client, COOL_USER["id"])["subscriptions"]
    assert held["stream.online"] == {"id": revoked, "status": reason}
    assert revoked not in {s["id"] for s in at_twitch(twitch_emulator)}
    assert len(at_twitch(twitch_emulator)) == len(KINDS) - 1, "nothing was re-created"


def test_the_websub_transport_has_no_list_to_reconcile(callback_settings, redis_client):
    dead = f"http://127.0.0.1:{free_port()}"
    settings = dataclasses.replace(
        callback_settings, webhook_transport=WEBSUB, twitch_api_url=f"{dead}/helix"
    )
    client = TwitchClient(settings, redis_client)
    try:
        # Twitch is unreachable: any call would raise.
        assert reconcile(Subscriptions(client, redis_client, settings), {"cool_user"}) == (
            empty_report()
        )
    finally:
        client.close()


def test_a_websub_lease_waiting_for_the_hub_is_left_to_the_hub(callback_settings, redis_client):
    dead = f"http://127.0.0.1:{free_port()}"
    settings = dataclasses.replace(
        callback_settings, webhook_transport=WEBSUB, twitch_api_url=f"{dead}/helix"
    )
    lease = new_lease(COOL_USER, WEBSUB)
    lease["subscriptions"][WEBSUB] = {"id": f"{dead}/helix/streams?user_id=1", "status": PENDING}
    save_lease(redis_client, lease)
    client = TwitchClient(settings, redis_client)
    try:
        # Twitch is unreachable: a re-subscription (or any call) would raise.
        report = reconcile_lease(Subscriptions(client, redis_client, settings), COOL_USER["id"])
    finally:
        client.close()

    assert report == empty_report()
    assert get_lease(redis_client, COOL_USER["id"]) == lease


def test_reconcile_keeps_an_alert_lease_to_stream_online(
    subscriptions, twitch_emulator, redis_client, callback_settings
):
    lease = subscriptions.ensure(COOL_USER, ALERT)
    left_over = subscriptions.create(COOL_USER["id"], "stream.offline", "1")

    report = reconcile(subscriptions, occupied=set())

    assert report["deleted"] == [left_over["id"]] and report["recreated"] == []
    ours = at_twitch(twitch_emulator, callback_settings.callback_url)
    assert [s["id"] for s in ours] == [lease["subscriptions"]["stream.online"]["id"]]
    held = get_lease(redis_client, COOL_USER["id"])["subscriptions"]
    assert {kind: h["id"] for kind, h in held.items()} == {
        "stream.online": lease["subscriptions"]["stream.online"]["id"]
    }
