"""Pusher's channel webhooks, verified with the secret we share with Pusher."""

import hashlib
import hmac
import json
import time

from shared.store import occupied_channels


def signed(settings, events, key=None, secret=None, time_ms=None):
    body = json.dumps({"time_ms": time_ms or int(time.time() * 1000), "events": events})
    signature = hmac.new((secret or settings.pusher_secret).encode(), body.encode(),
                         hashlib.sha256).hexdigest()
    return body, {"X-Pusher-Key": key or settings.pusher_key, "X-Pusher-Signature": signature,
                  "Content-Type": "application/json"}


def test_occupied_and_vacated_are_recorded(client, settings, redis_client):
    body, headers = signed(settings, [{"name": "channel_occupied", "channel": "cool_user"},
                                      {"name": "channel_occupied", "channel": "other"}])
    assert client.post("/api/pusher/webhook", data=body, headers=headers).status_code == 204
    body, headers = signed(settings, [{"name": "channel_vacated", "channel": "other"}])
    assert client.post("/api/pusher/webhook", data=body, headers=headers).status_code == 204
    assert occupied_channels(redis_client) == ["cool_user"]


def test_bad_signature_key_or_stale_time_is_refused(client, settings, redis_client):
    events = [{"name": "channel_occupied", "channel": "cool_user"}]
    for body, headers in (
        signed(settings, events, secret="wrong"),
        signed(settings, events, key="wrong"),
        signed(settings, events, time_ms=int(time.time() * 1000) - 600_000),
    ):
        response = client.post("/api/pusher/webhook", data=body, headers=headers)
        assert response.status_code == 401
    assert occupied_channels(redis_client) == []
