"""Finishing a published batch, in-process against a real Redis."""

import base64
import json

import pytest

from shared.alerts import add_alert
from shared.store import broadcaster_states, recent_events


@pytest.fixture
def finish(worker_environment, redis_client):
    """Finish a batch of events (as published), each with its Twitch time."""
    from worker.batches import finish as finish_batch
    from worker.entries import Entry
    from worker.sequencer import Held

    def run(*events):
        batch = [
            Held(
                event["broadcaster"]["id"],
                order_key,
                0.0,
                event,
                Entry("sev:intake:0", f"{n}-0", "eventsub", {}, ""),
            )
            for n, (order_key, event) in enumerate(events, 1)
        ]
        finish_batch(batch, batch)

    return run


def event(event_type, n, **fields):
    return {
        "id": f"m{n}",
        "type": event_type,
        "message": f"event {n}",
        "broadcaster": {"id": "7", "login": "cool_user", "name": "Cool_User"},
        "occurred_at": f"2026-01-01T12:00:0{n}Z",
        **fields,
    }


def test_finishing_records_live_and_offline_as_of_the_events_time(finish, redis_client):
    finish(
        (
            "2026-01-01T12:00:01.000000000Z",
            event("stream.online", 1, stream_id="s1", started_at="2026-01-01T12:00:00Z"),
        )
    )
    [state] = broadcaster_states(redis_client, ["7"])
    assert (state["live"], state["stream_id"], state["started_at"]) == (
        "1",
        "s1",
        "2026-01-01T12:00:00Z",
    )
    finish(
        ("2026-01-01T12:00:03.000000000Z", event("stream.offline", 3)),
        ("2026-01-01T12:00:02.000000000Z", event("channel.update", 2, title="T")),
    )
    [state] = broadcaster_states(redis_client, ["7"])
    assert state["live"] == "0" and state["stream_order_key"] == "2026-01-01T12:00:03.000000000Z"
    assert len(recent_events(redis_client, "cool_user")) == 3


def test_an_older_event_finished_later_does_not_undo_a_newer_state(finish, redis_client):
    finish(("2026-01-01T12:00:05.000000000Z", event("stream.offline", 5)))
    finish(
        (
            "2026-01-01T12:00:04.000000000Z",
            event("stream.online", 4, stream_id="s1", started_at="2026-01-01T12:00:03Z"),
        )
    )
    [state] = broadcaster_states(redis_client, ["7"])
    assert state["live"] == "0" and state["stream_order_key"] == "2026-01-01T12:00:05.000000000Z"


def test_a_raid_is_kept_among_the_events_and_changes_no_state(finish, redis_client):
    finish(
        (
            "2026-01-01T12:00:01.000000000Z",
            event("stream.online", 1, stream_id="s1", started_at="2026-01-01T12:00:00Z"),
        )
    )
    [before] = broadcaster_states(redis_client, ["7"])
    finish(
        (
            "2026-01-01T12:00:02.000000000Z",
            event(
                "channel.raid",
                2,
                viewers=1234,
                to={"id": "8", "login": "night_owl", "name": "Night_Owl"},
            ),
        )
    )
    assert broadcaster_states(redis_client, ["7"]) == [before]
    assert broadcaster_states(redis_client, ["8"]) == [{}]
    assert [e["type"] for e in recent_events(redis_client, "cool_user")][:1] == ["channel.raid"]


def test_a_published_go_live_of_an_alerted_streamer_queues_its_alerts(
    worker_environment, redis_client
):
    from worker.batches import finish
    from worker.entries import Entry
    from worker.sequencer import Held

    add_alert(redis_client, "viewer-1", {"id": "7", "login": "cool_user", "name": "Cool_User"}, 50)
    online = event("stream.online", 1, stream_id="s1", started_at="2026-01-01T12:00:00Z")
    update = event("channel.update", 2, title="T")
    held = [
        Held(
            "7",
            f"2026-01-01T12:00:0{n}.000000000Z",
            0.0,
            e,
            Entry("sev:intake:0", f"{n}-0", "eventsub", {}, ""),
        )
        for n, e in enumerate((online, update), 1)
    ]
    finish(held, published=[])  # handed to the retry queue: alerts wait for its publish
    assert redis_client.llen("push") == 0
    finish(held, published=held)
    [message] = [json.loads(m) for m in redis_client.lrange("push", 0, -1)]
    args = json.loads(base64.b64decode(message["body"]))[0]
    assert message["headers"]["task"] == "push.send_go_live_alerts"
    assert args[0] == "7" and args[1]["stream_id"] == "s1" and args[2] == held[0].order_key


def test_a_batch_pusher_cannot_take_is_handed_to_the_retry_queue_and_finished(
    worker_environment, pusher_emulator, redis_client
):
    from worker.batches import publish_batch
    from worker.entries import Entry
    from worker.sequencer import Held

    events = [event("stream.offline", 1), event("channel.update", 2, title="T")]
    held = [
        Held(
            "7",
            f"2026-01-01T12:00:0{n}.000000000Z",
            0.0,
            e,
            Entry("sev:intake:0", f"{n}-0", "eventsub", {}, ""),
        )
        for n, e in enumerate(events, 1)
    ]
    pusher_emulator.stop()
    try:
        publish_batch(held)
    finally:
        pusher_emulator.start()
    queued = [json.loads(m) for m in redis_client.lrange("publish", 0, -1)]
    assert sorted(m["headers"]["task"] for m in queued) == ["publish.stream_event"] * 2
    assert all(m["headers"]["eta"] for m in queued), "the retry waits its first second"
    retried = [json.loads(base64.b64decode(m["body"])) for m in queued]
    assert sorted((args[0]["id"], kwargs["twitch_time"]) for args, kwargs, _ in retried) == [
        ("m1", held[0].order_key),
        ("m2", held[1].order_key),
    ]
    assert len(recent_events(redis_client, "cool_user")) == 2, "the entries are finished"
