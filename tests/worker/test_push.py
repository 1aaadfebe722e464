"""Go-live alerts sent in this process to the Web Push stand-in (a real process), with the
tests playing the browsers: one push per device per stream, decrypted; gone devices
forgotten; 429 retried; one slow push service not holding another."""

from __future__ import annotations

import base64
import json
import time

import pytest

from shared.alerts import add_alert, alert_devices, store_device
from tests.support import VAPID_PUBLIC_KEY, PushDevice

pytestmark = pytest.mark.timeout(60)
STREAMER = {"id": "958187706", "login": "cool_user", "name": "Cool_User"}
TWITCH_TIME = "2026-01-01T12:00:00.000000000Z"


def alert(stream_id="40001"):
    return {
        "type": "stream.online",
        "login": "cool_user",
        "name": "Cool_User",
        "title": "Best Stream Ever",
        "category": "Fortnite",
        "stream_id": stream_id,
        "url": "/watch/cool_user",
        "tag": "live-cool_user",
    }


@pytest.fixture
def push(worker_environment, redis_client):
    from worker import push

    return push


def sign_up(redis_client, webpush, viewer_id: str, name: str, streamer=STREAMER) -> PushDevice:
    """A viewer alerted of ``streamer`` on a device of the stand-in named ``name``."""
    add_alert(redis_client, viewer_id, streamer, limit=50)
    device = PushDevice(webpush.endpoint(name))
    store_device(redis_client, viewer_id, device.subscription)
    return device


def metric(name, **labels) -> float:
    from worker.metrics import registry

    return registry.get_sample_value(name, labels) or 0.0


def send(push, stream_id="40001"):
    push.send_go_live_alerts.apply(args=(STREAMER["id"], alert(stream_id), TWITCH_TIME))


def test_a_go_live_is_one_push_per_device_and_decrypts_to_the_alert(push, redis_client, webpush):
    phone = sign_up(redis_client, webpush, "1", "phone")
    laptop = sign_up(redis_client, webpush, "1", "laptop")
    friend = sign_up(redis_client, webpush, "2", "friend")
    elsewhere = {"id": "1", "login": "speedy_sam", "name": "SpeedySam"}
    sign_up(redis_client, webpush, "3", "not-alerted", streamer=elsewhere)
    sent, lags = metric("sev_pushes_sent_total"), metric("sev_push_lag_seconds_count")
    send(push)
    for device, name in ((phone, "phone"), (laptop, "laptop"), (friend, "friend")):
        [received] = webpush.received(name)
        assert received["status"] == 201 and device.decrypt(received) == alert()
        headers = received["headers"]
        assert (headers["ttl"], headers["urgency"], headers["topic"]) == (
            "600",
            "high",
            "live-cool_user",
        )
        assert headers["authorization"].endswith(f"k={VAPID_PUBLIC_KEY}")
    assert webpush.received("not-alerted") == []
    assert metric("sev_pushes_sent_total") == sent + 3
    assert metric("sev_push_lag_seconds_count") == lags + 3


def test_a_repeated_go_live_of_the_same_stream_alerts_no_device_twice(push, redis_client, webpush):
    sign_up(redis_client, webpush, "1", "phone")
    send(push)
    send(push)
    assert len(webpush.received("phone")) == 1
    sign_up(redis_client, webpush, "2", "late-comer")
    send(push)
    assert len(webpush.received("phone")) == 1 and len(webpush.received("late-comer")) == 1
    send(push, stream_id="40002")  # the next stream alerts again
    assert len(webpush.received("phone")) == 2


@pytest.mark.parametrize("status", [403, 404, 410])
def test_a_gone_subscription_is_forgotten_and_never_pushed_again(
    push, redis_client, webpush, status
):
    sign_up(redis_client, webpush, "1", "gone")
    kept = sign_up(redis_client, webpush, "1", "kept")
    webpush.answer("gone", status)
    removed = metric("sev_push_subscriptions_removed_total")
    send(push)
    assert [r["status"] for r in webpush.received("gone")] == [status]
    endpoints = [d["endpoint"] for d in alert_devices(redis_client, STREAMER["id"]).values()]
    assert endpoints == [kept.endpoint]
    assert metric("sev_push_subscriptions_removed_total") == removed + 1
    send(push, stream_id="40002")
    assert len(webpush.received("gone")) == 1 and len(webpush.received("kept")) == 2


def test_a_429_is_retried_and_each_device_is_pushed_once(push, redis_client, webpush):
    busy = sign_up(redis_client, webpush, "1", "busy")
    sign_up(redis_client, webpush, "2", "calm")
    webpush.answer("busy", 429, retry_after=1, times=1)
    limited = metric("sev_pushes_failed_total", reason="rate_limited")
    send(push)  # eagerly: the retry runs at once
    assert [r["status"] for r in webpush.received("busy")] == [429, 201]
    assert busy.decrypt(webpush.received("busy")[1]) == alert()
    assert [r["status"] for r in webpush.received("calm")] == [201]
    assert metric("sev_pushes_failed_total", reason="rate_limited") == limited + 1


def test_the_retry_waits_what_the_service_asked_within_the_backoff_cap(push, worker_environment):
    cap = worker_environment.publish_retry_backoff_max
    assert all(0.5 <= push.retry_delay(0, 0.0) <= 1 for _ in range(20))
    assert push.retry_delay(0, 0.8) >= 0.8
    assert push.retry_delay(6, 0.0) == cap and push.retry_delay(0, 30.0) == cap


def test_a_slow_push_service_spends_its_budget_without_holding_another(
    push, redis_client, webpush, monkeypatch
):
    from shared import web_push

    monkeypatch.setattr(web_push, "SERVICE_BUDGET_SECONDS", 0.5)
    monkeypatch.setattr(web_push, "LANES_PER_SERVICE", 2)
    slow = {f"slow-{n}": PushDevice(webpush.endpoint(f"slow-{n}")) for n in range(6)}
    other_origin = webpush.url.replace("127.0.0.1", "localhost")
    fast = {f"fast-{n}": PushDevice(f"{other_origin}/push/fast-{n}") for n in range(6)}
    for name in slow:
        webpush.answer(name, 201, delay=1)
    sender = web_push.PushSender(push.settings().vapid_private_key, "mailto:alerts@localhost")
    started = time.monotonic()
    outcomes = sender.fan_out(
        {name: d.subscription for name, d in {**slow, **fast}.items()}, b'{"x": 1}', "t"
    )
    assert time.monotonic() - started < 2.5
    results = {o.device: (o.result, o.reason) for o in outcomes}
    assert all(results[name] == ("sent", "") for name in fast)
    assert sorted(results[name] for name in slow) == [("retry", "budget")] * 4 + [("sent", "")] * 2


def test_a_go_live_queues_one_alert_task_only_for_a_streamer_with_alerts(push, redis_client):
    add_alert(redis_client, "1", STREAMER, limit=50)
    event = {
        "id": "m1",
        "type": "stream.online",
        "broadcaster": STREAMER,
        "stream_id": "40001",
        "title": "Best Stream Ever",
        "category_name": "Fortnite",
        "occurred_at": "2026-01-01T12:00:00Z",
    }
    unalerted = {**event, "id": "m2", "broadcaster": {"id": "2", "login": "speedy_sam"}}
    push.queue_go_live_alerts([(event, TWITCH_TIME), (unalerted, TWITCH_TIME)])
    [message] = [json.loads(m) for m in redis_client.lrange("push", 0, -1)]
    assert message["headers"]["task"] == "push.send_go_live_alerts"
    args, _, _ = json.loads(base64.b64decode(message["body"]))
    assert args == [STREAMER["id"], alert(), TWITCH_TIME]
