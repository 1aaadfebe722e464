"""Legacy WebSub: signatures, topics and the mapping of stream snapshots to events."""

import hashlib
import hmac

import pytest

from shared.websub import (
    events_from_streams,
    topic_for,
    topic_from_link,
    topic_user_id,
    verify_websub_signature,
)

LEASE = {"broadcaster_id": "1337", "login": "cool_user", "name": "Cool_User"}
STREAM = {
    "id": "9001",
    "user_id": "1337",
    "type": "live",
    "title": "Best Stream Ever",
    "game_id": "33214",
    "game_name": "Fortnite",
    "started_at": "2026-01-01T12:00:00Z",
}


def events(body, previous=None):
    return events_from_streams(body, LEASE, previous or {}, "n-1", "2026-01-01T12:00:01Z")


def test_signature():
    body = b'{"data":[]}'
    good = "sha256=" + hmac.new(b"s3cret-value", body, hashlib.sha256).hexdigest()
    assert verify_websub_signature("s3cret-value", body, good)
    assert not verify_websub_signature("other-value", body, good)
    assert not verify_websub_signature("s3cret-value", body + b" ", good)
    assert not verify_websub_signature("s3cret-value", body, "")


def test_topics():
    topic = topic_for("https://api.twitch.tv/helix", "1337")
    assert topic == "https://api.twitch.tv/helix/streams?user_id=1337"
    assert topic_user_id(topic) == "1337"
    link = f'<https://api.twitch.tv/helix/webhooks/hub>; rel="hub", <{topic}>; rel="self"'
    assert topic_from_link(link) == topic
    assert topic_from_link('<https://x/hub>; rel="hub"') is None


def test_a_stream_appearing_is_online():
    [event] = events({"data": [STREAM]})
    assert event["type"] == "stream.online" and event["stream_id"] == "9001"
    assert event["message"] == "Cool_User went live: Best Stream Ever (Fortnite)"


def test_empty_data_is_offline_the_event_the_old_system_dropped():
    [event] = events({"data": []}, {"stream_id": "9001"})
    assert event["type"] == "stream.offline"
    assert event["message"] == "Cool_User ended the stream"
    assert events({"data": []}) == [], "already offline: nothing to say"


def test_a_new_title_on_the_same_stream_is_an_update():
    [event] = events(
        {"data": [dict(STREAM, title="Now ranked")]},
        {"stream_id": "9001", "title": "Best Stream Ever", "category_name": "Fortnite"},
    )
    assert event["type"] == "channel.update"
    assert event["message"] == "Cool_User updated the stream: Now ranked (Fortnite)"


def test_an_unchanged_snapshot_says_nothing():
    previous = {"stream_id": "9001", "title": "Best Stream Ever", "category_name": "Fortnite"}
    assert events({"data": [STREAM]}, previous) == []


def test_a_body_without_data_is_refused():
    with pytest.raises(ValueError):
        events({"streams": []})
