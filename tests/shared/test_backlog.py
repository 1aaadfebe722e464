"""What is waiting, against a real Redis: the intake streams, the Celery queues on the
Redis broker and the dead letters, each with the age of its oldest."""

import json
import time

import pytest
from celery import _state

from shared.backlog import (
    STALE_SECONDS,
    age,
    describe_report,
    needs_attention,
    queue_report,
    sent_at,
)
from shared.intake import intake_key
from shared.queues import make_celery
from shared.store import DEAD_LETTERS_DROPPED, add_dead_letter
from shared.task_names import PUBLISH_STREAM_EVENT, SEND_GO_LIVE_ALERTS

NOW = 1_800_000_000.0


def add_entry(client, shard, seconds_ago):
    """An intake entry added ``seconds_ago`` before NOW (its id is the time it was added)."""
    milliseconds = int((NOW - seconds_ago) * 1000)
    client.xadd(intake_key(shard), {"kind": "eventsub"}, id=f"{milliseconds}-0")


def test_nothing_waiting_needs_no_attention(redis_client, settings):
    report = queue_report(redis_client, settings, NOW)
    assert report["intake"] == {
        "waiting": 0,
        "oldest_age": None,
        "streams": {intake_key(shard): 0 for shard in range(settings.intake_shards)},
    }
    assert report["dead_letters"] == {"waiting": 0, "oldest_age": None, "dropped": 0}
    for queue in ("publish", "maintenance", "push"):
        assert report[queue] == {"waiting": 0, "oldest_age": None}
    assert not needs_attention(report)


def test_the_intake_counts_each_stream_and_ages_the_oldest_entry(redis_client, settings):
    add_entry(redis_client, 0, 5)
    add_entry(redis_client, 0, 2)
    add_entry(redis_client, 3, 12.5)
    intake = queue_report(redis_client, settings, NOW)["intake"]
    assert intake["waiting"] == 3 and intake["oldest_age"] == 12.5
    assert intake["streams"][intake_key(0)] == 2 and intake["streams"][intake_key(3)] == 1


def test_an_intake_entry_waiting_too_long_needs_attention(redis_client, settings):
    add_entry(redis_client, 1, STALE_SECONDS - 1)
    assert not needs_attention(queue_report(redis_client, settings, NOW))
    add_entry(redis_client, 2, STALE_SECONDS + 1)
    assert needs_attention(queue_report(redis_client, settings, NOW))


@pytest.fixture
def celery(settings):
    """A Celery app on the test Redis (made current, as in a process; the tests' own
    current app given back after)."""
    previous = _state.get_current_app()
    app = make_celery(settings, name="backlog-test")
    yield app
    app.close()
    previous.set_current()


def test_celery_queues_count_messages_and_age_the_oldest(redis_client, settings, celery):
    sent = time.time()
    celery.send_task(PUBLISH_STREAM_EVENT, ({"id": "e-1"},))
    time.sleep(0.3)
    celery.send_task(PUBLISH_STREAM_EVENT, ({"id": "e-2"},))
    celery.send_task(SEND_GO_LIVE_ALERTS, ())
    report = queue_report(redis_client, settings, sent + 100)
    assert report["publish"]["waiting"] == 2 and report["push"]["waiting"] == 1
    assert 99.8 <= report["publish"]["oldest_age"] <= 100, "the first one sent"
    assert report["maintenance"] == {"waiting": 0, "oldest_age": None}
    assert needs_attention(report), "sent 100 s ago and still waiting"


def test_a_dead_letter_needs_attention_at_once_and_counts_those_dropped(redis_client, settings):
    failed = time.time()
    add_dead_letter(redis_client, "ingest", {"body": "x"}, "unusable message")
    time.sleep(0.3)
    add_dead_letter(redis_client, "websub", {"body": "y"}, "unusable message")
    redis_client.set(DEAD_LETTERS_DROPPED, 3)
    letters = queue_report(redis_client, settings, failed + 30)["dead_letters"]
    assert letters["waiting"] == 2 and letters["dropped"] == 3
    assert 29.8 <= letters["oldest_age"] <= 30, "the first one that failed"
    assert needs_attention(queue_report(redis_client, settings))


@pytest.mark.parametrize(
    "message",
    [
        None,
        "not json",
        "[]",
        json.dumps({"headers": {}}),
        json.dumps({"headers": {"sent_at": "x"}}),
    ],
)
def test_a_message_that_does_not_say_when_it_was_sent_has_no_age(message):
    assert sent_at(message) is None


def test_an_age_is_never_negative_and_rounded():
    assert age(None, NOW) is None
    assert age(NOW + 5, NOW) == 0.0, "a clock ahead of ours"
    assert age(NOW - 1.2345, NOW) == 1.2


def test_a_report_reads_in_one_line():
    report = {
        "intake": {"waiting": 3, "oldest_age": 12.0, "streams": {}},
        "publish": {"waiting": None, "oldest_age": None},
        "dead_letters": {"waiting": 0, "oldest_age": None, "dropped": 0},
    }
    assert describe_report(report) == "intake 3 (oldest 12.0s), publish ?, dead letters 0"
