"""Operations with real processes: a task's error reaches a Sentry ingest on loopback,
and one grep of a message id follows a webhook through the web's and the worker's
JSON logs."""

from __future__ import annotations

import json
import secrets
import uuid

import pytest
import requests

from emulators.eventsub.messages import notification_body, signed_message
from shared.queues import make_celery
from shared.settings import load_settings
from shared.twitch.tokens import APP_TOKEN
from shared.websub import LINK, NOTIFICATION_ID, SIGNATURE
from tests.sentry_ingest import SentryIngest
from tests.support import free_port, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
INGEST_PORT = free_port()
CLIENT_SECRET = "client-secret-of-the-stack"


@pytest.fixture
def ingest():
    """The Sentry ingest the stack's ``SENTRY_DSN`` names."""
    server = SentryIngest(INGEST_PORT)
    yield server
    server.close()


@pytest.mark.stack_env(
    SENTRY_DSN=f"http://publickey@127.0.0.1:{INGEST_PORT}/1", TWITCH_CLIENT_SECRET=CLIENT_SECRET
)
def test_a_failing_task_is_reported_without_its_token(ingest, stack):
    settings = load_settings(stack.env)
    token = secrets.token_urlsafe(24)  # cached app token, a local variable of the failing call
    stack.redis().hset(APP_TOKEN, mapping={"client_id": settings.twitch_client_id, "token": token})
    # Nothing listens at TWITCH_AUTH_URL: validating the token fails for real.
    make_celery(settings).send_task("subscriptions.validate_app_token")

    event, envelope = ingest.wait_for_event("cannot reach Twitch")
    [exception] = [
        value for value in event["exception"]["values"] if value["type"] == "TwitchUnavailable"
    ]
    assert "validate" in [frame["function"] for frame in exception["stacktrace"]["frames"]]
    assert event["environment"] == "development"
    assert "subscriptions.validate_app_token" in envelope.decode()
    for leaked in (token, CLIENT_SECRET, settings.pusher_secret, settings.secret_key):
        assert leaked.encode() not in envelope, leaked


def json_lines_naming(log: str, message_id: str) -> list[dict]:
    """The lines of ``log`` that name ``message_id``, each parsed (fails unless JSON)."""
    return [json.loads(line) for line in log.splitlines() if message_id in line]


@pytest.mark.stack_env(LOG_FORMAT="json", LOG_LEVEL="DEBUG")
@pytest.mark.stack_worker(loglevel="DEBUG")
def test_one_grep_follows_a_webhook_across_processes(stack):
    published_id, dead_id = f"published-{uuid.uuid4()}", f"unusable-{uuid.uuid4()}"
    assert stack.send("stream.offline", "grep_user", message_id=published_id).status_code == 204
    body = notification_body("stream.offline", "grep_user", stack.callback)
    del body["event"]
    headers, raw = signed_message(stack.secret, "notification", body, dead_id)
    assert requests.post(stack.callback, data=raw, headers=headers, timeout=10).status_code == 204

    web, worker = stack.process("web"), stack.process("worker-1")
    wait_until(
        lambda: (
            f"published stream.offline event {published_id}" in worker.log()
            and f"dead-lettered message {dead_id}" in worker.log()
        ),
        timeout=60,
        message="the worker never published the one and dead-lettered the other",
    )
    for message_id, last_words in (
        (published_id, "published stream.offline event"),
        (dead_id, "dead-lettered message"),
    ):
        from_web = json_lines_naming(web.log(), message_id)
        from_worker = json_lines_naming(worker.log(), message_id)
        assert [line["logger"] for line in from_web] == ["web.intake.eventsub"]
        assert from_web[0]["message"].startswith("accepted EventSub notification")
        assert any(line["message"].startswith(last_words) for line in from_worker)
        for line in from_web + from_worker:
            assert line["message_id"] == message_id
            assert line["logger"].startswith(("web.", "worker."))
    [dead_letter] = json_lines_naming(worker.log(), dead_id)
    assert dead_letter["level"] == "ERROR" and dead_letter["logger"] == "worker.ingest"


@pytest.mark.stack_env(LOG_FORMAT="json")
def test_a_rejected_websub_notification_is_logged_with_its_id(stack):
    notification_id = f"websub-{uuid.uuid4()}"
    answer = requests.post(
        stack.callback,
        data=b'{"data": []}',
        timeout=10,
        headers={
            SIGNATURE: "sha256=" + "0" * 64,
            NOTIFICATION_ID: notification_id,
            LINK: '<https://api.twitch.tv/helix/streams?user_id=1>; rel="self"',
        },
    )
    assert answer.status_code == 403
    [line] = wait_until(
        lambda: json_lines_naming(stack.process("web").log(), notification_id),
        message="the web never logged the rejection",
    )
    assert line["message"].startswith("rejected WebSub notification")
    assert line["message_id"] == notification_id and notification_id not in line["message"]


@pytest.mark.stack_env(LOG_FORMAT="json")
def test_the_retry_tasks_lines_carry_the_message_id(stack):
    stack.process("pusher").stop()  # every publish fails: the event goes to the retry task
    message_id = f"retried-{uuid.uuid4()}"
    assert stack.send("stream.offline", "retry_user", message_id=message_id).status_code == 204

    worker = stack.process("worker-1")
    retries = wait_until(
        lambda: [
            line
            for line in json_lines_naming(worker.log(), message_id)
            if line["logger"] == "celery.app.trace"
        ],
        timeout=60,
        message="the retry task never logged a retry",
    )
    assert retries[0]["message"].startswith("Task publish.stream_event[")
    assert message_id not in retries[0]["message"]  # found by its field alone
    lines = json_lines_naming(worker.log(), message_id)
    # The first attempt's failure and the retry task's, both in worker.publish (the one
    # publish path), and Celery's own line of the retry.
    assert {line["logger"] for line in lines} >= {"worker.publish", "celery.app.trace"}
    assert sum(line["logger"] == "worker.publish" for line in lines) >= 2
    assert all(
        line.get("message_id") == message_id or message_id in line["message_ids"] for line in lines
    )


@pytest.mark.stack_env(LOG_FORMAT="json")
def test_beat_and_granian_log_json_lines_too(stack):
    beat = stack.start_beat()
    report = wait_until(
        lambda: [
            line for line in beat.log().splitlines() if line.startswith("{") and "backlog:" in line
        ],
        timeout=30,
        message="beat never reported the backlog",
    )
    assert json.loads(report[0])["logger"] == "worker.schedule"
    granian = [
        json.loads(line)
        for line in stack.process("web").log().splitlines()
        if line.startswith("{") and '"logger": "granian"' in line
    ]
    assert any(line["message"].startswith("Listening at") for line in granian)
    for process in (beat, stack.process("web"), stack.process("worker-1")):
        assert not [
            line
            for line in process.log().splitlines()
            if line.startswith(("DEBUG ", "INFO ", "WARNING ", "ERROR "))
        ], process.name
