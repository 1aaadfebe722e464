"""The viewer page's JSON API against the Twitch emulator and the test Redis."""

import json

import pytest

from shared.leases import new_lease, save_lease, get_lease
from tests.web.test_auth import log_in
from web import create_app

pytestmark = pytest.mark.timeout(60)
FROM_OUR_PAGE = {"Origin": "http://localhost:5000"}


@pytest.fixture
def app(twitch_settings, redis_client):
    app = create_app(twitch_settings)
    app.config.update(TESTING=True)
    return app


@pytest.fixture
def viewer(client, twitch_emulator):
    """A client logged in as viewer_vic."""
    assert log_in(client, twitch_emulator).status_code in (302, 303)
    return client


def watch(client, streamer, headers=FROM_OUR_PAGE):
    return client.post("/api/watch", json={"streamer": streamer}, headers=headers)


def queued_tasks(redis_client, queue="maintenance"):
    return [json.loads(m)["headers"]["task"] for m in redis_client.lrange(queue, 0, -1)]


def test_logged_out_is_401(client, twitch_emulator):
    assert watch(client, "cool_user").status_code == 401
    assert client.get("/api/follows/live").status_code == 401


def test_watch_answers_what_the_page_needs(viewer, redis_client, twitch_settings):
    response = watch(viewer, "Cool_User")
    assert response.status_code == 200
    body = response.json
    assert body["channel"] == "cool_user"
    assert body["streamer"]["display_name"] == "Cool_User" and body["streamer"]["id"]
    assert body["live"] is None
    assert body["title"] == "Best Stream Ever" and body["category"] == "Fortnite"
    assert body["recent_events"] == []
    assert body["pusher"] == {"key": twitch_settings.pusher_key, "cluster": "local",
                              "host": "127.0.0.1", "port": 6001, "tls": False}
    assert twitch_settings.pusher_secret not in response.get_data(as_text=True)
    assert queued_tasks(redis_client) == ["maintenance.ensure_subscriptions"]


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
    lease["subscriptions"] = {kind: {"id": kind, "status": "enabled"}
                              for kind in ("stream.online", "stream.offline", "channel.update")}
    save_lease(redis_client, lease)
    assert watch(viewer, "cool_user").status_code == 200
    assert queued_tasks(redis_client) == []
    assert get_lease(redis_client, "958187706")["expires_at"] > 0


def test_a_spent_budget_is_a_clear_error(viewer, redis_client):
    redis_client.hset("sev:twitch:eventsub-cost",
                      mapping={"total": 1, "total_cost": 10000, "max_total_cost": 10000})
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
