"""The worker's metrics port, scraped with a real HTTP client after webhooks went through
the whole stack: web, intake, pump, Pusher emulator, subscriber."""

import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from emulators.eventsub.messages import notification_body, signed_message
from scripts.processes import free_port
from shared.store import dead_letters
from tests.support import wait_until

METRICS_PORT = free_port()
pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(120),
    pytest.mark.stack_env(WORKER_METRICS_PORT=METRICS_PORT),
]
PUBLISHED = 5


def scrape() -> dict:
    """Every sample the worker serves: {(name, sorted labels): value}."""
    response = requests.get(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=5)
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def events(samples: dict, event_type: str, outcome: str) -> float:
    return samples[("sev_events_total", (("outcome", outcome), ("type", event_type)))]


def test_the_worker_counts_what_became_of_each_webhook_and_its_lag(stack):
    subscriber = stack.subscribe("metered_user")
    message_id = str(uuid.uuid4())
    for n in range(PUBLISHED):
        assert (
            stack.send(
                "channel.update",
                "metered_user",
                title=f"Title {n}",
                message_id=message_id if n == 0 else None,
            ).status_code
            == 204
        )
    assert (
        stack.send(
            "channel.update", "metered_user", title="Title 0", message_id=message_id
        ).status_code
        == 204
    )  # Twitch sent it twice
    broken = notification_body("channel.update", "metered_user", stack.callback)
    del broken["event"]
    headers, raw = signed_message(stack.secret, "notification", broken)
    assert requests.post(stack.callback, data=raw, headers=headers, timeout=10).status_code == 204

    arrived = [subscriber.next(timeout=30)[1]["title"] for _ in range(PUBLISHED)]
    assert sorted(arrived) == [f"Title {n}" for n in range(PUBLISHED)]
    wait_until(
        lambda: (
            events(scrape(), "channel.update", "duplicate") == 1
            and events(scrape(), "channel.update", "dead_lettered") == 1
        ),
        timeout=30,
        message="the worker never counted the duplicate and the dead letter",
    )
    samples = scrape()
    assert events(samples, "channel.update", "published") == PUBLISHED
    assert samples[("sev_event_lag_seconds_count", ())] == PUBLISHED
    assert samples[("sev_event_lag_seconds_bucket", (("le", "+Inf"),))] == PUBLISHED
    assert samples[("sev_publish_attempts_total", (("path", "batch"), ("result", "ok")))] >= 1
    assert samples[("sev_publish_retries_total", ())] == 0
    assert len(dead_letters(stack.redis())) == 1
    assert subscriber.nothing_more()


def test_beat_serves_no_metrics_though_it_reads_the_same_settings(stack):
    beat = stack.start_beat()
    wait_until(lambda: "beat: Starting" in beat.log(), timeout=30, message="beat never started")
    assert "worker metrics on" in stack.process("worker-1").log()
    assert "worker metrics on" not in beat.log()
    assert "cannot serve the worker's metrics" not in beat.log()
    assert scrape()[("sev_publish_retries_total", ())] == 0
