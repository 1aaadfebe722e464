"""WebSub notifications turned into stream events, against a real Redis: each compared
with the last snapshot, a body sent again dropped, the same entry offered again."""

import json
from datetime import UTC, datetime

import pytest

from shared.leases import WEBSUB, new_lease, save_lease
from shared.websub import LINK, NOTIFICATION_ID, NOTIFICATION_TIMESTAMP, topic_for
from tests.worker.support import STREAM


@pytest.fixture
def websub(worker_environment, redis_client):
    """The module, with a lease held on broadcaster 1337's stream topic."""
    from worker import websub

    save_lease(redis_client, new_lease({"id": "1337", "login": "cool_user"}, WEBSUB))
    return websub


def headers(notification_id="n-1", timestamp="2026-01-01T12:00:00Z", user_id="1337"):
    topic = topic_for("https://api.twitch.tv/helix", user_id)
    return {
        LINK: f'<https://api.twitch.tv/helix/webhooks/hub>; rel="hub", <{topic}>; rel="self"',
        NOTIFICATION_ID: notification_id,
        NOTIFICATION_TIMESTAMP: timestamp,
    }


def notify(websub, client, streams, entry_id, **header_fields):
    """The event of one notification showing ``streams``, as the ingest asks for it."""
    body = json.dumps({"data": streams})
    return websub.websub_events(client, headers(**header_fields), body, entry_id)


def test_a_stream_showing_up_goes_live_and_is_remembered(websub, redis_client):
    event = notify(websub, redis_client, [STREAM], "1-0")
    assert event["type"] == "stream.online" and event["id"] == "n-1"
    assert (event["stream_id"], event["title"], event["category_name"]) == (
        "9001",
        "Legacy",
        "Chess",
    )
    assert event["started_at"] == "2026-01-01T11:59:00Z"
    assert event["occurred_at"] == "2026-01-01T12:00:00Z", "the notification's time"
    assert redis_client.hgetall(websub.stream_state_key("1337")) == {
        "stream_id": "9001",
        "title": "Legacy",
        "category_name": "Chess",
    }


def test_a_new_title_is_an_update_and_an_empty_list_ends_the_stream(websub, redis_client):
    notify(websub, redis_client, [STREAM], "1-0")
    update = notify(websub, redis_client, [dict(STREAM, title="New")], "2-0", notification_id="n-2")
    assert update["type"] == "channel.update" and update["title"] == "New"
    unchanged = notify(websub, redis_client, [dict(STREAM, title="New", viewer_count=5)], "3-0")
    assert unchanged is None, "nothing we show changed"
    offline = notify(websub, redis_client, [], "4-0", notification_id="n-4")
    assert offline["type"] == "stream.offline"
    assert not redis_client.exists(websub.stream_state_key("1337"))
    assert notify(websub, redis_client, [], "5-0", notification_id="n-5") is None, (
        "offline twice tells nothing"
    )


def test_a_topic_without_a_lease_is_dropped(websub, redis_client):
    assert notify(websub, redis_client, [STREAM], "1-0", user_id="42") is None
    assert not redis_client.exists(websub.stream_state_key("42"))
    assert redis_client.keys("sev:websub:accepted:*") == []


def test_a_body_accepted_before_is_dropped_when_another_entry_brings_it(websub, redis_client):
    assert notify(websub, redis_client, [STREAM], "1-0") is not None
    notify(websub, redis_client, [dict(STREAM, title="Second")], "2-0")
    assert notify(websub, redis_client, [STREAM], "3-0", notification_id="n-3") is None
    assert redis_client.hgetall(websub.stream_state_key("1337"))["title"] == "Second"
    for key in redis_client.keys("sev:websub:accepted:*"):
        assert websub.REPLAY_MEMORY_SECONDS - 60 < redis_client.ttl(key)


def test_a_notification_without_a_time_takes_the_time_it_arrived(websub, redis_client):
    before = datetime.now(UTC).isoformat()[:19]
    event = notify(websub, redis_client, [STREAM], "1-0", timestamp="")
    assert before <= event["occurred_at"][:19] <= datetime.now(UTC).isoformat()[:19]


def test_a_malformed_time_or_body_is_refused_and_not_remembered(websub, redis_client):
    with pytest.raises(ValueError):
        notify(websub, redis_client, [STREAM], "1-0", timestamp="noon")
    with pytest.raises(ValueError):
        notify(websub, redis_client, [dict(STREAM, id="abc")], "2-0")
    assert redis_client.keys("sev:websub:*") == []


def test_each_stream_may_end_with_the_same_body(websub, redis_client):
    for number, stream_id in enumerate(("9001", "9002")):
        notify(websub, redis_client, [dict(STREAM, id=stream_id)], f"{number}-1")
        ended = notify(websub, redis_client, [], f"{number}-2", notification_id=f"n-{number}")
        assert ended["type"] == "stream.offline", f"the end of stream {stream_id}"


def test_the_same_entry_offered_again_gives_its_event_again(websub, redis_client):
    first = notify(websub, redis_client, [STREAM], "1-0")
    again = notify(websub, redis_client, [STREAM], "1-0")
    assert again == first
