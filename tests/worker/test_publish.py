"""Publishing: the first attempt, Celery's retries on the publish queue, dead letters."""

import json
import logging

import pytest
from celery.signals import task_retry
from celery.utils.time import get_exponential_backoff_interval

from shared.store import dead_letters, published_key
from tests.support import channel_viewer

EVENT = {
    "id": "event-1",
    "type": "stream.offline",
    "message": "Cool_User ended the stream",
    "broadcaster": {"id": "1", "login": "cool_user", "name": "Cool_User"},
    "occurred_at": "2026-01-01T12:00:00Z",
}


@pytest.fixture
def publish(worker_environment, redis_client):
    from worker import publish

    return publish


def queued_publishes(redis_client):
    return [json.loads(m) for m in redis_client.lrange("publish", 0, -1)]


@pytest.fixture
def viewer(worker_environment, pusher_emulator, pusher_client):
    """A WebSocket client on cool_user's channel: the stream.offline events Pusher sent."""
    with channel_viewer(
        worker_environment.pusher_port,
        worker_environment.pusher_key,
        worker_environment.pusher_secret,
        pusher_client,
        "cool_user",
        ("stream.offline",),
    ) as received:
        yield received


def test_published_once_even_if_asked_twice(publish, viewer, redis_client):
    later = dict(EVENT, id="event-later")
    publish.deliver(EVENT)
    assert redis_client.exists(published_key("event-1"))
    redis_client.set(published_key("event-1"), "1")
    publish.deliver(EVENT)  # already marked: nothing is sent, nothing is queued
    publish.deliver(later)
    # Pusher keeps a channel's order: had the repeat been sent, it would come before later.
    arrived = [viewer.get(timeout=5), viewer.get(timeout=5)]
    assert arrived == [("stream.offline", EVENT), ("stream.offline", later)]
    assert queued_publishes(redis_client) == []


def test_a_failed_first_attempt_is_queued_for_retry(publish, pusher_emulator, redis_client):
    pusher_emulator.stop()
    try:
        publish.deliver(EVENT)
    finally:
        pusher_emulator.start()
    [message] = queued_publishes(redis_client)
    assert message["headers"]["task"] == "publish.stream_event"
    assert message["headers"]["eta"], "the retry waits (backoff) before running"
    assert not redis_client.exists(published_key("event-1"))


def test_retries_end_in_the_dead_letters(publish, pusher_emulator, redis_client):
    pusher_emulator.stop()
    try:
        publish.publish_stream_event_task.apply(args=(EVENT,), retries=1)
    finally:
        pusher_emulator.start()
    [letter] = dead_letters(redis_client)
    assert letter["payload"] == EVENT
    assert letter["reason"].startswith("gave up after 3 attempts: cannot reach Pusher")


def test_a_refused_event_is_dead_lettered_at_once(publish, pusher_emulator, redis_client):
    too_big = dict(EVENT, id="event-2", message="x" * 11_000)
    publish.deliver(too_big)
    [letter] = dead_letters(redis_client)
    assert "Pusher refused the event" in letter["reason"] and "413" in letter["reason"]
    assert queued_publishes(redis_client) == []


def test_the_retries_wait_1_then_2_4_8_seconds_up_to_the_cap(publish, worker_environment):
    task = publish.publish_stream_event_task
    waits = [publish.FIRST_RETRY_SECONDS] + [
        get_exponential_backoff_interval(int(task.retry_backoff), n, 300, task.retry_jitter)
        for n in range(10)
    ]
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300], "no jitter, doubling to the cap"
    assert task.retry_backoff_max == worker_environment.publish_retry_backoff_max
    assert task.max_retries == worker_environment.publish_max_retries - 1, "the hand-over counts"


def test_each_retry_is_warned_of_once_with_its_wait(publish, pusher_emulator, caplog):
    waits = []
    task_retry.connect(record := lambda reason=None, **_: waits.append(reason.when), weak=False)
    pusher_emulator.stop()
    try:
        with caplog.at_level(logging.WARNING, logger="worker.publish"):
            publish.deliver(EVENT)
            publish.publish_stream_event_task.apply(args=(EVENT,))
    finally:
        task_retry.disconnect(record)
        pusher_emulator.start()
    assert waits == [1], "PUBLISH_RETRY_BACKOFF_MAX=1 caps the task's retry"
    retrying = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert (
        retrying
        == ["publishing event-1 failed (cannot reach Pusher: connection failed); retrying in 1s"]
        * 2
    )


def test_a_go_live_published_on_retry_queues_its_alerts(publish, pusher_emulator, redis_client):
    from shared.alerts import add_alert

    add_alert(redis_client, "viewer-1", EVENT["broadcaster"], limit=50)
    online = dict(EVENT, id="event-online", type="stream.online", stream_id="s1")
    publish.publish_stream_event_task.apply(args=(online,), kwargs={"twitch_time": "t-1"})
    [message] = [json.loads(m) for m in redis_client.lrange("push", 0, -1)]
    assert message["headers"]["task"] == "push.send_go_live_alerts"
    publish.publish_stream_event_task.apply(args=(EVENT,))
    assert redis_client.llen("push") == 1, "only a go-live alerts"
