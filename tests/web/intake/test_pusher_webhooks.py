"""Pusher's channel webhooks, verified with the secret we share with Pusher."""

import hashlib
import hmac
import json
import time

import pytest

from shared.store import occupied_channels


def signed(settings, events, key=None, secret=None, time_ms=None):
    body = json.dumps({"time_ms": time_ms or int(time.time() * 1000), "events": events})
    signature = hmac.new(
        (secret or settings.pusher_secret).encode(), body.encode(), hashlib.sha256
    ).hexdigest()
    return body, {
        "X-Pusher-Key": key or settings.pusher_key,
        "X-Pusher-Signature": signature,
        "Content-Type": "application/json",
    }


def test_occupied_and_vacated_are_recorded(client, settings, redis_client):
    body, headers = signed(
        settings,
        [
            {"name": "channel_occupied", "channel": "private-cool_user"},
            {"name": "channel_occupied", "channel": "private-other"},
        ],
    )
    assert client.post("/api/pusher/webhook", data=body, headers=headers).status_code == 204
    body, headers = signed(settings, [{"name": "channel_vacated", "channel": "private-other"}])
    assert client.post("/api/pusher/webhook", data=body, headers=headers).status_code == 204
    assert occupied_channels(redis_client) == ["cool_user"]


def test_a_public_channel_holds_no_lease(client, settings, redis_client):
    """Anyone may join a public channel with the public key: it must not count."""
    body, headers = signed(
        settings,
        [
            {"name": "channel_occupied", "channel": "cool_user"},
            {"name": "channel_occupied", "channel": "private-"},
            {"name": "channel_occupied", "channel": "presence-x"},
        ],
    )
    assert client.post("/api/pusher/webhook", data=body, headers=headers).status_code == 204
    assert occupied_channels(redis_client) == []


def test_bad_signature_key_or_stale_time_is_refused(client, settings, redis_client):
    events = [{"name": "channel_occupied", "channel": "private-cool_user"}]
    for body, headers in (
        signed(settings, events, secret="wrong"),
        signed(settings, events, key="wrong"),
        signed(settings, events, time_ms=int(time.time() * 1000) - 600_000),
    ):
        response = client.post("/api/pusher/webhook", data=body, headers=headers)
        assert response.status_code == 401
    assert occupied_channels(redis_client) == []


def signed_raw(settings, body: str):
    signature = hmac.new(settings.pusher_secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    return {
        "X-Pusher-Key": settings.pusher_key,
        "X-Pusher-Signature": signature,
        "Content-Type": "application/json",
    }


def rejections(caplog):
    found = [r for r in caplog.records if "rejected Pusher webhook" in r.getMessage()]
    assert all(r.exc_info is None for r in found)
    return found


def test_a_non_ascii_signature_is_401_not_500(client, settings, redis_client, caplog):
    body, headers = signed(settings, [{"name": "channel_occupied", "channel": "private-cool_user"}])
    # Headers travel as latin-1: "é" repeated, as a client could send it.
    headers["X-Pusher-Signature"] = "\u00e9" * 64
    response = client.post("/api/pusher/webhook", data=body, headers=headers)
    assert response.status_code == 401
    assert len(rejections(caplog)) == 1
    assert occupied_channels(redis_client) == []


@pytest.mark.parametrize(
    "body",
    [
        "[1, 2, 3]",
        '"hello"',
        "null",
        "42",
        json.dumps({"time_ms": "soon", "events": []}),
        json.dumps({"time_ms": [1], "events": []}),
        "[" * 20_000 + "]" * 20_000,
        "{}",
    ],
)
def test_a_signed_body_of_the_wrong_shape_is_4xx_not_500(
    client, settings, redis_client, caplog, body
):
    response = client.post("/api/pusher/webhook", data=body, headers=signed_raw(settings, body))
    assert response.status_code in (400, 401)
    assert len(rejections(caplog)) == 1


def test_a_signed_body_nested_too_deeply_is_400(client, settings, redis_client, caplog):
    body = "[" * 65_536
    response = client.post("/api/pusher/webhook", data=body, headers=signed_raw(settings, body))
    assert response.status_code == 400
    assert len(rejections(caplog)) == 1


@pytest.mark.parametrize(
    "events",
    [
        "not a list",
        {"name": "channel_occupied"},
        [1, 2],
        ["channel_occupied"],
        [{"name": ["channel_occupied"], "channel": "private-cool_user"}],
        [{"name": {"x": 1}, "channel": "private-cool_user"}],
    ],
)
def test_signed_events_of_the_wrong_shape_are_400_or_ignored(
    client, settings, redis_client, caplog, events
):
    body = json.dumps({"time_ms": int(time.time() * 1000), "events": events})
    response = client.post("/api/pusher/webhook", data=body, headers=signed_raw(settings, body))
    assert response.status_code in (204, 400)
    assert occupied_channels(redis_client) == []


def test_a_body_over_64_kib_is_413(client, settings, redis_client):
    body = json.dumps({"time_ms": int(time.time() * 1000), "events": [], "padding": "x" * 70_000})
    response = client.post("/api/pusher/webhook", data=body, headers=signed_raw(settings, body))
    assert response.status_code == 413
