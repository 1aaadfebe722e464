"""The Twitch client against real servers on loopback: the Twitch emulator, and a small
scripted stand-in for what the emulator cannot be made to do (5xx, odd answers)."""

from __future__ import annotations

import dataclasses
import time

import pytest
import requests

from shared.twitch import session as twitch_session
from shared.twitch.client import HEADROOM, RATE_LIMIT, TwitchClient, eventsub_cost
from shared.twitch.errors import (
    SubscriptionExists,
    TooManySubscriptions,
    TwitchError,
    TwitchNotFound,
    TwitchRateLimited,
    TwitchUnavailable,
)
from shared.twitch.session import BACKOFF, RETRIES
from shared.twitch.tokens import APP_TOKEN
from tests.shared.twitch.support import BACKOFFS, COOL_USER_ID, empty_bucket, problem, users
from tests.support import free_port, wait_until

pytestmark = pytest.mark.timeout(60)

SECRET = "webhook-secret-for-tests"


def subscribe(client, callback, kind="stream.online", user_id=COOL_USER_ID):
    version = "2" if kind == "channel.update" else "1"
    return client.create_eventsub_subscription(
        kind, version, {"broadcaster_user_id": user_id}, callback, SECRET
    )


# -- users and streams ---------------------------------------------------------------------


def test_users_by_login_and_id(client, twitch_emulator):
    assert client.user_by_login("cool_user")["id"] == COOL_USER_ID
    assert client.user_by_login("Cool_User")["login"] == "cool_user"
    assert client.user_by_login("nobody_by_this_name") is None
    found = client.users_by_login(["cool_user", "night_owl", "nobody_by_this_name"])
    assert sorted(u["login"] for u in found) == ["cool_user", "night_owl"]
    assert [u["login"] for u in client.users_by_id([COOL_USER_ID, "1"])] == ["cool_user"]
    assert client.users_by_login([]) == []


def test_more_than_a_hundred_logins_are_asked_in_chunks(client, twitch_emulator):
    logins = [f"unknown_{n}" for n in range(150)] + ["cool_user", "speedy_sam"]
    found = client.users_by_login(logins)
    assert sorted(u["login"] for u in found) == ["cool_user", "speedy_sam"]


def test_streams_list_only_live_streamers(client, twitch_emulator):
    users = client.users_by_login(["cool_user", "speedy_sam", "chill_chess", "night_owl"])
    assert sorted(s["user_login"] for s in client.streams_by_id([u["id"] for u in users])) == [
        "chill_chess",
        "speedy_sam",
    ]
    twitch_emulator.control("go-live", login="cool_user", title="Testing")
    live = {s["user_login"]: s for s in client.streams_by_id([COOL_USER_ID, "122699689"])}
    assert sorted(live) == ["cool_user", "speedy_sam"]
    assert live["cool_user"]["title"] == "Testing"


# -- EventSub subscriptions ----------------------------------------------------------------


def test_subscriptions_are_created_listed_filtered_and_deleted(
    client, twitch_emulator, callback_server, redis_client
):
    created = subscribe(client, f"{callback_server.url}/callback")
    assert created["type"] == "stream.online"
    assert created["condition"] == {"broadcaster_user_id": COOL_USER_ID}
    assert (created["total"], created["total_cost"], created["max_total_cost"]) == (1, 1, 10000)
    failing = subscribe(
        client,
        f"http://127.0.0.1:{free_port()}/callback",
        kind="channel.update",
        user_id="122699689",
    )

    def status_of(sub_id):
        return client.eventsub_subscriptions(subscription_id=sub_id)["data"][0]["status"]

    wait_until(lambda: status_of(created["id"]) == "enabled", message="verification")
    wait_until(
        lambda: status_of(failing["id"]) == "webhook_callback_verification_failed",
        message="failed verification",
    )
    everything = client.eventsub_subscriptions()
    assert sorted(s["id"] for s in everything["data"]) == sorted([created["id"], failing["id"]])
    assert everything["total"] == 2 and everything["max_total_cost"] == 10000

    def ids(**only):
        return [s["id"] for s in client.eventsub_subscriptions(**only)["data"]]

    assert ids(status="enabled") == [created["id"]]
    assert ids(type="channel.update") == [failing["id"]]
    assert ids(user_id=COOL_USER_ID) == [created["id"]]
    assert ids(subscription_id=failing["id"]) == [failing["id"]]
    assert ids(status="authorization_revoked") == []

    client.delete_eventsub_subscription(created["id"])
    assert ids() == [failing["id"]]
    with pytest.raises(TwitchNotFound):
        client.delete_eventsub_subscription(created["id"])


def test_budget_figures_are_kept_in_redis(client, twitch_emulator, callback_server, redis_client):
    assert eventsub_cost(redis_client) == {}
    subscribe(client, f"{callback_server.url}/callback")
    subscribe(client, f"{callback_server.url}/callback", kind="stream.offline")
    figures = eventsub_cost(redis_client)
    assert (figures["total"], figures["total_cost"], figures["max_total_cost"]) == (2, 2, 10000)
    assert figures["updated_at"] <= time.time()
    client.delete_eventsub_subscription(client.eventsub_subscriptions()["data"][0]["id"])
    client.eventsub_subscriptions(type="stream.online")
    assert eventsub_cost(redis_client)["total_cost"] == 1


def test_an_existing_subscription_is_reported(client, twitch_emulator, callback_server):
    subscribe(client, f"{callback_server.url}/callback")
    with pytest.raises(SubscriptionExists) as caught:
        subscribe(client, f"{callback_server.url}/callback")
    assert caught.value.status == 409
    assert "already exists" in caught.value.message


def test_too_many_alike_subscriptions_are_reported(client, twitch_emulator, callback_server):
    for n in range(3):
        subscribe(client, f"{callback_server.url}/callback{n}")
    with pytest.raises(TooManySubscriptions) as caught:
        subscribe(client, f"{callback_server.url}/callback3")
    assert caught.value.status == 429 and "too many" in caught.value.message


def test_every_page_is_followed(clients, settings, stand_in):
    pages = {None: (["a", "b"], "c1"), "c1": (["c", "d"], "c2"), "c2": (["e"], None)}

    def page():
        after = stand_in.seen[-1].query.get("after", [None])[0]
        data, cursor = pages[after]
        return (
            200,
            {
                "data": [{"id": i, "status": "enabled"} for i in data],
                "total": 5,
                "total_cost": 5,
                "max_total_cost": 10000,
                "pagination": {"cursor": cursor} if cursor else {},
            },
            {},
        )

    stand_in.answers[("GET", "/helix/eventsub/subscriptions")] = [page]
    listing = clients(stand_in.settings_for(settings)).eventsub_subscriptions(status="enabled")
    assert [s["id"] for s in listing["data"]] == ["a", "b", "c", "d", "e"]
    assert (listing["total"], listing["total_cost"], listing["max_total_cost"]) == (5, 5, 10000)
    assert [s.query for s in stand_in.helix()] == [
        {"status": ["enabled"]},
        {"status": ["enabled"], "after": ["c1"]},
        {"status": ["enabled"], "after": ["c2"]},
    ]


def test_two_filters_at_once_are_refused_before_any_call(clients, settings, stand_in):
    client = clients(stand_in.settings_for(settings))
    with pytest.raises(ValueError):
        client.eventsub_subscriptions(status="enabled", type="stream.online")
    with pytest.raises(ValueError):
        client.eventsub_subscriptions(user_id="1", subscription_id="x")
    assert stand_in.seen == []


def test_a_create_retried_after_a_server_error_reports_the_subscription_exists(
    clients, settings, stand_in
):
    stand_in.answers[("POST", "/helix/eventsub/subscriptions")] = [
        problem(500, "Internal Server Error"),
        problem(409, "subscription already exists"),
    ]
    client = clients(stand_in.settings_for(settings))
    with pytest.raises(SubscriptionExists):
        subscribe(client, "https://example.org/callback")
    assert len(stand_in.helix("POST")) == 2


def test_the_webhook_secret_never_shows_in_errors(clients, settings, stand_in):
    stand_in.answers[("POST", "/helix/eventsub/subscriptions")] = [
        lambda: problem(400, f"bad request: {stand_in.seen[-1].body.decode()}")
    ]
    client = clients(stand_in.settings_for(settings))
    with pytest.raises(TwitchError) as caught:
        subscribe(client, "https://example.org/callback")
    assert caught.value.status == 400
    assert "bad request" in str(caught.value)
    assert SECRET not in f"{caught.value} {caught.value!r}"


# -- failures, retries and rate limits -----------------------------------------------------


def test_server_errors_are_retried_with_backoff(clients, settings, stand_in, pauses):
    stand_in.answers[("GET", "/helix/users")] = [
        problem(503, "Service Unavailable"),
        problem(502, "Bad Gateway"),
        users("cool_user"),
    ]
    client = clients(stand_in.settings_for(settings))
    assert client.user_by_login("cool_user")["login"] == "cool_user"
    assert len(stand_in.helix()) == 3
    # urllib3 retries the first failure at once, then backs off exponentially.
    assert pauses == [BACKOFF * 2]


def test_lasting_server_errors_are_twitch_unavailable(clients, settings, stand_in, pauses):
    stand_in.answers[("GET", "/helix/streams")] = [problem(503, "Service Unavailable")]
    client = clients(stand_in.settings_for(settings))
    with pytest.raises(TwitchUnavailable) as caught:
        client.streams_by_id([COOL_USER_ID])
    assert caught.value.status == 503 and caught.value.message == "Service Unavailable"
    assert len(stand_in.helix()) == 1 + RETRIES
    assert pauses == BACKOFFS


def test_connection_refused_is_twitch_unavailable(
    clients, twitch_settings, twitch_emulator, redis_client, pauses
):
    dead = f"http://127.0.0.1:{free_port()}"
    client = clients(dataclasses.replace(twitch_settings, twitch_api_url=f"{dead}/helix"))
    with pytest.raises(TwitchUnavailable) as caught:
        client.user_by_login("cool_user")
    assert caught.value.status is None and "connection failed" in str(caught.value)
    assert pauses == BACKOFFS
    client = clients(dataclasses.replace(twitch_settings, twitch_auth_url=f"{dead}/oauth2"))
    redis_client.delete(APP_TOKEN)
    with pytest.raises(TwitchUnavailable):
        client.user_by_login("cool_user")
    assert pauses == BACKOFFS * 2


def test_a_slow_answer_times_out(clients, settings, stand_in, monkeypatch, pauses):
    def slow():
        time.sleep(1)
        return users("cool_user")

    stand_in.answers[("GET", "/helix/users")] = [slow]
    monkeypatch.setattr(twitch_session, "TIMEOUT", (1, 0.2))
    client = clients(stand_in.settings_for(settings))
    with pytest.raises(TwitchUnavailable) as caught:
        client.user_by_login("cool_user")
    assert caught.value.status is None and "timed out" in str(caught.value)
    assert len(stand_in.helix()) == 1 + RETRIES
    assert pauses == BACKOFFS


def test_a_429_is_waited_out_until_the_reset(clients, settings, stand_in, redis_client, pauses):
    reset = int(time.time()) + 2
    stand_in.answers[("GET", "/helix/users")] = [empty_bucket(reset), users("cool_user")]
    client = clients(stand_in.settings_for(settings))
    assert client.user_by_login("cool_user")["login"] == "cool_user"
    first, second = stand_in.helix()
    # The 429 asks for a pause until the reset; as no time passed (the pause was only
    # recorded), the budget check before the repeat asks for the same pause again.
    assert len(pauses) == 2
    for pause in pauses:
        assert reset - second.at + HEADROOM <= pause <= reset - first.at + HEADROOM


def test_the_emulators_rate_limit_is_waited_out(clients, settings, twitch_emulator_factory, pauses):
    emulator = twitch_emulator_factory(
        TWITCH_EMULATOR_RATE_LIMIT="3", TWITCH_EMULATOR_RATE_WINDOW="2"
    )
    client = clients(emulator.settings_for(settings), sleep=True)
    for _ in range(3):
        requests.get(
            f"{emulator.url}/helix/users",
            timeout=5,
            headers={"Client-Id": settings.twitch_client_id},
        )
    assert client.user_by_login("cool_user")["id"] == COOL_USER_ID
    # The window is 2 s; Twitch's reset time is in whole seconds.
    assert pauses and all(0 < pause <= 2 + 1 + HEADROOM for pause in pauses)


def test_rate_limited_after_the_allowed_waits(clients, settings, twitch_emulator_factory):
    emulator = twitch_emulator_factory(
        TWITCH_EMULATOR_RATE_LIMIT="3", TWITCH_EMULATOR_RATE_WINDOW="30"
    )
    client = clients(emulator.settings_for(settings))
    client.rate_limit_retries = 0
    for _ in range(3):
        requests.get(
            f"{emulator.url}/helix/users",
            timeout=5,
            headers={"Client-Id": settings.twitch_client_id},
        )
    with pytest.raises(TwitchRateLimited) as caught:
        client.user_by_login("cool_user")
    assert caught.value.status == 429


def test_a_nearly_spent_budget_pauses_until_the_reset(
    clients, settings, twitch_emulator_factory, redis_client, pauses
):
    emulator = twitch_emulator_factory(
        TWITCH_EMULATOR_RATE_LIMIT="5", TWITCH_EMULATOR_RATE_WINDOW="2"
    )
    client = clients(emulator.settings_for(settings), sleep=True)
    client.rate_limit_retries = 0
    for _ in range(5):
        client.user_by_login("cool_user")
    budget = redis_client.hgetall(RATE_LIMIT)
    assert (budget["limit"], budget["remaining"]) == ("5", "0")
    assert client.user_by_login("cool_user")["id"] == COOL_USER_ID, "paused instead of a 429"
    assert time.time() >= int(budget["reset"])
    assert len(pauses) == 1


def test_a_client_that_does_not_wait_fails_fast_on_an_empty_bucket(
    clients, settings, stand_in, redis_client
):
    reset = int(time.time()) + 30
    stand_in.answers[("GET", "/helix/users")] = [empty_bucket(reset), users("cool_user")]
    client = TwitchClient(stand_in.settings_for(settings), redis_client, wait_on_rate_limit=False)
    started = time.monotonic()
    with pytest.raises(TwitchRateLimited) as caught:
        client.user_by_login("cool_user")
    assert time.monotonic() - started < 2
    assert caught.value.reset_at == reset and 28 <= caught.value.retry_after() <= 30
    assert len(stand_in.helix()) == 1
    # The budget Twitch reported is now spent: the next call does not even ask.
    with pytest.raises(TwitchRateLimited) as caught:
        client.user_by_login("cool_user")
    assert len(stand_in.helix()) == 1 and caught.value.reset_at == reset
    client.close()
