"""Payload parsing and the message text of each event type."""

import pytest

from emulators.eventsub.messages import notification_body, revocation_body
from shared.events import (
    InvalidPayload,
    broadcaster,
    channel_of,
    describe_event,
    event_or_revocation,
    lease_broadcaster,
    user_broadcaster,
    with_channel,
)
from shared.eventsub import MESSAGE_ID, MESSAGE_TIMESTAMP, MESSAGE_TYPE

CALLBACK = "http://localhost/api/callback"
WHEN = "2026-01-01T12:00:00.123456789Z"
NOTIFICATION = {MESSAGE_ID: "message-1", MESSAGE_TIMESTAMP: WHEN, MESSAGE_TYPE: "notification"}
REVOCATION = {MESSAGE_ID: "message-2", MESSAGE_TIMESTAMP: WHEN, MESSAGE_TYPE: "revocation"}


def parse(body, channel=None):
    event, revocation = event_or_revocation(body, NOTIFICATION)
    assert revocation is None
    return with_channel(event, channel) if channel else event


def revocation_from(body, headers=REVOCATION):
    event, revocation = event_or_revocation(body, headers)
    assert event is None
    return revocation


def test_online_with_known_title_and_category():
    body = notification_body(
        "stream.online", "Cool_User", CALLBACK, broadcaster_id="1337", stream_id="9001"
    )
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
    body = notification_body(
        "channel.update",
        "cool_user",
        CALLBACK,
        name="Cool_User",
        title="Speedruns\nall day",
        category="Celeste",
    )
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
    body = notification_body(
        "channel.update", "cool_user", CALLBACK, title="<img src=x onerror=alert(1)>"
    )
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


def raid_body(**changes):
    body = notification_body(
        "channel.raid",
        "Cool_User",
        CALLBACK,
        broadcaster_id="1337",
        name="Cool_User",
        viewers=1234,
        raided={"login": "Night_Owl", "id": "4242", "name": "Night_Owl"},
    )
    body["event"].update(changes)
    return body


def test_a_raid_is_the_raiding_streamers_event_and_names_where_it_went():
    event = parse(raid_body())
    assert event["type"] == "channel.raid"
    assert event["message"] == "Cool_User is raiding Night_Owl with 1,234 viewers"
    assert event["broadcaster"] == {"id": "1337", "login": "cool_user", "name": "Cool_User"}
    assert event["to"] == {"id": "4242", "login": "night_owl", "name": "Night_Owl"}
    assert event["viewers"] == 1234
    assert event["occurred_at"] == WHEN
    assert channel_of(event) == "private-cool_user"
    assert not {"title", "category_name", "stream_id"} & set(event), "a raid changes no state"


def test_a_raid_of_one_viewer_or_of_none_reads_well():
    assert parse(raid_body(viewers=1))["message"] == "Cool_User is raiding Night_Owl with 1 viewer"
    assert parse(raid_body(viewers=0))["message"] == "Cool_User is raiding Night_Owl with 0 viewers"


def test_a_raid_without_display_names_uses_the_logins():
    event = parse(raid_body(from_broadcaster_user_name=None, to_broadcaster_user_name=None))
    assert event["message"] == "cool_user is raiding night_owl with 1,234 viewers"
    assert event["to"]["name"] == "night_owl"


@pytest.mark.parametrize(
    "field, value",
    [
        ("from_broadcaster_user_id", None),
        ("from_broadcaster_user_id", "12a"),
        ("from_broadcaster_user_id", 1337),
        ("from_broadcaster_user_id", "\u0661\u0663"),
        ("from_broadcaster_user_login", None),
        ("from_broadcaster_user_login", "cool user"),
        ("from_broadcaster_user_login", ["cool_user"]),
        ("from_broadcaster_user_name", 7),
        ("from_broadcaster_user_name", "x" * 65),
        ("to_broadcaster_user_id", None),
        ("to_broadcaster_user_id", ""),
        ("to_broadcaster_user_id", "1" * 33),
        ("to_broadcaster_user_login", None),
        ("to_broadcaster_user_login", "<b>night_owl</b>"),
        ("to_broadcaster_user_login", "x" * 26),
        ("to_broadcaster_user_name", {"name": "Night_Owl"}),
        ("to_broadcaster_user_name", "y" * 65),
        ("viewers", None),
        ("viewers", "1234"),
        ("viewers", 12.5),
        ("viewers", True),
        ("viewers", -1),
        ("viewers", 10**9 + 1),
        ("viewers", [1234]),
    ],
)
def test_a_malformed_raid_is_invalid(field, value):
    with pytest.raises(InvalidPayload):
        parse(raid_body(**{field: value}))


def test_a_raid_without_a_field_is_invalid():
    for field in (
        "from_broadcaster_user_id",
        "from_broadcaster_user_login",
        "to_broadcaster_user_id",
        "to_broadcaster_user_login",
        "viewers",
    ):
        body = raid_body()
        del body["event"][field]
        with pytest.raises(InvalidPayload):
            parse(body)


def test_a_raid_names_no_broadcaster_user_id_and_needs_none():
    body = raid_body(broadcaster_user_id="999", broadcaster_user_login="someone_else")
    assert parse(body)["broadcaster"]["id"] == "1337"


def test_a_revoked_raid_subscription_names_its_raiding_broadcaster():
    body = revocation_body(
        "channel.raid", "cool_user", CALLBACK, "user_removed", broadcaster_id="1337"
    )
    headers = {MESSAGE_TIMESTAMP: WHEN, MESSAGE_TYPE: "revocation"}
    assert body["subscription"]["condition"] == {
        "from_broadcaster_user_id": "1337",
        "to_broadcaster_user_id": "",
    }
    assert revocation_from(body, headers)["broadcaster_id"] == "1337"
    body["subscription"]["condition"] = {
        "from_broadcaster_user_id": "",
        "to_broadcaster_user_id": "1337",
    }
    assert revocation_from(body, headers)["broadcaster_id"] is None, "not one of ours"
    body["subscription"]["condition"] = {"from_broadcaster_user_id": "13x7"}
    with pytest.raises(InvalidPayload):
        revocation_from(body, headers)


def test_a_message_is_told_by_its_type_header():
    body = revocation_body("stream.online", "cool_user", CALLBACK, "authorization_revoked")
    assert revocation_from(body) == {
        "subscription_id": body["subscription"]["id"],
        "type": "stream.online",
        "broadcaster_id": body["subscription"]["condition"]["broadcaster_user_id"],
        "reason": "authorization_revoked",
        "revoked_at": WHEN,
    }
    with pytest.raises(InvalidPayload, match="no event object"):
        event_or_revocation(body, NOTIFICATION)


def test_a_notification_with_a_malformed_or_missing_timestamp_is_refused():
    body = notification_body("stream.offline", "cool_user", CALLBACK)
    with pytest.raises(InvalidPayload, match="timestamp"):
        event_or_revocation(body, {**NOTIFICATION, MESSAGE_TIMESTAMP: "yesterday"})
    with pytest.raises(KeyError):
        event_or_revocation(body, {MESSAGE_ID: "message-1", MESSAGE_TYPE: "notification"})


def test_a_broadcaster_is_built_the_same_from_parts_a_helix_user_and_a_lease():
    expected = {"id": "1337", "login": "cool_user", "name": "Cool_User"}
    assert broadcaster("1337", "cool_user", "Cool_User") == expected
    assert user_broadcaster({"id": "1337", "login": "cool_user", "display_name": "Cool_User"}) == (
        expected
    )
    lease = {"broadcaster_id": "1337", "login": "cool_user", "name": "Cool_User", "expires_at": 0}
    assert lease_broadcaster(lease) == expected
    assert broadcaster("1337", "cool_user", "")["name"] == "cool_user", "no name: the login"
