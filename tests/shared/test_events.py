"""Payload parsing and the message text of each event type."""

import pytest

from emulators.eventsub.messages import notification_body
from shared.events import InvalidPayload, describe_event, stream_event_from_notification

CALLBACK = "http://localhost/api/callback"
WHEN = "2026-01-01T12:00:00.123456789Z"


def parse(body, channel=None):
    return stream_event_from_notification(body, "message-1", WHEN, channel)


def test_online_with_known_title_and_category():
    body = notification_body("stream.online", "Cool_User", CALLBACK, broadcaster_id="1337",
                             stream_id="9001")
    event = parse(body, {"title": "Best Stream Ever", "category_name": "Fortnite"})
    assert event["message"] == "Cool_User went live: Best Stream Ever (Fortnite)"
    assert event["type"] == "stream.online"
    assert event["id"] == "message-1"
    assert event["broadcaster"] == {"id": "1337", "login": "cool_user", "name": "Cool_User"}
    assert event["stream_id"] == "9001"
    assert event["stream_type"] == "live"
    assert event["occurred_at"] == body["event"]["started_at"]


def test_online_without_known_title():
    event = parse(notification_body("stream.online", "cool_user", CALLBACK, name="Cool_User"))
    assert event["message"] == "Cool_User went live"
    assert "title" not in event


def test_offline_says_the_stream_ended():
    event = parse(notification_body("stream.offline", "cool_user", CALLBACK, name="Cool_User"))
    assert event["message"] == "Cool_User ended the stream"
    assert event["occurred_at"] == WHEN


def test_channel_update_carries_its_fields():
    body = notification_body("channel.update", "cool_user", CALLBACK, name="Cool_User",
                             title="Speedruns\nall day", category="Celeste")
    event = parse(body)
    assert event["message"] == "Cool_User updated the stream: Speedruns all day (Celeste)"
    assert event["title"] == "Speedruns\nall day"
    assert event["category_name"] == "Celeste"
    assert event["language"] == "en"
    assert event["content_classification_labels"] == []


def test_update_with_title_only():
    body = notification_body("channel.update", "cool_user", CALLBACK, title="Chatting")
    assert parse(body)["message"] == "cool_user updated the stream: Chatting"


def test_markup_in_a_title_is_kept_as_text():
    body = notification_body("channel.update", "cool_user", CALLBACK,
                             title="<img src=x onerror=alert(1)>")
    assert "<img src=x onerror=alert(1)>" in parse(body)["message"]


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda b: b.pop("subscription"), "subscription"),
        (lambda b: b["subscription"].update(type="channel.follow"), "unsupported"),
        (lambda b: b.pop("event"), "event object"),
        (lambda b: b["event"].update(broadcaster_user_id="abc"), "broadcaster_user_id"),
        (lambda b: b["event"].update(broadcaster_user_login="bad login!"), "login"),
        (lambda b: b["event"].pop("id"), "stream id"),
    ],
)
def test_malformed_payloads_are_refused(mutate, reason):
    body = notification_body("stream.online", "cool_user", CALLBACK)
    mutate(body)
    with pytest.raises(InvalidPayload, match=reason):
        parse(body)


def test_update_without_title_is_refused():
    body = notification_body("channel.update", "cool_user", CALLBACK)
    body["event"].pop("title")
    with pytest.raises(InvalidPayload, match="title"):
        parse(body)


def test_describe_category_only():
    event = {"type": "channel.update", "broadcaster": {"name": "A"}, "category_name": "Chess"}
    assert describe_event(event) == "A updated the stream: (Chess)"
