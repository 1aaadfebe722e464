"""The worker's metrics, counted by the real ingest and publish code against a real Redis
and the Pusher emulator, and served over HTTP."""

import base64
import dataclasses
import itertools
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from emulators.eventsub.messages import notification_body, revocation_body
from scripts.processes import free_port
from scripts.stack import development_environment
from shared.eventsub import format_eventsub_timestamp

CALLBACK = "http://localhost/api/callback"
ENTRY_IDS = itertools.count(1)


@pytest.fixture
def metrics(worker_environment):
    from worker import metrics

    return metrics


def samples(registry) -> dict:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in registry.collect()
        for sample in family.samples
    }


@pytest.fixture
def counted(metrics):
    """The change of a sample since the test began: ``counted(name, **labels)``."""
    before = samples(metrics.registry)

    def change(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        now = samples(metrics.registry)
        assert key in now, f"no sample {key}"
        return now[key] - before.get(key, 0)

    return change


def entry(
    subscription_type,
    login,
    body=None,
    message_type="notification",
    sent=None,
    message_id=None,
    kind="eventsub",
    **fields,
):
    """An intake entry as the web writes it: a signed message's headers and body."""
    from worker.entries import Entry

    if body is None:
        body = notification_body(subscription_type, login, CALLBACK, **fields)
    headers = {
        "Twitch-Eventsub-Message-Id": message_id or str(uuid.uuid4()),
        "Twitch-Eventsub-Message-Timestamp": format_eventsub_timestamp(sent or datetime.now(UTC)),
        "Twitch-Eventsub-Message-Type": message_type,
        "Twitch-Eventsub-Subscription-Type": subscription_type,
    }
    return Entry(
        "sev:intake:0",
        f"{next(ENTRY_IDS)}-0",
        kind,
        headers,
        body if isinstance(body, str) else json.dumps(body),
    )


@pytest.fixture
def pipeline(worker_environment, redis_client, pusher_emulator):
    """Ingest entries, then publish their events in one batch, as the pump does."""
    from worker.batches import publish_batch
    from worker.context import redis_client as worker_redis
    from worker.ingest import prepare
    from worker.pump import order_of
    from worker.sequencer import Held

    def run(*entries):
        prepared = prepare(worker_redis(), list(entries), 3600, lambda *handed_off: None)
        batch = [
            Held(event["broadcaster"]["id"], order_of(item, event), 0.0, event, item)
            for item, event in prepared.events
        ]
        if batch:
            publish_batch(batch)
        return prepared

    return run


@pytest.fixture
def pusher_down(pusher_emulator):
    """Stop the Pusher emulator for the block; start it again after."""

    class Down:
        def __enter__(self):
            pusher_emulator.stop()

        def __exit__(self, *_):
            pusher_emulator.start()

    return Down()


def test_published_events_are_counted_with_their_lag_from_twitchs_time(pipeline, counted):
    two_seconds_ago = datetime.now(UTC) - timedelta(seconds=2)
    pipeline(
        entry("channel.update", "lag_user", sent=two_seconds_ago, title="One"),
        entry("channel.update", "lag_user", sent=two_seconds_ago, title="Two"),
        entry("stream.online", "late_user", sent=two_seconds_ago),
    )  # live since now
    assert counted("sev_events_total", type="channel.update", outcome="published") == 2
    assert counted("sev_events_total", type="stream.online", outcome="published") == 1
    assert counted("sev_event_lag_seconds_count") == 3
    assert counted("sev_event_lag_seconds_sum") >= 6
    assert counted("sev_event_lag_seconds_bucket", le="1.0") == 0
    assert counted("sev_event_lag_seconds_bucket", le="+Inf") == 3
    assert counted("sev_publish_attempts_total", path="batch", result="ok") == 1
    assert counted("sev_publish_seconds_count", path="batch") == 1


def test_duplicates_are_counted_and_not_published(pipeline, counted):
    first = entry("stream.offline", "twice_user", message_id="twice-1")
    pipeline(first, entry("stream.offline", "twice_user", message_id="twice-1"))
    pipeline(
        entry("stream.online", "twice_user", stream_id="901"),
        entry("stream.online", "twice_user", stream_id="901"),
    )
    pipeline(dataclasses.replace(first, redelivered=True))  # published by a pump before
    assert counted("sev_events_total", type="stream.offline", outcome="published") == 1
    assert counted("sev_events_total", type="stream.offline", outcome="duplicate") == 2
    assert counted("sev_events_total", type="stream.online", outcome="published") == 1
    assert counted("sev_events_total", type="stream.online", outcome="duplicate") == 1
    assert counted("sev_event_lag_seconds_count") == 2


def test_dead_letters_are_counted_by_type_and_unknown_types_as_other(pipeline, counted):
    from worker.batches import publish_batch
    from worker.sequencer import Held

    pipeline(
        entry("channel.raid", "broken_user", body="{not json"),
        entry("channel.follow", "broken_user", body="{}"),
    )
    too_big = {
        "id": "big-1",
        "type": "stream.offline",
        "message": "x" * 11_000,
        "broadcaster": {"id": "5", "login": "big_user", "name": "Big_User"},
        "occurred_at": format_eventsub_timestamp(datetime.now(UTC)),
    }
    publish_batch(
        [Held("5", too_big["occurred_at"], 0.0, too_big, entry("stream.offline", "big_user"))]
    )
    assert counted("sev_events_total", type="channel.raid", outcome="dead_lettered") == 1
    assert counted("sev_events_total", type="other", outcome="dead_lettered") == 1
    assert counted("sev_events_total", type="stream.offline", outcome="dead_lettered") == 1
    assert counted("sev_publish_attempts_total", path="batch", result="error") == 1
    assert counted("sev_event_lag_seconds_count") == 0


def test_every_entry_ends_in_exactly_one_outcome(pipeline, counted, metrics):
    entries = [
        entry("stream.offline", "mixed_user", message_id="mixed-1"),
        entry("stream.offline", "mixed_user", message_id="mixed-1"),
        entry("channel.update", "mixed_user", title="Hello"),
        entry("channel.raid", "mixed_user", body="[]"),
        entry(
            "channel.update",
            "mixed_user",
            message_type="revocation",
            body=revocation_body("channel.update", "mixed_user", CALLBACK, "authorization_revoked"),
        ),
        entry("", "mixed_user", kind="websub", body='{"data": []}'),
    ]  # no lease: ignored
    pipeline(*entries)
    outcomes = {
        outcome: sum(
            counted("sev_events_total", type=event_type, outcome=outcome)
            for event_type in (*metrics.EVENT_TYPES, metrics.OTHER)
        )
        for outcome in metrics.OUTCOMES
    }
    assert outcomes == {
        "published": 2,
        "duplicate": 1,
        "dead_lettered": 1,
        "revoked": 1,
        "ignored": 1,
    }
    assert counted("sev_events_total", type="channel.update", outcome="revoked") == 1
    assert counted("sev_events_total", type="other", outcome="ignored") == 1


def test_a_publish_pusher_cannot_take_counts_as_a_retry_then_as_published(
    pipeline, counted, pusher_down, redis_client
):
    from worker.publish import publish_stream_event_task

    ten_seconds_ago = datetime.now(UTC) - timedelta(seconds=10)
    with pusher_down:
        pipeline(entry("stream.online", "retry_user", sent=ten_seconds_ago))
    assert counted("sev_publish_attempts_total", path="batch", result="error") == 1
    assert counted("sev_publish_retries_total") == 1
    assert counted("sev_events_total", type="stream.online", outcome="published") == 0
    [message] = [json.loads(m) for m in redis_client.lrange("publish", 0, -1)]
    args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
    publish_stream_event_task.apply(args=args, kwargs=kwargs)
    assert counted("sev_publish_attempts_total", path="retry", result="ok") == 1
    assert counted("sev_events_total", type="stream.online", outcome="published") == 1
    assert counted("sev_event_lag_seconds_bucket", le="5.0") == 0, "lag runs from Twitch's time"
    assert counted("sev_event_lag_seconds_count") == 1


def test_each_retry_of_the_task_is_counted_until_the_dead_letter(counted, pusher_down):
    from worker.publish import publish_stream_event_task

    event = {
        "id": f"retried-{uuid.uuid4()}",
        "type": "channel.raid",
        "message": "raid",
        "broadcaster": {"id": "6", "login": "raid_user", "name": "Raid_User"},
        "occurred_at": format_eventsub_timestamp(datetime.now(UTC)),
    }
    with pusher_down:
        publish_stream_event_task.apply(args=(event,), retries=0)  # PUBLISH_MAX_RETRIES=2
    assert counted("sev_publish_retries_total") == 1
    assert counted("sev_publish_attempts_total", path="retry", result="error") == 2
    assert counted("sev_events_total", type="channel.raid", outcome="dead_lettered") == 1


def scrape(port: int) -> dict:
    response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert response.status_code == 200
    return {family.name: family for family in text_string_to_metric_families(response.text)}


def test_the_metrics_are_served_over_http_until_stopped(metrics):
    port = free_port()
    server = metrics.serve(port, "127.0.0.1")
    try:
        families = scrape(port)
    finally:
        metrics.stop_serving(server)
    assert {
        "sev_events",
        "sev_publish_seconds",
        "sev_publish_attempts",
        "sev_publish_retries",
        "sev_event_lag_seconds",
        "process_resident_memory_bytes",
    } <= families.keys()
    assert families["sev_event_lag_seconds"].type == "histogram"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)


def test_in_multiprocess_mode_the_server_reads_the_processes_files(metrics, tmp_path, redis_server):
    counting = (
        "from worker.metrics import count_events, observe_lag\n"
        "count_events('published', ['stream.online', 'stream.online', 'chat.message'])\n"
        "observe_lag(['2026-01-01T12:00:00Z'], 1767268800.2)\n"
    )
    environment = development_environment(
        REDIS_URL=redis_server, PROMETHEUS_MULTIPROC_DIR=str(tmp_path)
    )
    subprocess.run([sys.executable, "-c", counting], env=environment, check=True, timeout=60)
    registry = metrics.serving_registry({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    assert (
        registry.get_sample_value(
            "sev_events_total", {"type": "stream.online", "outcome": "published"}
        )
        == 2
    )
    assert (
        registry.get_sample_value("sev_events_total", {"type": "other", "outcome": "published"})
        == 1
    )
    assert registry.get_sample_value("sev_event_lag_seconds_bucket", {"le": "0.3"}) == 1
    assert registry.get_sample_value("sev_event_lag_seconds_bucket", {"le": "0.15"}) == 0
    assert metrics.serving_registry({}) is metrics.registry


@pytest.mark.parametrize(
    "timestamp, seconds",
    [
        ("2026-01-01T12:00:00.000000000Z", 1767268800.0),
        ("2026-01-01T12:00:00.5Z", 1767268800.5),
        ("2026-01-01T13:00:00.25+01:00", 1767268800.25),
        ("2026-01-01T12:00:00Z", 1767268800.0),
    ],
)
def test_twitch_timestamps_are_read_to_the_fraction(metrics, timestamp, seconds):
    assert metrics.epoch_seconds(timestamp) == pytest.approx(seconds)


@pytest.mark.parametrize("timestamp", ["", "yesterday", None, "2026-13-01T12:00:00Z"])
def test_an_unreadable_time_gives_no_lag(metrics, timestamp, counted):
    assert metrics.epoch_seconds(timestamp) is None
    metrics.observe_lag([timestamp])
    assert counted("sev_event_lag_seconds_count") == 0
