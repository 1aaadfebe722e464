"""End to end with real processes: Twitch-signed webhook -> web -> Redis -> worker ->
Pusher -> client."""

import json
import uuid

import pytest
import requests

from emulators.eventsub.messages import notification_body, revocation_body, signed_message
from shared import intake
from shared.store import dead_letters, published_key, recent_events, revocations
from tests.integration.conftest import BlackHole, both_brokers, run_flask
from tests.support import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90), both_brokers]


def test_a_signed_notification_reaches_the_subscriber(stack):
    subscriber = stack.subscribe("cool_user")
    update = stack.send(
        "channel.update",
        "Cool_User",
        broadcaster_id="1337",
        name="Cool_User",
        title="Best Stream Ever",
        category="Fortnite",
    )
    assert update.status_code == 204
    name, data = subscriber.next()
    assert name == "channel.update"
    assert data["message"] == "Cool_User updated the stream: Best Stream Ever (Fortnite)"

    assert (
        stack.send(
            "stream.online", "Cool_User", broadcaster_id="1337", name="Cool_User"
        ).status_code
        == 204
    )
    name, data = subscriber.next()
    assert name == "stream.online"
    assert data["message"] == "Cool_User went live: Best Stream Ever (Fortnite)"
    assert data["broadcaster"] == {"id": "1337", "login": "cool_user", "name": "Cool_User"}
    assert data["type"] == "stream.online" and data["stream_id"] and data["occurred_at"]

    # The worker keeps an event among the recent ones after Pusher answers: wait for both.
    wait_until(
        lambda: len(recent_events(stack.redis(), "cool_user")) >= 2,
        message="the worker never kept both events among the recent ones",
    )
    kept = recent_events(stack.redis(), "cool_user")
    assert [event["type"] for event in kept] == ["stream.online", "channel.update"]


def test_duplicates_arrive_once(stack):
    subscriber = stack.subscribe("dupe_user")
    message_id = str(uuid.uuid4())
    for _ in range(3):
        assert (
            stack.send(
                "stream.online", "dupe_user", message_id=message_id, stream_id="555"
            ).status_code
            == 204
        )
    assert stack.send("stream.online", "dupe_user", stream_id="555").status_code == 204
    worker = stack.process("worker-1")
    wait_until(
        lambda: (
            worker.log().count("dropped duplicate message") == 2
            and "dropped second stream.online for stream 555" in worker.log()
        ),
        message="the worker never dropped the duplicates",
    )
    name, data = subscriber.next()
    assert name == "stream.online" and data["stream_id"] == "555"
    assert stack.send("stream.offline", "dupe_user").status_code == 204
    assert subscriber.next()[0] == "stream.offline"
    assert subscriber.nothing_more()


def test_rejected_requests_arrive_nowhere(stack):
    subscriber = stack.subscribe("picky_user")
    body = notification_body("stream.offline", "picky_user", stack.callback)
    headers, raw = signed_message(stack.secret, "notification", body)
    forged = dict(headers, **{"Twitch-Eventsub-Message-Signature": "sha256=" + "ab" * 32})
    stale = dict(headers, **{"Twitch-Eventsub-Message-Timestamp": "2020-01-01T00:00:00.000Z"})
    big_body = notification_body("channel.update", "picky_user", stack.callback, title="x" * 70000)
    big_headers, big_raw = signed_message(stack.secret, "notification", big_body)
    for sent_headers, sent_raw, status in (
        (forged, raw, 403),
        (stale, raw, 403),
        (big_headers, big_raw, 413),
    ):
        response = requests.post(stack.callback, data=sent_raw, headers=sent_headers, timeout=10)
        assert response.status_code == status
    assert sum(intake.backlog(stack.redis(), 8).values()) == 0
    assert stack.send("stream.online", "picky_user").status_code == 204
    assert subscriber.next()[0] == "stream.online"
    assert subscriber.nothing_more()


def test_a_worker_killed_mid_task_delivers_after_restart(stack):
    stack.process("pusher").stop()  # a server that never answers takes its port
    hung_pusher = BlackHole(stack.pusher_port)
    worker = stack.process("worker-1")
    assert stack.send("stream.online", "crash_user").status_code == 204
    wait_until(lambda: hung_pusher.accepted, message="the worker never tried to publish")
    worker.kill()
    hung_pusher.close()
    stack.start_pusher()
    subscriber = stack.subscribe("crash_user")
    stack.start_worker()
    name, data = subscriber.next(timeout=40)
    assert name == "stream.online" and data["broadcaster"]["login"] == "crash_user"
    assert stack.send("stream.offline", "crash_user").status_code == 204
    assert subscriber.next()[0] == "stream.offline"
    assert subscriber.nothing_more()


def test_publishing_retries_until_pusher_is_back(stack):
    stack.process("pusher").stop()
    worker = stack.process("worker-1")
    message_id = str(uuid.uuid4())
    assert stack.send("stream.offline", "patient_user", message_id).status_code == 204
    wait_until(lambda: "retrying in" in worker.log(), message="the worker never retried")
    assert not stack.redis().exists(published_key(message_id))
    stack.start_pusher()
    # A retry may publish before a client could subscribe again: the worker marks the
    # event published once Pusher has taken it.
    wait_until(
        lambda: stack.redis().exists(published_key(message_id)),
        timeout=30,
        message="no retry reached Pusher once it was back",
    )
    assert dead_letters(stack.redis()) == []


@pytest.mark.stack_env(PUBLISH_MAX_RETRIES=2)
def test_exhausted_retries_are_dead_lettered_and_replayable(stack):
    stack.process("pusher").stop()
    assert stack.send("stream.offline", "unlucky_user").status_code == 204
    [letter] = wait_until(
        lambda: dead_letters(stack.redis()),
        timeout=30,
        message="the event never reached the dead letters",
    )
    assert letter["kind"] == "publish"
    assert "gave up after 3 attempts: cannot reach Pusher" in letter["reason"]
    assert letter["payload"]["broadcaster"]["login"] == "unlucky_user"

    listed = run_flask(stack, "dead-letters", "list")
    assert "unlucky_user" in listed.stdout and "gave up after 3 attempts" in listed.stdout

    stack.start_pusher()
    subscriber = stack.subscribe("unlucky_user")
    replayed = run_flask(stack, "dead-letters", "replay")
    assert "replayed 1" in replayed.stdout, replayed.stderr
    name, data = subscriber.next()
    assert name == "stream.offline" and data["id"] == letter["payload"]["id"]
    assert dead_letters(stack.redis()) == []


def test_revocations_are_recorded(stack):
    body = revocation_body(
        "stream.online", "gone_user", stack.callback, "user_removed", broadcaster_id="4242"
    )
    headers, raw = signed_message(stack.secret, "revocation", body)
    assert requests.post(stack.callback, data=raw, headers=headers, timeout=10).status_code == 204
    [revocation] = wait_until(lambda: revocations(stack.redis()), message="no revocation recorded")
    assert revocation["reason"] == "user_removed"
    assert revocation["broadcaster_id"] == "4242" and revocation["type"] == "stream.online"


def test_the_test_event_command_reaches_the_subscriber(stack):
    import subprocess
    import sys

    subscriber = stack.subscribe("cli_user")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "emulators.eventsub",
            "trigger",
            "channel.update",
            "--login",
            "cli_user",
            "--title",
            "From the CLI",
            "--to",
            stack.callback,
            "--duplicate",
        ],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("-> 204") == 2
    name, data = subscriber.next()
    assert data["message"] == "cli_user updated the stream: From the CLI"
    assert json.dumps(data)
