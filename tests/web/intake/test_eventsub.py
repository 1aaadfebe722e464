"""EventSub intake (web/intake/eventsub.py): every acceptance and rejection path, with the
real queue: a Redis server, written through the intake's own writer. (Bodies over the
limit: tests/web/test_server.py and the verdicts against the served web.)"""

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from emulators.eventsub.messages import notification_body, signed_message, verification_body
from shared import intake
from shared.eventsub import (
    MESSAGE_SIGNATURE,
    MESSAGE_TIMESTAMP,
    eventsub_signature,
    format_eventsub_timestamp,
)
from tests.support import free_port
from tests.web.support import Callback

CALLBACK = "http://localhost/api/callback"


@pytest.fixture
def secret(settings):
    return settings.twitch_webhook_secret


@pytest.fixture
def client(settings, secret):
    """The intake of the test's Redis (the name the module's tests were written with)."""
    return Callback(settings.redis_url, secret, settings.intake_shards)


def queued(redis_client):
    """Raw messages waiting in the intake."""
    return intake.waiting(redis_client, 8)


def post(client, headers, raw):
    return client.post(headers, raw)


def online(secret, **kwargs):
    return signed_message(
        secret, "notification", notification_body("stream.online", "cool_user", CALLBACK), **kwargs
    )


def test_notification_is_queued_raw_with_its_headers(client, secret, redis_client):
    headers, raw = online(secret)
    response = post(client, headers, raw)
    assert response.status_code == 204
    [message] = queued(redis_client)
    assert message["kind"] == intake.EVENTSUB
    broadcaster_id = json.loads(raw)["event"]["broadcaster_user_id"]
    assert message["stream"] == intake.intake_key(intake.shard_of(broadcaster_id, 8)), (
        "a broadcaster's messages share the shard of its id"
    )
    task_headers, body = message["headers"], message["body"]
    assert body == raw.decode()
    assert task_headers["Twitch-Eventsub-Message-Id"] == headers["Twitch-Eventsub-Message-Id"]
    assert task_headers["Twitch-Eventsub-Subscription-Type"] == "stream.online"
    assert MESSAGE_SIGNATURE not in task_headers


def test_each_accepted_message_is_logged_once_at_debug(client, secret, redis_client, caplog):
    caplog.set_level(logging.DEBUG, logger="web.intake.eventsub")
    headers, raw = online(secret)
    assert post(client, headers, raw).status_code == 204
    [line] = [r for r in caplog.records if "accepted EventSub" in r.getMessage()]
    assert line.levelno == logging.DEBUG
    assert headers["Twitch-Eventsub-Message-Id"] in line.getMessage()
    assert queued(redis_client)[0]["id"] in line.getMessage(), "names its intake entry"


def test_revocation_is_queued(client, secret, redis_client):
    body = notification_body("stream.online", "cool_user", CALLBACK)
    body.pop("event")
    body["subscription"]["status"] = "user_removed"
    headers, raw = signed_message(secret, "revocation", body)
    assert post(client, headers, raw).status_code == 204
    assert len(queued(redis_client)) == 1


def test_challenge_is_answered_inline_as_plain_text(client, secret, redis_client):
    headers, raw = signed_message(
        secret,
        "webhook_callback_verification",
        verification_body("stream.online", "cool_user", CALLBACK, "pogchamp-kappa-360noscope"),
    )
    response = post(client, headers, raw)
    assert response.status_code == 200
    assert response.data == b"pogchamp-kappa-360noscope"
    assert response.mimetype == "text/plain"
    assert queued(redis_client) == []


def test_nine_and_three_digit_timestamps_are_accepted(client, secret, redis_client):
    for digits in (9, 3):
        headers, raw = online(secret)
        now = datetime.now(UTC)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}000"[:digits] + "Z"
        headers[MESSAGE_TIMESTAMP] = stamp
        headers[MESSAGE_SIGNATURE] = eventsub_signature(
            secret, headers["Twitch-Eventsub-Message-Id"], stamp, raw
        )
        assert post(client, headers, raw).status_code == 204
    assert len(queued(redis_client)) == 2


def resign(secret, headers, raw):
    headers[MESSAGE_SIGNATURE] = eventsub_signature(
        secret, headers["Twitch-Eventsub-Message-Id"], headers[MESSAGE_TIMESTAMP], raw
    )


@pytest.mark.parametrize(
    "tamper, status, reason",
    [
        (
            lambda s, h, r: (h.update({MESSAGE_SIGNATURE: "sha256=" + "0" * 64}), r),
            403,
            "signature",
        ),
        (lambda s, h, r: (h.pop(MESSAGE_SIGNATURE), r), 403, "signature"),
        (lambda s, h, r: (h, r + b" "), 403, "signature"),
        (lambda s, h, r: (h.pop("Twitch-Eventsub-Message-Id"), r), 400, "missing"),
        (lambda s, h, r: (h.pop(MESSAGE_TIMESTAMP), r), 400, "missing"),
        (lambda s, h, r: (h.pop("Twitch-Eventsub-Message-Type"), r), 400, "missing"),
        (
            lambda s, h, r: (h.update({"Twitch-Eventsub-Message-Type": "surprise"}), r),
            400,
            "unknown",
        ),
        (
            lambda s, h, r: (
                h.update(
                    {
                        MESSAGE_TIMESTAMP: format_eventsub_timestamp(
                            datetime.now(UTC) - timedelta(minutes=11)
                        )
                    }
                ),
                resign(s, h, r),
                r,
            ),
            403,
            "window",
        ),
        (
            lambda s, h, r: (
                h.update(
                    {
                        MESSAGE_TIMESTAMP: format_eventsub_timestamp(
                            datetime.now(UTC) + timedelta(minutes=11)
                        )
                    }
                ),
                resign(s, h, r),
                r,
            ),
            403,
            "window",
        ),
    ],
)
def test_rejections_queue_nothing(client, secret, redis_client, caplog, tamper, status, reason):
    headers, raw = online(secret)
    *_, raw = tamper(secret, headers, raw)
    response = post(client, headers, raw)
    assert response.status_code == status
    assert reason in response.json["error"]
    assert queued(redis_client) == []
    rejections = [r for r in caplog.records if "rejected EventSub" in r.getMessage()]
    assert len(rejections) == 1 and secret not in rejections[0].getMessage()


def test_challenge_without_challenge_is_400(client, secret):
    body = verification_body("stream.online", "cool_user", CALLBACK, "c")
    del body["challenge"]
    headers, raw = signed_message(secret, "webhook_callback_verification", body)
    assert post(client, headers, raw).status_code == 400


def test_queue_down_is_503_never_2xx(secret, redis_client):
    dead_redis = Callback(f"redis://127.0.0.1:{free_port()}/0", secret)
    headers, raw = online(secret)
    response = dead_redis.post(headers, raw)
    assert response.status_code == 503
    assert "queue" in response.json["error"]


@pytest.mark.parametrize(
    "shape",
    [
        "%Y%m%dT%H%M%SZ",  # basic format
        "%G-W%V-%uT%H:%M:%SZ",  # week date
        "%Y-%m-%dT%H:%M:%S.12345678901234567890Z",  # 20 fractional digits
        "%Y-%m-%d %H:%M:%SZ",  # a space for the T
        "%Y-%m-%dT%H:%MZ",  # no seconds
        "%Y-%m-%dT%H:%M:%S+0000",  # offset without its colon
        "%Y-%m-%dT%H:%M:%S",  # no zone
    ],
)
def test_a_timestamp_of_another_iso_shape_is_403(client, secret, redis_client, shape):
    """Only the RFC 3339 shape Twitch sends counts, however fresh the time it names."""
    headers, raw = online(secret)
    headers[MESSAGE_TIMESTAMP] = datetime.now(UTC).strftime(shape)
    resign(secret, headers, raw)
    response = post(client, headers, raw)
    assert response.status_code == 403 and "window" in response.json["error"]
    assert queued(redis_client) == []


def test_a_deeply_nested_verification_body_is_400_not_500(client, secret):
    raw = b"[" * 20_000 + b"]" * 20_000
    headers, _ = signed_message(secret, "webhook_callback_verification", {})
    headers[MESSAGE_SIGNATURE] = eventsub_signature(
        secret, headers["Twitch-Eventsub-Message-Id"], headers[MESSAGE_TIMESTAMP], raw
    )
    response = post(client, headers, raw)
    assert response.status_code == 400 and "challenge" in response.json["error"]
