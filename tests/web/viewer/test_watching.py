"""One streamer's answer for the watch API, called directly in a request of the app
against the Twitch emulator and the test Redis: the name rule, the viewer's rate limit,
the lookups kept, holding the subscriptions, and Twitch's failures said plainly."""

from __future__ import annotations

import json
import time

import pytest

from shared.events import channel_name
from shared.eventsub import ENABLED
from shared.leases import ALERT, new_lease, save_lease
from shared.task_names import ENSURE_SUBSCRIPTIONS
from shared.twitch.errors import TwitchError, TwitchNotFound, TwitchRateLimited, TwitchUnavailable
from web.viewer.watching import (
    LOGIN_RULE,
    USER_TTL,
    WATCHES_PER_MINUTE,
    WatchRefused,
    find_streamer,
    refusal_for,
    watch_streamer,
)

pytestmark = pytest.mark.timeout(60)

VIEWER_ID = "424242"
COOL_USER = {"id": "958187706", "login": "cool_user", "name": "Cool_User"}


@pytest.fixture
def app(twitch_app):
    return twitch_app


def queued_tasks(redis_client, queue="maintenance"):
    return [json.loads(m)["headers"]["task"] for m in redis_client.lrange(queue, 0, -1)]


def watch(app, name, viewer_id=VIEWER_ID) -> dict:
    with app.test_request_context():
        return watch_streamer(viewer_id, name)


def refused(app, name, viewer_id=VIEWER_ID) -> WatchRefused:
    with pytest.raises(WatchRefused) as refusal:
        watch(app, name, viewer_id)
    return refusal.value


def spend_eventsub_budget(redis_client):
    redis_client.hset(
        "sev:twitch:eventsub-cost",
        mapping={"total": 1, "total_cost": 10000, "max_total_cost": 10000},
    )


def test_a_name_is_taken_trimmed_and_in_lower_case(app, redis_client):
    answer = watch(app, "  Cool_User ")
    assert answer["streamer"]["login"] == "cool_user"
    assert answer["channel"] == channel_name("cool_user")


@pytest.mark.parametrize(
    "name", [None, 42, ["cool_user"], "", "abc", "a" * 26, "cool user", "cööl_user", "cool-user"]
)
def test_what_is_not_a_twitch_name_is_refused_with_the_rule(app, redis_client, name):
    refusal = refused(app, name)
    assert (refusal.status, refusal.message, refusal.retry_after) == (400, LOGIN_RULE, None)


def test_every_ask_counts_against_the_viewers_limit_even_a_refused_name(app, redis_client):
    for _ in range(WATCHES_PER_MINUTE):
        assert refused(app, "no").status == 400
    refusal = refused(app, "cool_user")
    assert (refusal.status, refusal.retry_after) == (429, 60)
    # Another viewer has a budget of their own.
    assert watch(app, "cool_user", viewer_id="515151")["streamer"]["login"] == "cool_user"


def test_a_streamer_is_looked_up_once_and_kept_a_while(app, redis_client):
    with app.test_request_context():
        user = find_streamer(redis_client, "cool_user")
        assert user["id"] == COOL_USER["id"]
        assert 0 < redis_client.ttl("sev:cache:user:cool_user") <= USER_TTL
        remaining = redis_client.hget("sev:twitch:ratelimit", "remaining")
        assert find_streamer(redis_client, "cool_user") == user
        assert redis_client.hget("sev:twitch:ratelimit", "remaining") == remaining


def test_an_unknown_streamer_is_404(app, redis_client):
    refusal = refused(app, "nobody_by_that_name")
    assert refusal.status == 404 and "nobody_by_that_name" in refusal.message


def test_a_new_streamer_queues_the_work_to_hold_its_subscriptions(app, redis_client):
    watch(app, "cool_user")
    assert queued_tasks(redis_client) == [ENSURE_SUBSCRIPTIONS]


def test_a_spent_eventsub_budget_refuses_only_a_streamer_without_a_lease(app, redis_client):
    spend_eventsub_budget(redis_client)
    refusal = refused(app, "cool_user")
    assert refusal.status == 503 and "as many streamers" in refusal.message
    assert queued_tasks(redis_client) == []

    # Held for a viewer's go-live alerts, the streamer's subscriptions cost little more.
    lease = new_lease(COOL_USER, reason=ALERT)
    lease["subscriptions"] = {"stream.online": {"id": "online", "status": ENABLED}}
    save_lease(redis_client, lease)
    assert watch(app, "cool_user")["streamer"]["login"] == "cool_user"
    assert queued_tasks(redis_client) == [ENSURE_SUBSCRIPTIONS]


def test_twitchs_failures_are_said_plainly(app):
    spent = TwitchRateLimited(429, "Too Many Requests")
    spent.reset_at = time.time() + 12.5
    with app.test_request_context():
        rate_limited = refusal_for(spent)
        unavailable = refusal_for(TwitchUnavailable(None, "connection refused"))
        not_found = refusal_for(TwitchNotFound(404, "Not Found"))
        other = refusal_for(TwitchError(400, "Bad Request"))
    assert rate_limited.status == 503 and rate_limited.retry_after in (13, 14)
    assert "rate limit" in rate_limited.message
    assert (unavailable.status, unavailable.retry_after) == (503, None)
    assert "not answering" in unavailable.message
    assert not_found.status == other.status == 502
