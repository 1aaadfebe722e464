"""Celery's task events, as ``celery -A worker events`` and Flower receive them: a real
worker reports a task it took and ran, and the sender reports sending it; Flower, run as
the Procfile runs it, shows the task and asks for its password."""

import os
import threading
import uuid

import pytest
import requests

from shared.queues import make_celery
from shared.settings import load_settings
from shared.task_names import PUBLISH_STREAM_EVENT
from tests.integration.conftest import both_brokers
from tests.support import BIN, ROOT, free_port, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90), both_brokers]


class EventLog:
    """Every Celery event on the broker, received in a thread the way ``celery events``
    receives them (``app.events.Receiver``)."""

    def __init__(self, celery):
        self.events: list[dict] = []
        self.connection = celery.connection_for_read()
        self.receiver = celery.events.Receiver(self.connection, handlers={"*": self.events.append})
        self.thread = threading.Thread(
            target=self.receiver.capture, kwargs={"limit": None, "timeout": None}, daemon=True
        )
        self.thread.start()

    def of_task(self, task_id: str) -> list[str]:
        return [event["type"] for event in self.events if event.get("uuid") == task_id]

    def stop(self):
        self.receiver.should_stop = True
        self.thread.join(10)
        self.connection.release()


def stream_offline(login: str) -> dict:
    """A stream event as the worker publishes it."""
    return {
        "id": str(uuid.uuid4()),
        "type": "stream.offline",
        "message": f"{login} ended the stream",
        "broadcaster": {"id": "4711", "login": login, "name": login},
    }


def procfile_command(name: str) -> str:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return next(line.split(": ", 1)[1] for line in lines if line.startswith(f"{name}: "))


def test_a_task_is_reported_sent_received_started_and_succeeded(stack):
    subscriber = stack.subscribe("events_user")
    celery = make_celery(load_settings(stack.env))
    log = EventLog(celery)
    try:
        # The worker's heartbeats say the receiver listens (Redis forgets events nobody hears).
        wait_until(
            lambda: any(e["type"] == "worker-heartbeat" for e in log.events),
            timeout=20,
            message="no worker heartbeat: events are off",
        )
        event = stream_offline("events_user")
        task_id = celery.send_task(PUBLISH_STREAM_EVENT, (event,)).id
        assert subscriber.next(timeout=20)[1]["id"] == event["id"]
        wait_until(
            lambda: "task-succeeded" in log.of_task(task_id),
            timeout=20,
            message=f"no task-succeeded event; saw {log.of_task(task_id)}",
        )
        reported = log.of_task(task_id)
        # The worker's in order; the sender's own task-sent may come after its first.
        assert sorted(reported) == ["task-received", "task-sent", "task-started", "task-succeeded"]
        assert [kind for kind in reported if kind != "task-sent"] == [
            "task-received",
            "task-started",
            "task-succeeded",
        ]
        received = next(
            e for e in log.events if e.get("uuid") == task_id and e["type"] == "task-received"
        )
        assert received["name"] == PUBLISH_STREAM_EVENT
    finally:
        log.stop()


def test_flower_shows_tasks_behind_its_password(stack):
    port, password = free_port(), "flower-password-for-the-test"
    stack.env.update(
        FLOWER_PORT=str(port),
        FLOWER_BASIC_AUTH=f"operator:{password}",
        PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
    )
    stack.start("flower", ["bash", "-c", procfile_command("flower")], port)
    url = f"http://127.0.0.1:{port}/api/tasks"
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, auth=("operator", "wrong"), timeout=10).status_code == 401

    def workers_seen():
        answer = requests.get(
            f"http://127.0.0.1:{port}/workers?json=1", auth=("operator", password), timeout=10
        )
        return answer.ok and answer.json()["data"]

    # The worker's heartbeats say Flower listens (Redis forgets events nobody hears).
    wait_until(workers_seen, timeout=30, interval=0.5, message="Flower never saw the worker")
    task_id = (
        make_celery(load_settings(stack.env))
        .send_task(PUBLISH_STREAM_EVENT, (stream_offline("flower_user"),))
        .id
    )

    def state():
        answer = requests.get(url, auth=("operator", password), timeout=10)
        return answer.ok and answer.json().get(task_id, {}).get("state") == "SUCCESS"

    wait_until(state, timeout=30, interval=0.5, message="Flower never showed the task done")
