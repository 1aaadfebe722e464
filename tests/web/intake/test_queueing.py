"""The Flask side's last step of the intake: a verified message queued raw on its shard's
stream with the headers the worker needs, acknowledged (204) only once it is queued."""

from __future__ import annotations

import dataclasses
import json
import logging

import pytest

from scripts.processes import free_port
from shared.intake import EVENTSUB, WEBSUB, intake_key, shard_of
from web import create_app
from web.intake.queueing import queue_message
from web.metrics import REGISTRY

FORWARDED = {"X-Hub-Signature": "sha256=abc", "Link": "<https://hub>; rel=hub"}
BODY = '{"data": [{"id": "1", "title": "Café"}]}'


def webhooks_count(transport: str, outcome: str, reason: str = "") -> float:
    labels = {"transport": transport, "outcome": outcome, "reason": reason}
    return REGISTRY.get_sample_value("sev_webhooks_total", labels) or 0.0


def queue(app, body: bytes, kind: str = WEBSUB, message_id: str = "m-1"):
    with app.test_request_context():
        return queue_message(kind, FORWARDED, body, "4242", message_id, "a stream's snapshot")


def test_a_message_is_queued_raw_on_its_shard_then_acknowledged(app, settings, redis_client):
    before = webhooks_count(WEBSUB, "accepted")
    answer = queue(app, BODY.encode())
    assert answer.status_code == 204
    key = intake_key(shard_of("4242", settings.intake_shards))
    [(_, fields)] = redis_client.xrange(key)
    assert fields == {"kind": WEBSUB, "headers": json.dumps(FORWARDED), "body": BODY}
    assert webhooks_count(WEBSUB, "accepted") == before + 1


def test_a_body_that_is_not_utf8_is_400_and_not_queued(app, redis_client, caplog):
    before = webhooks_count(EVENTSUB, "rejected", "not_utf8")
    answer = queue(app, b"\xff\xfe not text", kind=EVENTSUB, message_id="m-2")
    assert answer.status_code == 400 and answer.json == {"error": "body is not UTF-8"}
    assert redis_client.keys("sev:intake:*") == []
    assert webhooks_count(EVENTSUB, "rejected", "not_utf8") == before + 1
    assert "rejected EventSub message 'm-2'" in caplog.text


def test_when_redis_is_down_the_message_is_503_for_the_sender_to_try_again(settings, caplog):
    app = create_app(dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}"))
    caplog.set_level(logging.ERROR)
    before = webhooks_count(WEBSUB, "unavailable", "queue_unavailable")
    answer = queue(app, BODY.encode(), message_id="m-3")
    assert answer.status_code == 503
    assert answer.json == {"error": "queue unavailable, try again"}
    assert webhooks_count(WEBSUB, "unavailable", "queue_unavailable") == before + 1
    assert "cannot queue WebSub message 'm-3'" in caplog.text


@pytest.mark.parametrize("kind", [EVENTSUB, WEBSUB])
def test_each_kind_is_queued_as_itself(app, redis_client, kind):
    assert queue(app, BODY.encode(), kind=kind).status_code == 204
    [key] = redis_client.keys("sev:intake:*")
    assert [fields["kind"] for _, fields in redis_client.xrange(key)] == [kind]
