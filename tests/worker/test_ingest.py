"""The ingest task, run in-process against a real Redis and the Pusher emulator."""

import json
import uuid

import pytest

from emulators.eventsub.messages import notification_body, revocation_body
from shared.store import dead_letters, published_key, recent_events, revocations

CALLBACK = "http://localhost/api/callback"


@pytest.fixture
def ingest(worker_environment, pusher_emulator, redis_client):
    from worker.ingest import ingest_eventsub

    def run(body, message_id=None, message_type="notification", task_id=None):
        headers = {"Twitch-Eventsub-Message-Id": message_id or str(uuid.uuid4()),
                   "Twitch-Eventsub-Message-Timestamp": "2026-01-01T12:00:00.000000000Z",
                   "Twitch-Eventsub-Message-Type": message_type}
        ingest_eventsub.apply(args=(headers, json.dumps(body)), task_id=task_id or str(uuid.uuid4()),
                              throw=True)
        return headers["Twitch-Eventsub-Message-Id"]

    return run


def published(redis_client, message_id):
    return bool(redis_client.exists(published_key(message_id)))


def test_a_notification_is_published_and_kept(ingest, redis_client):
    message_id = ingest(notification_body("stream.offline", "cool_user", CALLBACK))
    assert published(redis_client, message_id)
    [event] = recent_events(redis_client, "cool_user")
    assert event["id"] == message_id and event["message"] == "cool_user ended the stream"


def test_a_duplicate_message_id_is_dropped(ingest, redis_client):
    body = notification_body("stream.offline", "cool_user", CALLBACK)
    message_id = ingest(body)
    redis_client.delete(published_key(message_id))
    ingest(body, message_id=message_id)
    assert not published(redis_client, message_id), "the duplicate was published again"


def test_a_redelivered_task_keeps_its_claim_and_publishes(ingest, redis_client):
    """A task that crashed after claiming comes back with the same id and carries on."""
    body = notification_body("stream.offline", "cool_user", CALLBACK)
    message_id, task_id = str(uuid.uuid4()), str(uuid.uuid4())
    redis_client.set(f"sev:seen:message:{message_id}", task_id)
    ingest(body, message_id=message_id, task_id=task_id)
    assert published(redis_client, message_id)


def test_a_second_online_for_the_same_stream_is_dropped(ingest, redis_client):
    first = ingest(notification_body("stream.online", "cool_user", CALLBACK, stream_id="77"))
    second = ingest(notification_body("stream.online", "cool_user", CALLBACK, stream_id="77"))
    assert published(redis_client, first) and not published(redis_client, second)


def test_online_is_described_with_the_last_update(ingest, redis_client):
    ingest(notification_body("channel.update", "Cool_User", CALLBACK, broadcaster_id="1337",
                             title="Best Stream Ever", category="Fortnite"))
    ingest(notification_body("stream.online", "Cool_User", CALLBACK, broadcaster_id="1337"))
    newest = recent_events(redis_client, "cool_user")[0]
    assert newest["message"] == "Cool_User went live: Best Stream Ever (Fortnite)"


def test_an_unusable_payload_is_dead_lettered_not_claimed(ingest, redis_client):
    body = notification_body("stream.online", "cool_user", CALLBACK)
    body["subscription"]["type"] = "channel.follow"
    message_id = ingest(body)
    [letter] = dead_letters(redis_client)
    assert letter["kind"] == "ingest" and "unsupported subscription type" in letter["reason"]
    assert not redis_client.exists(f"sev:seen:message:{message_id}")


def test_a_revocation_is_recorded(ingest, redis_client):
    ingest(revocation_body("channel.update", "cool_user", CALLBACK, "version_removed",
                           broadcaster_id="9"), message_type="revocation")
    [revocation] = revocations(redis_client)
    assert revocation["reason"] == "version_removed" and revocation["broadcaster_id"] == "9"
