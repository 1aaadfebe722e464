"""The Celery broker itself, on Redis and on RabbitMQ: countdown (retry) tasks sent through
``make_celery`` are run by a real worker once their countdown is over, never before."""

import re
import time
import uuid

import pytest

from shared.queues import make_celery
from shared.settings import load_settings
from shared.store import dead_letters
from shared.task_names import PUBLISH_STREAM_EVENT
from tests.integration.conftest import both_brokers
from tests.support import wait_until

# The worker logs Celery's per-task "received" lines at DEBUG only; the tests read them.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(90),
    both_brokers,
    pytest.mark.stack_worker(loglevel="DEBUG"),
]


def stream_offline(login: str) -> dict:
    """A stream event as the worker publishes it."""
    return {
        "id": str(uuid.uuid4()),
        "type": "stream.offline",
        "message": f"{login} ended the stream",
        "broadcaster": {"id": "4711", "login": login, "name": login},
    }


def received_at(worker_log: str, task_id: str) -> bool:
    """True once the worker has logged taking the task off the broker."""
    return (
        re.search(rf"Task {re.escape(PUBLISH_STREAM_EVENT)}\[{task_id}\] received", worker_log)
        is not None
    )


def test_countdown_tasks_run_after_their_countdowns(stack, broker):
    subscriber = stack.subscribe("timer_user")
    celery = make_celery(load_settings(stack.env))
    worker = stack.process("worker-1")
    # Not whole seconds (RabbitMQ's delayed delivery counts whole ones), one under a second
    # as the first publish retry's is.
    countdowns = {0.6: stream_offline("timer_user"), 2.5: stream_offline("timer_user")}
    sent = time.monotonic()
    task_ids = {
        countdown: celery.send_task(PUBLISH_STREAM_EVENT, (event,), countdown=countdown).id
        for countdown, event in countdowns.items()
    }
    if broker == "rabbitmq":
        # Native delayed delivery: the broker holds the task, not a worker's prefetch slot.
        time.sleep(2.0)
        assert not received_at(worker.log(), task_ids[2.5]), "the worker got the task early"
    for countdown, event in countdowns.items():
        name, data = subscriber.next(timeout=20)
        waited = time.monotonic() - sent
        assert name == "stream.offline" and data["id"] == event["id"]
        assert waited >= countdown, f"ran after {waited:.1f}s, before its {countdown}s countdown"
        assert received_at(worker.log(), task_ids[countdown])
    assert subscriber.nothing_more()


# Backoff 1-2, 2-4, then 4-8 s: after the third failure the subscriber has 4 s to join.
@pytest.mark.stack_env(PUBLISH_RETRY_BACKOFF_MAX=8, BROKER_VISIBILITY_TIMEOUT=20)
def test_a_task_retried_with_a_countdown_runs_again(stack, broker):
    stack.process("pusher").stop()
    celery = make_celery(load_settings(stack.env))
    event = stream_offline("retry_user")
    celery.send_task(PUBLISH_STREAM_EVENT, (event,))
    worker = stack.process("worker-1")
    wait_until(
        lambda: worker.log().count("retrying in") >= 3,
        timeout=30,
        message="the task was not retried three times",
    )
    stack.start_pusher()
    subscriber = stack.subscribe("retry_user")
    name, data = subscriber.next(timeout=30)
    assert name == "stream.offline" and data["id"] == event["id"]
    assert dead_letters(stack.redis()) == []
