"""Ingest of intake entries, in-process against a real Redis."""

import json
import uuid

import pytest

from emulators.eventsub.messages import notification_body, revocation_body
from shared.store import channel_state, dead_letters, revocations
from tests.worker.support import CALLBACK, STREAM

TIMESTAMP = "2026-01-01T12:00:00.000000000Z"


@pytest.fixture
def ingest(worker_environment, redis_client):
    """Prepare entries built from notification bodies; returns what became of them."""
    from worker.entries import Entry
    from worker.ingest import prepare

    handed_off = []

    def run(
        *bodies,
        message_id=None,
        message_type="notification",
        entry_id=None,
        timestamp=TIMESTAMP,
        hand_off=handed_off.append,
    ):
        entries = []
        for body in bodies:
            headers = {
                "Twitch-Eventsub-Message-Id": message_id or str(uuid.uuid4()),
                "Twitch-Eventsub-Message-Timestamp": timestamp,
                "Twitch-Eventsub-Message-Type": message_type,
            }
            entries.append(
                Entry(
                    "sev:intake:0",
                    entry_id or f"{len(handed_off)}-{uuid.uuid4().int % 10**6}",
                    "eventsub",
                    headers,
                    json.dumps(body) if not isinstance(body, str) else body,
                )
            )
        return prepare(
            redis_client, entries, 3600, lambda revocation, message_id: hand_off(revocation)
        )

    run.handed_off = handed_off
    return run


def test_a_notification_becomes_an_event(ingest):
    prepared = ingest(notification_body("stream.offline", "cool_user", CALLBACK))
    [(entry, event)] = prepared.events
    assert event["type"] == "stream.offline" and event["message"] == "cool_user ended the stream"
    assert event["id"] == entry.message_id
    assert prepared.finished == [] and prepared.pending == []


def test_a_duplicate_message_id_is_dropped_but_a_redelivered_entry_keeps_its_claim(
    ingest, redis_client
):
    body = notification_body("stream.offline", "cool_user", CALLBACK)
    first = ingest(body, message_id="m-1", entry_id="1-0")
    again = ingest(body, message_id="m-1", entry_id="1-0")  # the same entry, claimed again
    duplicate = ingest(body, message_id="m-1", entry_id="2-0")  # Twitch sent it twice
    assert len(first.events) == 1 and len(again.events) == 1
    assert duplicate.events == [] and [e.entry_id for e in duplicate.finished] == ["2-0"]
    assert redis_client.get("sev:seen:message:m-1") == "1-0", "the claim is the first entry's"
    assert 3500 < redis_client.ttl("sev:seen:message:m-1") <= 3600  # DEDUPE_WINDOW_SECONDS


def test_a_second_online_for_the_same_stream_is_dropped(ingest):
    assert ingest(notification_body("stream.online", "cool_user", CALLBACK, stream_id="77")).events
    second = ingest(notification_body("stream.online", "cool_user", CALLBACK, stream_id="77"))
    assert second.events == [] and len(second.finished) == 1


def test_channel_state_keeps_the_newest_update_whatever_the_arrival_order(ingest, redis_client):
    newer = notification_body(
        "channel.update", "cool_user", CALLBACK, broadcaster_id="5", title="Newer", category="B"
    )
    older = notification_body(
        "channel.update", "cool_user", CALLBACK, broadcaster_id="5", title="Older", category="A"
    )
    ingest(newer, timestamp="2026-01-01T12:00:00.5Z")
    ingest(older, timestamp="2026-01-01T12:00:00.123456789Z")
    assert channel_state(redis_client, "5") == {"title": "Newer", "category_name": "B"}


@pytest.mark.parametrize(
    "body, reason",
    [
        ("[1, 2, 3]", "unusable message"),
        ("not json", "unusable message"),
        (
            {"subscription": {"type": "channel.follow"}, "event": {}},
            "unsupported subscription type",
        ),
    ],
)
def test_an_unusable_payload_is_dead_lettered_not_claimed(ingest, redis_client, body, reason):
    prepared = ingest(body, message_id="bad-1")
    [letter] = dead_letters(redis_client)
    assert letter["kind"] == "ingest" and reason in letter["reason"]
    assert prepared.events == [] and len(prepared.finished) == 1
    assert not redis_client.exists("sev:seen:message:bad-1")


def test_a_malformed_timestamp_is_dead_lettered(ingest, redis_client):
    ingest(notification_body("stream.offline", "cool_user", CALLBACK), timestamp="yesterday")
    [letter] = dead_letters(redis_client)
    assert "timestamp" in letter["reason"]


def test_a_revocation_is_handed_off_and_recorded(ingest, redis_client):
    prepared = ingest(
        revocation_body(
            "channel.update", "cool_user", CALLBACK, "version_removed", broadcaster_id="9"
        ),
        message_type="revocation",
    )
    [revocation] = revocations(redis_client)
    assert revocation["reason"] == "version_removed" and revocation["broadcaster_id"] == "9"
    assert ingest.handed_off == [revocation] and len(prepared.finished) == 1


def test_a_revocation_that_cannot_be_handed_off_stays_pending(ingest, redis_client):
    def broker_down(revocation):
        raise ConnectionError("broker down")

    prepared = ingest(
        revocation_body(
            "channel.update", "cool_user", CALLBACK, "version_removed", broadcaster_id="9"
        ),
        message_type="revocation",
        hand_off=broker_down,
    )
    assert len(prepared.pending) == 1 and prepared.finished == []
    assert revocations(redis_client) == []


def nested(depth):
    return "[" * depth + "]" * depth


def online_with(**event):
    body = notification_body("stream.online", "cool_user", CALLBACK)
    body["event"].update(event)
    return body


def update_with(**event):
    body = notification_body(
        "channel.update", "cool_user", CALLBACK, broadcaster_id="77", title="Fine", category="Chess"
    )
    body["event"].update(event)
    return body


@pytest.mark.parametrize(
    "body, reason",
    [
        ('"hello"', "subscription"),
        ("null", "subscription"),
        ({"subscription": []}, "subscription"),
        ({"subscription": {"type": "stream.online"}, "event": "live"}, "event object"),
        ({"subscription": {"type": ["stream.online"]}, "event": {}}, "unsupported"),
        (nested(20_000), "nested too deeply"),
        (update_with(category_name={"name": "Chess"}), "category_name is not a string"),
        (update_with(category_name="x" * 257), "category_name is longer"),
        (update_with(title=["a", "b"]), "title is not a string"),
        (update_with(language=7), "language is not a string"),
        (update_with(category_id="12ab"), "category_id"),
        (update_with(content_classification_labels="Gambling"), "content_classification_labels"),
        (update_with(content_classification_labels=[{"id": "Gambling"}]), "label is not a string"),
        (update_with(broadcaster_user_id="\u0661\u0663\u0663\u0667"), "broadcaster_user_id"),
        (update_with(broadcaster_user_id="\u00b9\u00b2"), "broadcaster_user_id"),
        (update_with(broadcaster_user_name={"n": 1}), "broadcaster_user_name is not a string"),
        (update_with(broadcaster_user_name="N" * 65), "broadcaster_user_name is longer"),
        (online_with(id="\u0669\u0660\u0660\u0661"), "stream id"),
        (online_with(started_at={"at": 1}), "started_at"),
        (online_with(started_at="20260101T120000Z"), "started_at"),
        (online_with(type=["live"]), "stream type"),
    ],
)
def test_a_signed_but_malformed_payload_is_dead_lettered_with_its_reason(
    ingest, redis_client, body, reason
):
    prepared = ingest(body, message_id="bad-2")
    [letter] = dead_letters(redis_client)
    assert reason in letter["reason"], letter["reason"]
    assert prepared.events == [] and len(prepared.finished) == 1 and prepared.pending == []
    assert not redis_client.exists("sev:seen:message:bad-2")
    assert channel_state(redis_client, "77") == {}


def test_a_malformed_revocation_is_dead_lettered(ingest, redis_client):
    body = revocation_body("channel.update", "cool_user", CALLBACK, "version_removed")
    body["subscription"]["condition"]["broadcaster_user_id"] = {"id": 9}
    prepared = ingest(body, message_type="revocation")
    [letter] = dead_letters(redis_client)
    assert "broadcaster_user_id" in letter["reason"]
    assert ingest.handed_off == [] and revocations(redis_client) == [] and prepared.finished


def test_a_title_longer_than_twitchs_limit_is_cut_never_stored_whole(ingest, redis_client):
    prepared = ingest(update_with(title="x" * 20_000))
    [(_, event)] = prepared.events
    assert event["title"] == "x" * 139 + "\u2026"
    assert len(event["message"]) < 300
    assert channel_state(redis_client, "77")["title"] == "x" * 139 + "\u2026"
    assert dead_letters(redis_client) == []


def test_a_value_redis_refuses_dead_letters_that_message_only(ingest, redis_client, monkeypatch):
    """Should a value slip past the checks and the client refuse to send it (DataError),
    only that message is dead-lettered; the batch's others go on."""
    import worker.ingest

    real_parse = worker.ingest.parse

    def parse(client, entry):
        event, revocation = real_parse(client, entry)
        if event["title"] == "Poison":
            event["category_name"] = {"not": "a string"}
        return event, revocation

    monkeypatch.setattr(worker.ingest, "parse", parse)
    prepared = ingest(update_with(title="Poison"), update_with(title="Fine one"))
    [(_, event)] = prepared.events
    assert event["title"] == "Fine one"
    [letter] = dead_letters(redis_client)
    assert "Redis refused" in letter["reason"] and "Poison" in json.dumps(letter["payload"])
    assert len(prepared.finished) == 1 and prepared.pending == []
    assert channel_state(redis_client, "77")["title"] == "Fine one"


@pytest.fixture
def websub_ingest(worker_environment, redis_client):
    """Prepare WebSub notifications for broadcaster 1337, whose lease we hold."""
    from shared.leases import new_lease, save_lease
    from shared.websub import topic_for
    from worker.entries import Entry
    from worker.ingest import prepare

    save_lease(redis_client, new_lease({"id": "1337", "login": "cool_user"}, "websub"))
    topic = topic_for(worker_environment.twitch_api_url, "1337")

    def run(body, timestamp="2026-01-01T12:00:00Z"):
        headers = {
            "Link": f'<https://api.twitch.tv/helix/webhooks/hub>; rel="hub", <{topic}>; rel="self"',
            "Twitch-Notification-Id": str(uuid.uuid4()),
            "Twitch-Notification-Timestamp": timestamp,
        }
        entry = Entry(
            "sev:intake:0", f"{uuid.uuid4().int % 10**6}-0", "websub", headers, json.dumps(body)
        )
        return prepare(redis_client, [entry], 3600, lambda *args: None)

    return run


@pytest.mark.parametrize(
    "stream, timestamp, reason",
    [
        (dict(STREAM, title={"t": 1}), "2026-01-01T12:00:00Z", "title is not a string"),
        (dict(STREAM, game_name=["Chess"]), "2026-01-01T12:00:00Z", "game_name"),
        (dict(STREAM, id="abc"), "2026-01-01T12:00:00Z", "numeric id"),
        ("a stream", "2026-01-01T12:00:00Z", "not an object"),
        (dict(STREAM, title="Changed"), "noon", "timestamp"),
    ],
)
def test_a_malformed_websub_snapshot_is_dead_lettered(
    websub_ingest, redis_client, stream, timestamp, reason
):
    assert websub_ingest({"data": [STREAM]}).events  # went live: the snapshot is kept
    prepared = websub_ingest({"data": [stream]}, timestamp=timestamp)
    [letter] = dead_letters(redis_client)
    assert letter["kind"] == "websub" and reason in letter["reason"], letter["reason"]
    assert prepared.events == [] and len(prepared.finished) == 1
    assert redis_client.hgetall("sev:websub:stream:1337")["title"] == "Legacy"


def test_a_long_websub_title_is_cut(websub_ingest, redis_client):
    [(_, event)] = websub_ingest({"data": [dict(STREAM, title="y" * 5000)]}).events
    assert event["title"] == "y" * 139 + "\u2026"
    assert redis_client.hgetall("sev:websub:stream:1337")["title"] == event["title"]


def test_a_websub_notification_sent_again_is_dropped(websub_ingest, redis_client):
    first = {"data": [STREAM]}
    assert len(websub_ingest(first).events) == 1
    [(_, renamed)] = websub_ingest({"data": [dict(STREAM, title="Second")]}).events
    assert renamed["title"] == "Second"
    replayed = websub_ingest(first)  # the first body again, a new id: a captured replay
    assert replayed.events == [] and len(replayed.finished) == 1
    assert redis_client.hgetall("sev:websub:stream:1337")["title"] == "Second"


def test_each_stream_may_end_with_the_same_websub_body(websub_ingest):
    offline = {"data": []}
    for stream_id in ("9001", "9002"):
        assert len(websub_ingest({"data": [dict(STREAM, id=stream_id)]}).events) == 1
        [(_, ended)] = websub_ingest(offline).events
        assert ended["type"] == "stream.offline"


def test_a_refused_websub_body_is_judged_again_when_sent_again(websub_ingest, redis_client):
    """A dead letter an operator replays is checked afresh, not dropped as a replay."""
    malformed = {"data": [dict(STREAM, id="abc")]}
    for _ in range(2):
        prepared = websub_ingest(malformed)
        assert prepared.events == [] and len(prepared.finished) == 1
    assert [letter["kind"] for letter in dead_letters(redis_client)] == ["websub", "websub"]
