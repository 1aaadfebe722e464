"""The legacy WebSub hub: subscribe, verify, deny, notify, unsubscribe and lease expiry."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

from .support import wait_until

pytestmark = pytest.mark.timeout(60)

COOL_ID = "958187706"
TOPIC = f"https://api.twitch.tv/helix/streams?user_id={COOL_ID}"
HUB_SECRET = "hub-secret"


def hub(twitch, token, callback_url, mode="subscribe", topic=TOPIC, as_json=False, **extra):
    fields = {"hub.callback": callback_url, "hub.mode": mode, "hub.topic": topic, **extra}
    if as_json:
        return twitch.helix("POST", "/webhooks/hub", token, json=fields)
    return twitch.helix("POST", "/webhooks/hub", token, data=fields)


def leases(twitch, token) -> list[dict]:
    answer = twitch.helix("GET", "/webhooks/subscriptions", token)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def signature(body: bytes) -> str:
    return "sha256=" + hmac.new(HUB_SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_subscribe_is_verified_then_listed(twitch, app_token, callback):
    answer = hub(
        twitch, app_token, callback.url, **{"hub.lease_seconds": "3600", "hub.secret": HUB_SECRET}
    )
    assert answer.status_code == 202
    [check] = wait_until(lambda: callback.gets("subscribe"), message="the verification GET")
    assert check.query["hub.topic"] == TOPIC
    assert check.query["hub.lease_seconds"] == "3600"
    assert check.query["hub.challenge"]
    [lease] = wait_until(lambda: leases(twitch, app_token), message="the lease")
    assert lease["topic"] == TOPIC and lease["callback"] == callback.url
    assert lease["expires_at"].endswith("Z")
    body = twitch.helix("GET", "/webhooks/subscriptions", app_token).json()
    assert body["total"] == 1 and body["pagination"] == {}


def test_json_body_and_default_lease(twitch, app_token, callback):
    assert hub(twitch, app_token, callback.url, as_json=True).status_code == 202
    [check] = wait_until(lambda: callback.gets("subscribe"), message="the verification GET")
    assert check.query["hub.lease_seconds"] == "864000"


def test_hub_needs_an_app_token_and_valid_fields(twitch, app_token, callback):
    user = twitch.user_token("cool_user")["access_token"]
    assert hub(twitch, user, callback.url).status_code == 401
    assert hub(twitch, app_token, callback.url, mode="watch").status_code == 400
    assert (
        hub(
            twitch,
            app_token,
            callback.url,
            topic="https://api.twitch.tv/helix/users/follows?to_id=1",
        ).status_code
        == 400
    )
    assert (
        hub(twitch, app_token, callback.url, **{"hub.lease_seconds": "864001"}).status_code == 400
    )


def test_unknown_topic_user_is_denied(twitch, app_token, callback):
    topic = "https://api.twitch.tv/helix/streams?user_id=1"
    assert hub(twitch, app_token, callback.url, topic=topic).status_code == 202
    [denied] = wait_until(lambda: callback.gets("denied"), message="the denial")
    assert denied.query["hub.topic"] == topic and denied.query["hub.reason"]
    assert callback.gets("subscribe") == []
    assert leases(twitch, app_token) == []


def test_callback_that_does_not_echo_gets_no_lease(twitch, app_token, make_callback):
    wrong = make_callback(websub="wrong")
    hub(twitch, app_token, wrong.url)
    wait_until(lambda: wrong.gets("subscribe"), message="the verification GET")
    good = make_callback()
    hub(twitch, app_token, good.url)
    wait_until(lambda: leases(twitch, app_token), message="the good lease")
    assert [lease["callback"] for lease in leases(twitch, app_token)] == [good.url]


def test_notifications_follow_the_stream(twitch, app_token, callback):
    hub(twitch, app_token, callback.url, **{"hub.secret": HUB_SECRET})
    wait_until(lambda: leases(twitch, app_token), message="the lease")
    assert twitch.control("go-live", login="cool_user")["sent"]["websub"] == 1
    [live] = wait_until(callback.websub_posts, message="the live notification")
    stream = twitch.helix("GET", "/streams", app_token, params={"user_id": COOL_ID}).json()
    assert live.json() == {"data": stream["data"]}
    assert live.headers["X-Hub-Signature"] == signature(live.body)
    assert (
        live.headers["Link"]
        == f'<https://api.twitch.tv/helix/webhooks/hub>; rel="hub", <{TOPIC}>; rel="self"'
    )
    twitch.control("update", login="cool_user", title="Changed")
    _, changed = wait_until(
        lambda: len(callback.websub_posts()) == 2 and callback.websub_posts(),
        message="the change notification",
    )
    assert changed.json()["data"][0]["title"] == "Changed"
    twitch.control("go-offline", login="cool_user")
    offline = wait_until(
        lambda: len(callback.websub_posts()) == 3 and callback.websub_posts(),
        message="the offline notification",
    )[-1]
    assert offline.json() == {"data": []}
    assert offline.headers["X-Hub-Signature"] == signature(offline.body)


def test_no_secret_means_no_signature(twitch, app_token, callback):
    hub(twitch, app_token, callback.url)
    wait_until(lambda: leases(twitch, app_token), message="the lease")
    twitch.control("go-live", login="cool_user")
    [live] = wait_until(callback.websub_posts, message="the notification")
    assert "X-Hub-Signature" not in live.headers


def test_unsubscribe_is_verified_and_ends_the_lease(twitch, app_token, callback):
    hub(twitch, app_token, callback.url)
    wait_until(lambda: leases(twitch, app_token), message="the lease")
    assert hub(twitch, app_token, callback.url, mode="unsubscribe").status_code == 202
    wait_until(lambda: callback.gets("unsubscribe"), message="the unsubscribe verification")
    wait_until(lambda: leases(twitch, app_token) == [], message="the lease to end")


def test_leases_expire(twitch, app_token, callback, make_callback):
    keeper = make_callback()
    hub(twitch, app_token, keeper.url, **{"hub.lease_seconds": "600"})
    hub(twitch, app_token, callback.url, **{"hub.lease_seconds": "1"})
    wait_until(lambda: len(leases(twitch, app_token)) == 2, message="both leases")
    started = time.monotonic()
    wait_until(
        lambda: [lease["callback"] for lease in leases(twitch, app_token)] == [keeper.url],
        message="the short lease to expire",
    )
    assert time.monotonic() - started < 2.5
    assert twitch.control("go-live", login="cool_user")["sent"]["websub"] == 1
    wait_until(keeper.websub_posts, message="the keeper's notification")
    assert callback.websub_posts() == []
