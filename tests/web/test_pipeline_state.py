"""The pipeline's state in /metrics, read from the real Redis at each scrape."""

import dataclasses

import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared import intake
from shared.leases import new_lease, save_lease
from shared.settings import load_settings
from shared.store import add_dead_letter, record_channel_occupancy
from shared.task_names import PUBLISH_STREAM_EVENT
from shared.twitch.client import EVENTSUB_COST
from tests.support import free_port, process_environment
from web import create_app

TOKEN = "metrics-token-0123456789"
STATE = (
    "sev_queue_depth",
    "sev_dead_letters",
    "sev_leases",
    "sev_occupied_channels",
    "sev_eventsub_cost",
    "sev_eventsub_max_cost",
)


@pytest.fixture
def app(settings, redis_client):
    app = create_app(dataclasses.replace(settings, metrics_token=TOKEN))
    app.config.update(TESTING=True)
    return app


def gauges(client) -> dict:
    """The state's samples: ``{name or (name, queue): value}``."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            if sample.name.startswith(STATE + ("sev_state_available",)):
                queue = sample.labels.get("queue")
                found[(sample.name, queue) if queue else sample.name] = sample.value
    return found


def test_an_empty_pipeline_is_all_zeros_without_a_cost(client):
    assert gauges(client) == {
        "sev_state_available": 1,
        ("sev_queue_depth", "intake"): 0,
        ("sev_queue_depth", "publish"): 0,
        ("sev_queue_depth", "maintenance"): 0,
        ("sev_queue_depth", "push"): 0,
        "sev_dead_letters": 0,
        "sev_leases": 0,
        "sev_occupied_channels": 0,
    }


def test_the_gauges_follow_what_redis_holds(app, client, redis_client, settings):
    shards = settings.intake_shards
    intake.ensure_groups(redis_client, shards)
    for broadcaster in ("1", "2", "3"):
        intake.enqueue(redis_client, shards, intake.EVENTSUB, {}, "{}", broadcaster)
    [[stream, [[entry_id, _]]]] = redis_client.xreadgroup(
        intake.GROUP, "pump", {intake.intake_key(intake.shard_of("1", shards)): ">"}, count=1
    )
    with redis_client.pipeline() as pipe:
        intake.queue_finish(pipe, [(stream, entry_id)])
        pipe.execute()
    redis_client.xreadgroup(
        intake.GROUP, "pump", {intake.intake_key(intake.shard_of("2", shards)): ">"}, count=1
    )
    app.extensions["celery"].send_task(PUBLISH_STREAM_EVENT, ({},))
    add_dead_letter(redis_client, "publish", {}, "Pusher refused it")
    for broadcaster_id in ("10", "11"):
        save_lease(redis_client, new_lease({"id": broadcaster_id, "login": f"s{broadcaster_id}"}))
    record_channel_occupancy(redis_client, "s10", True)
    redis_client.hset(
        EVENTSUB_COST,
        mapping={"total": 8, "total_cost": 8, "max_total_cost": 10000, "updated_at": 1},
    )
    assert gauges(client) == {
        "sev_state_available": 1,
        ("sev_queue_depth", "intake"): 2,  # one waiting, one read and not finished
        ("sev_queue_depth", "publish"): 1,
        ("sev_queue_depth", "maintenance"): 0,
        ("sev_queue_depth", "push"): 0,
        "sev_dead_letters": 1,
        "sev_leases": 2,
        "sev_occupied_channels": 1,
        "sev_eventsub_cost": 8,
        "sev_eventsub_max_cost": 10000,
    }


def test_without_redis_the_state_is_left_out_and_the_scrape_still_answers(caplog):
    settings = load_settings(
        process_environment(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", METRICS_TOKEN=TOKEN)
    )
    client = create_app(settings).test_client()
    assert gauges(client) == {"sev_state_available": 0}
    assert "pipeline state left out of the metrics" in caplog.text


def test_celery_queues_on_another_broker_are_left_out(settings, redis_client):
    other = dataclasses.replace(
        settings, metrics_token=TOKEN, celery_broker_url=settings.redis_url.replace("/0", "/1")
    )
    found = gauges(create_app(other).test_client())
    assert [key for key in found if key[0] == "sev_queue_depth"] == [("sev_queue_depth", "intake")]
