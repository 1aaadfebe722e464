"""The viewer page's JSON API against the Twitch emulator and the test Redis."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from shared.eventsub import ENABLED, SUBSCRIPTION_VERSIONS, format_eventsub_timestamp
from shared.leases import get_lease, new_lease, save_lease
from shared.store import queue_stream_state, remember_channel_state
from tests.web.support import FROM_OUR_PAGE, log_in, watch
from web import create_app
from web.viewer.watching import LOGIN_RULE

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def app(twitch_app):
    return twitch_app


def queued_tasks(redis_client, queue="maintenance"):
    return [json.loads(m)["headers"]["task"] for m in redis_client.lrange(queue, 0, -1)]


def test_logged_out_is_401(client, twitch_emulator):
    assert watch(client, "cool_user").status_code == 401
    assert client.get("/api/follows/live").status_code == 401


def test_watch_answers_what_the_page_needs(viewer, redis_client, twitch_settings):
    response = watch(viewer, "Cool_User")
    assert response.status_code == 200
    body = response.json
    assert body["channel"] == "private-cool_user"
    assert body["streamer"]["display_name"] == "Cool_User" and body["streamer"]["id"]
    assert body["live"] is None
    assert body["title"] == "Best Stream Ever" and body["category"] == "Fortnite"
    assert body["recent_events"] == []
    assert body["pusher"] == {
        "key": twitch_settings.pusher_key,
        "cluster": "local",
        "host": "127.0.0.1",
        "port": 6001,
        "tls": False,
    }
    assert twitch_settings.pusher_secret not in response.get_data(as_text=True)
    assert queued_tasks(redis_client) == ["subscriptions.ensure_subscriptions"]


def test_a_live_streamer_has_its_stream(viewer):
    body = watch(viewer, "speedy_sam").json
    assert body["live"]["title"] == "Any% practice, then PB attempts"
    assert body["live"]["viewers"] >= 0 and body["live"]["started_at"]


@pytest.mark.parametrize("name", ["abc", "x" * 26, "bad name!", "", 42, None])
def test_malformed_names_are_400(viewer, name):
    response = watch(viewer, name)
    assert response.status_code == 400 and "4 to 25" in response.json["error"]


def test_unknown_streamer_is_404(viewer):
    response = watch(viewer, "nobody_here")
    assert response.status_code == 404
    assert response.json["error"] == "no Twitch channel named nobody_here"


def test_cross_site_requests_are_refused(viewer, redis_client):
    for headers in ({}, {"Origin": "https://evil.example"}):
        assert watch(viewer, "cool_user", headers).status_code == 403
    assert queued_tasks(redis_client) == []


def test_a_crowd_costs_twitch_one_lookup(viewer, redis_client):
    watch(viewer, "cool_user")
    remaining = redis_client.hget("sev:twitch:ratelimit", "remaining")
    for _ in range(5):
        assert watch(viewer, "cool_user").status_code == 200
    assert redis_client.hget("sev:twitch:ratelimit", "remaining") == remaining


def test_a_healthy_lease_is_renewed_without_queuing(viewer, redis_client):
    lease = new_lease({"id": "958187706", "login": "cool_user", "name": "Cool_User"})
    lease["subscriptions"] = {
        kind: {"id": kind, "status": ENABLED} for kind in SUBSCRIPTION_VERSIONS
    }
    save_lease(redis_client, lease)
    assert watch(viewer, "cool_user").status_code == 200
    assert queued_tasks(redis_client) == []
    assert get_lease(redis_client, "958187706")["expires_at"] > 0


def test_a_spent_budget_is_a_clear_error(viewer, redis_client):
    redis_client.hset(
        "sev:twitch:eventsub-cost",
        mapping={"total": 1, "total_cost": 10000, "max_total_cost": 10000},
    )
    response = watch(viewer, "cool_user")
    assert response.status_code == 503 and "as many streamers" in response.json["error"]


def test_watching_is_rate_limited_per_viewer(viewer):
    codes = [watch(viewer, "cool_user").status_code for _ in range(31)]
    assert codes[:30] == [200] * 30 and codes[30] == 429


def test_live_follows(viewer):
    response = viewer.get("/api/follows/live")
    assert response.status_code == 200
    logins = [channel["login"] for channel in response.json["data"]]
    assert sorted(logins) == ["chill_chess", "speedy_sam"]
    assert all(channel["title"] for channel in response.json["data"])


COOL_USER_ID = "958187706"


def twitch_time(offset_seconds: float = 0.0) -> str:
    """A Twitch time (and ordering key) ``offset_seconds`` from now."""
    return format_eventsub_timestamp(datetime.now(UTC) + timedelta(seconds=offset_seconds))


def record_stream(redis_client, broadcaster_id, at, live, stream_id=""):
    """Record a go-live or go-offline as the pump does when it publishes one."""
    with redis_client.pipeline(transaction=False) as pipe:
        queue_stream_state(pipe, broadcaster_id, at, live, stream_id, at if live else "", 600)
        pipe.execute()


def test_the_status_follows_events_newer_than_twitchs_answer(viewer, redis_client):
    before = watch(viewer, "cool_user").json  # Twitch's answer, now kept a while
    assert before["live"] is None and before["title"] == "Best Stream Ever"
    updated_at, online_at, offline_at = twitch_time(1), twitch_time(2), twitch_time(3)
    remember_channel_state(redis_client, COOL_USER_ID, "Ranked grind", "Minecraft", 600, updated_at)
    record_stream(redis_client, COOL_USER_ID, online_at, True, "s-9")
    body = watch(viewer, "cool_user").json
    assert (body["title"], body["category"]) == ("Ranked grind", "Minecraft")
    assert body["live"]["stream_id"] == "s-9" and body["live"]["title"] == "Ranked grind"
    assert body["live"]["started_at"] == online_at and body["status_as_of"] == online_at
    record_stream(redis_client, COOL_USER_ID, offline_at, False)
    body = watch(viewer, "cool_user").json
    assert body["live"] is None and body["status_as_of"] == offline_at
    assert before["status_as_of"] < updated_at


def test_answers_kept_from_before_a_restart_never_beat_newer_events(viewer, redis_client):
    kept_since = time.time() - 200  # Twitch's answers kept in Redis, two updates ago
    redis_client.set(
        f"sev:helix:channel:{COOL_USER_ID}",
        json.dumps(
            {"asked_at": kept_since, "answer": {"title": "Two updates old", "game_name": "Old"}}
        ),
        ex=300,
    )
    remember_channel_state(
        redis_client, COOL_USER_ID, "The newest", "Chess", 600, twitch_time(-100)
    )
    body = watch(viewer, "cool_user").json
    assert (body["title"], body["category"]) == ("The newest", "Chess")


def test_twitchs_answer_newer_than_the_events_wins(viewer, redis_client):
    an_hour_ago = twitch_time(-3600)
    record_stream(redis_client, COOL_USER_ID, an_hour_ago, True, "s-1")
    remember_channel_state(redis_client, COOL_USER_ID, "Stale", "Old", 600, an_hour_ago)
    body = watch(viewer, "cool_user").json
    assert body["live"] is None and body["title"] == "Best Stream Ever"
    assert body["status_as_of"] > an_hour_ago


def test_a_stream_the_events_ended_is_not_live_whatever_twitch_still_lists(viewer, redis_client):
    stream_id = watch(viewer, "speedy_sam").json["live"]["stream_id"]
    record_stream(redis_client, "122699689", twitch_time(-3601), True, stream_id)
    record_stream(redis_client, "122699689", twitch_time(-3600), False)
    redis_client.delete("sev:helix:stream:122699689")  # ask Twitch again: it still lists it
    assert watch(viewer, "speedy_sam").json["live"] is None


def live_logins(response):
    assert response.status_code == 200
    return sorted(card["login"] for card in response.json["data"])


def test_a_refresh_asks_twitch_again_at_most_every_five_seconds(viewer, twitch_emulator):
    assert live_logins(viewer.get("/api/follows/live")) == ["chill_chess", "speedy_sam"]
    twitch_emulator.control("go-live", login="cool_user")
    try:
        assert "cool_user" not in live_logins(viewer.get("/api/follows/live")), "kept 30 s"
        assert "cool_user" in live_logins(viewer.get("/api/follows/live?refresh=1"))
    finally:
        twitch_emulator.control("go-offline", login="cool_user")
    assert "cool_user" in live_logins(viewer.get("/api/follows/live?refresh=1")), (
        "a second refresh within 5 s is answered from what was kept"
    )


def test_live_follows_say_which_we_watch_and_carry_the_newest_state(viewer, redis_client):
    save_lease(
        redis_client, new_lease({"id": "122699689", "login": "speedy_sam", "name": "SpeedySam"})
    )
    remember_channel_state(
        redis_client, "122699689", "World record pace", "Super Mario 64", 600, twitch_time()
    )
    cards = {card["login"]: card for card in viewer.get("/api/follows/live").json["data"]}
    assert cards["speedy_sam"]["watched"] is True and cards["chill_chess"]["watched"] is False
    assert cards["speedy_sam"]["title"] == "World record pace"
    assert cards["speedy_sam"]["status_as_of"] > cards["chill_chess"]["status_as_of"]
    record_stream(redis_client, "197110752", twitch_time(), False)  # chill_chess just ended
    assert live_logins(viewer.get("/api/follows/live")) == ["speedy_sam"]


def watch_many(client, streamers):
    return client.post("/api/watch", json={"streamers": streamers}, headers=FROM_OUR_PAGE)


def test_any_request_body_over_the_limit_is_413_saying_the_limit(viewer):
    body = json.dumps({"streamer": "cool_user", "padding": "x" * (64 * 1024)})
    response = viewer.post(
        "/api/watch", data=body, headers=FROM_OUR_PAGE, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json == {"error": "request body is larger than 64 KiB"}


def test_several_streamers_answer_each_and_one_bad_name_sinks_none(viewer, redis_client):
    response = watch_many(viewer, ["Cool_User", "ab", 7, " cool_user "])
    assert response.status_code == 200
    streams = response.json["streams"]
    assert [s["status"] for s in streams] == [200, 400, 400]
    assert streams[0]["channel"] == "private-cool_user"
    assert streams[0]["streamer"]["display_name"] == "Cool_User"
    assert streams[1] == {
        "streamer_input": "ab",
        "status": 400,
        "error": LOGIN_RULE,
        "retry_after": None,
    }
    assert streams[2]["streamer_input"] is None
    assert response.json["pusher"]["key"]
    streams = watch_many(viewer, ["nobody_here", "speedy_sam"]).json["streams"]
    assert [s["status"] for s in streams] == [404, 200]
    assert streams[0]["error"] == "no Twitch channel named nobody_here"
    assert streams[1]["channel"] == "private-speedy_sam"
    assert [s["status"] for s in watch_many(viewer, [7, None]).json["streams"]] == [400, 400]
    assert queued_tasks(redis_client) == ["subscriptions.ensure_subscriptions"] * 2


@pytest.mark.parametrize(
    "streamers", [[], ["a1b2", "c3d4", "e5f6", "g7h8", "i9j0"], "cool_user", {"cool_user": 1}]
)
def test_a_list_of_streamers_must_hold_one_to_four_names(viewer, streamers):
    response = watch_many(viewer, streamers)
    assert response.status_code == 400 and "1 to 4 names" in response.json["error"]


def test_each_streamer_in_a_list_counts_against_the_rate_limit(viewer):
    for _ in range(7):
        assert (
            watch_many(viewer, ["cool_user", "speedy_sam", "chill_chess", "night_owl"]).status_code
            == 200
        )
    statuses = [
        s["status"]
        for s in watch_many(viewer, ["cool_user", "speedy_sam", "chill_chess", "night_owl"]).json[
            "streams"
        ]
    ]
    assert statuses == [200, 200, 429, 429]
    assert watch(viewer, "cool_user").status_code == 429


@pytest.mark.parametrize("body", [[1, 2, 3], "cool_user", 42, True, ["streamer"]])
def test_a_json_body_that_is_not_an_object_is_400_logged_once(viewer, caplog, body):
    caplog.clear()
    response = viewer.post("/api/watch", json=body, headers=FROM_OUR_PAGE)
    assert response.status_code == 400 and "JSON object" in response.json["error"]
    rejected = [r for r in caplog.records if "rejected /api/watch" in r.getMessage()]
    assert len(rejected) == 1 and rejected[0].exc_info is None


def test_a_spent_twitch_rate_limit_is_503_with_retry_after_not_a_sleep(
    settings, redis_client, twitch_emulator_factory
):
    """The emulator's bucket (20 points a 30 s window) is spent; the web must not wait
    for its reset inside the request."""
    import requests

    emulator = twitch_emulator_factory(
        TWITCH_EMULATOR_RATE_LIMIT="20", TWITCH_EMULATOR_RATE_WINDOW="30"
    )
    app = create_app(emulator.settings_for(settings))
    app.config.update(TESTING=True)
    client = app.test_client()
    assert log_in(client, emulator).status_code in (302, 303)
    for _ in range(40):
        answer = requests.get(
            f"{emulator.url}/helix/users",
            timeout=5,
            headers={"Client-Id": settings.twitch_client_id},
        )
        if answer.status_code == 429:
            break
    assert answer.status_code == 429
    started = time.monotonic()
    response = watch(client, "cool_user")
    assert time.monotonic() - started < 5, "the request thread waited for the reset"
    assert response.status_code == 503 and "rate limit" in response.json["error"]
    assert 1 <= int(response.headers["Retry-After"]) <= 31
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("body", [b"[" * 30_000 + b"]" * 30_000, b"[" * 65_536])
def test_json_nested_too_deeply_is_a_400_not_a_500(viewer, body):
    response = viewer.post(
        "/api/watch",
        data=body,
        headers={**FROM_OUR_PAGE, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "error" in response.json
