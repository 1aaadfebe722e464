"""Ingest of intake entries, in-process against a real Redis."""

import json
import uuid

import pytest

from emulators.eventsub.messages import notification_body, revocation_body
from shared.store import channel_state, dead_letters, revocations

CALLBACK = "http://localhost/api/callback"
TIMESTAMP = "2026-01-01T12:00:00.000000000Z"


@pytest.fixture
def ingest(worker_environment, redis_client):
    """Prepare entries built from notification bodies; returns what became of them."""
    from worker.ingest import Entry, prepare

    handed_off = []

    def run(*bodies, message_id=None, message_type="notification", entry_id=None,
            timestamp=TIMESTAMP, hand_off=handed_off.append):
        entries = []
        for body in bodies:
            headers = {"Twitch-Eventsub-Message-Id": message_id or str(uuid.uuid4()),
                       "Twitch-Eventsub-Message-Timestamp": timestamp,
                       "Twitch-Eventsub-Message-Type": message_type}
            entries.append(Entry("sev:intake:0", entry_id or f"{len(handed_off)}-{uuid.uuid4().int % 10**6}",
                                 "eventsub", headers, json.dumps(body) if not isinstance(body, str) else body))
        return prepare(redis_client, entries, 3600, lambda revocation, message_id: hand_off(revocation))

    run.handed_off = handed_off
    return run


def test_a_notification_becomes_an_event(ingest):
    prepared = ingest(notification_body("stream.offline", "cool_user", CALLBACK))
    [(entry, event)] = prepared.events
    assert event["type"] == "stream.offline" and event["message"] == "cool_user ended the stream"
    assert event["id"] == entry.message_id
    assert prepared.finished == [] and prepared.pending == []


def test_a_duplicate_message_id_is_dropped_but_a_redelivered_entry_keeps_its_claim(ingest):
    body = notification_body("stream.offline", "cool_user", CALLBACK)
    first = ingest(body, message_id="m-1", entry_id="1-0")
    again = ingest(body, message_id="m-1", entry_id="1-0")  # the same entry, claimed again
    duplicate = ingest(body, message_id="m-1", entry_id="2-0")  # Twitch sent it twice
    assert len(first.events) == 1 and len(again.events) == 1
    assert duplicate.events == [] and [e.entry_id for e in duplicate.finished] == ["2-0"]


def test_a_second_online_for_the_same_stream_is_dropped(ingest):
    assert ingest(notification_body("stream.online", "cool_user", CALLBACK, stream_id="77")).events
    second = ingest(notification_body("stream.online", "cool_user", CALLBACK, stream_id="77"))
    assert second.events == [] and len(second.finished) == 1


def test_channel_state_keeps_the_newest_update_whatever_the_arrival_order(ingest, redis_client):
    newer = notification_body("channel.update", "cool_user", CALLBACK, broadcaster_id="5",
                              title="Newer", category="B")
    older = notification_body("channel.update", "cool_user", CALLBACK, broadcaster_id="5",
                              title="Older", category="A")
    ingest(newer, timestamp="2026-01-01T12:00:00.5Z")
    ingest(older, timestamp="2026-01-01T12:00:00.123456789Z")
    assert channel_state(redis_client, "5") == {"title": "Newer", "category_name": "B"}


@pytest.mark.parametrize("body, reason", [
    ("[1, 2, 3]", "unusable message"),
    ("not json", "unusable message"),
    ({"subscription": {"type": "channel.follow"}, "event": {}}, "unsupported subscription type"),
])
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
    prepared = ingest(revocation_body("channel.update", "cool_user", CALLBACK, "version_removed",
                                      broadcaster_id="9"), message_type="revocation")
    [revocation] = revocations(redis_client)
    assert revocation["reason"] == "version_removed" and revocation["broadcaster_id"] == "9"
    assert ingest.handed_off == [revocation] and len(prepared.finished) == 1


def test_a_revocation_that_cannot_be_handed_off_stays_pending(ingest, redis_client):
    def broker_down(revocation):
        raise ConnectionError("broker down")

    prepared = ingest(revocation_body("channel.update", "cool_user", CALLBACK, "version_removed",
                                      broadcaster_id="9"), message_type="revocation",
                      hand_off=broker_down)
    assert len(prepared.pending) == 1 and prepared.finished == []
    assert revocations(redis_client) == []
