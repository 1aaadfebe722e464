"""Go-live alerts: the ``/api/alerts`` contract, the alert leases it asks the worker for,
and forgetting a device."""

from __future__ import annotations

import base64
import dataclasses
import json
import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from shared.alerts import alert_devices, devices_key, subscription_id, viewer_alerts
from shared.leases import ALERT, new_lease, save_lease
from shared.vapid import b64url_encode, public_key_of, public_point
from tests.web.support import FROM_OUR_PAGE, watch
from web import create_app

pytestmark = pytest.mark.timeout(60)
COOL_USER_ID = "958187706"


@pytest.fixture
def app(twitch_app):
    return twitch_app


def device(endpoint: str | None = None) -> dict:
    """A browser's push subscription (as ``PushSubscription.toJSON()`` gives it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return {
        "endpoint": endpoint or f"https://push.example.net/send/{secrets.token_urlsafe(16)}",
        "keys": {"p256dh": public_point(key.public_key()), "auth": b64url_encode(b"a" * 16)},
    }


def put(client, login, subscription=None, headers=FROM_OUR_PAGE):
    body = {"subscription": subscription or device()}
    return client.put(f"/api/alerts/{login}", json=body, headers=headers)


def delete(client, login, headers=FROM_OUR_PAGE):
    return client.delete(f"/api/alerts/{login}", headers=headers)


def queued(redis_client) -> list[tuple[str, list]]:
    """Each maintenance task queued: its name and its arguments."""
    messages = [json.loads(m) for m in redis_client.lrange("maintenance", 0, -1)]
    return [(m["headers"]["task"], json.loads(base64.b64decode(m["body"]))[0]) for m in messages]


def test_an_alert_is_added_with_this_device_and_the_worker_asked_to_hold_it(
    viewer, redis_client, twitch_settings
):
    phone = device()
    answer = put(viewer, "Cool_User", phone)
    expected = {
        "enabled": True,
        "vapid_public_key": twitch_settings.vapid_public_key,
        "limit": 50,
        "alerts": [{"login": "cool_user", "name": "Cool_User"}],
    }
    assert answer.status_code == 200 and answer.json == expected
    assert viewer.get("/api/alerts").json == expected
    devices = alert_devices(redis_client, COOL_USER_ID)
    assert [d["endpoint"] for d in devices.values()] == [phone["endpoint"]]
    streamer = {"id": COOL_USER_ID, "login": "cool_user", "name": "Cool_User"}
    assert queued(redis_client) == [("alert_leases.settle_alert_lease", [streamer])]


def test_the_public_key_is_one_the_browser_can_subscribe_with(viewer, twitch_settings):
    key = viewer.get("/api/alerts").json["vapid_public_key"]
    assert key == public_key_of(twitch_settings.vapid_private_key) and "=" not in key
    point = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), base64.urlsafe_b64decode(key + "=")
    )
    assert point.key_size == 256


def test_removing_an_alert_is_idempotent_and_lets_the_lease_go(viewer, redis_client):
    put(viewer, "cool_user")
    redis_client.delete("maintenance")
    for _ in range(2):
        answer = delete(viewer, "cool_user")
        assert answer.status_code == 200 and answer.json["alerts"] == []
    assert [name for name, _ in queued(redis_client)] == ["alert_leases.settle_alert_lease"]
    assert alert_devices(redis_client, COOL_USER_ID) == {}


def test_an_unknown_streamer_is_404_and_nothing_is_kept(viewer, redis_client):
    answer = put(viewer, "nobody_by_that_name")
    assert answer.status_code == 404
    assert answer.json == {"error": "no Twitch channel named nobody_by_that_name"}
    assert viewer.get("/api/alerts").json["alerts"] == [] and queued(redis_client) == []


def test_past_the_cap_is_409_but_an_alert_already_there_is_refreshed(
    twitch_settings, redis_client, twitch_emulator, auth
):
    app = create_app(dataclasses.replace(twitch_settings, alerts_per_viewer=2))
    client = app.test_client()
    auth.login(client=client)
    for login in ("cool_user", "speedy_sam"):
        assert put(client, login).status_code == 200
    refused = put(client, "chill_chess")
    assert refused.status_code == 409
    assert refused.json == {"error": "at most 2 streamers can have alerts"}
    assert put(client, "cool_user").status_code == 200
    assert [a["login"] for a in client.get("/api/alerts").json["alerts"]] == [
        "cool_user",
        "speedy_sam",
    ]


def keys_of(**changes) -> dict:
    subscription = device()
    subscription["keys"].update(changes)
    return subscription


@pytest.mark.parametrize(
    "subscription",
    [
        None,
        {"endpoint": "https://push.example.net/x"},
        device("http://push.example.net/send/1"),
        device("ftp://push.example.net/send/1"),
        device("https://127.0.0.1/send/1"),
        device("https://10.0.0.5/send/1"),
        device("https://[::1]/send/1"),
        device("http://localhost.evil.example/send/1"),
        device("https://push.example.net:99999/send/1"),
        device("https://push.example.net/" + "x" * 1100),
        keys_of(p256dh=b64url_encode(b"\x04" + b"\x00" * 64)),
        keys_of(p256dh=b64url_encode(b"\x04" * 33)),
        keys_of(auth=b64url_encode(b"a" * 15)),
        keys_of(auth="not base64url!"),
        keys_of(auth=None),
    ],
)
def test_a_malformed_subscription_is_400(viewer, redis_client, subscription):
    answer = viewer.put(
        "/api/alerts/cool_user", json={"subscription": subscription}, headers=FROM_OUR_PAGE
    )
    assert answer.status_code == 400 and "subscription" in answer.json["error"]
    assert viewer.get("/api/alerts").json["alerts"] == []


def test_the_push_stand_ins_loopback_url_is_taken_in_development(viewer, redis_client):
    assert put(viewer, "cool_user", device("http://127.0.0.1:8099/push/abc")).status_code == 200


def test_web_push_off_answers_disabled_and_refuses_alerts(twitch_settings, auth, redis_client):
    app = create_app(dataclasses.replace(twitch_settings, web_push=False))
    client = app.test_client()
    auth.login(client=client)
    assert client.get("/api/alerts").json == {"enabled": False, "alerts": []}
    answer = put(client, "cool_user")
    assert answer.status_code == 404 and answer.json["error"]


def test_logged_out_is_401_and_changes_come_from_our_pages_only(client, viewer, redis_client):
    anonymous = viewer.application.test_client()
    assert anonymous.get("/api/alerts").status_code == 401
    assert put(anonymous, "cool_user").status_code == 401
    for headers in ({}, {"Origin": "https://evil.example"}):
        assert put(viewer, "cool_user", headers=headers).status_code == 403
        assert delete(viewer, "cool_user", headers=headers).status_code == 403
    assert viewer.get("/api/alerts").json["alerts"] == []


def test_forgetting_this_device_keeps_the_list_and_the_viewers_other_devices(viewer, redis_client):
    phone, laptop = device(), device()
    put(viewer, "cool_user", phone)
    put(viewer, "cool_user", laptop)
    answer = viewer.delete(
        "/api/push-subscription", json={"endpoint": phone["endpoint"]}, headers=FROM_OUR_PAGE
    )
    assert answer.status_code == 204
    devices = alert_devices(redis_client, COOL_USER_ID)
    assert [d["endpoint"] for d in devices.values()] == [laptop["endpoint"]]
    assert viewer.get("/api/alerts").json["alerts"] == [{"login": "cool_user", "name": "Cool_User"}]
    bad = viewer.delete("/api/push-subscription", json={}, headers=FROM_OUR_PAGE)
    assert bad.status_code == 400


def test_a_device_belongs_to_the_last_viewer_who_signed_it_up(app, viewer, auth, redis_client):
    shared_browser = device()
    put(viewer, "cool_user", shared_browser)
    other = app.test_client()
    auth.login("cool_user", client=other)
    put(other, "speedy_sam", shared_browser)
    first, second = (each.get("/api/test/me").json["id"] for each in (viewer, other))
    assert redis_client.hkeys(devices_key(first)) == []
    assert redis_client.hkeys(devices_key(second)) == [subscription_id(shared_browser["endpoint"])]
    assert alert_devices(redis_client, COOL_USER_ID) == {}


def test_logging_out_everywhere_forgets_the_devices_but_not_the_list(viewer, auth, redis_client):
    put(viewer, "cool_user")
    viewer_id = viewer.get("/api/test/me").json["id"]
    assert auth.logout(everywhere=True).status_code == 303
    assert alert_devices(redis_client, COOL_USER_ID) == {}
    assert redis_client.keys(f"sev:push-*{viewer_id}*") == []
    assert [a["login"] for a in viewer_alerts(redis_client, viewer_id)] == ["cool_user"]


def test_watching_a_streamer_held_only_for_alerts_asks_for_the_rest(viewer, redis_client):
    lease = new_lease({"id": COOL_USER_ID, "login": "cool_user"}, reason=ALERT)
    lease["subscriptions"] = {"stream.online": {"id": "sub-1", "status": "enabled"}}
    save_lease(redis_client, lease)
    assert watch(viewer, "cool_user").status_code == 200
    assert [name for name, _ in queued(redis_client)] == ["subscriptions.ensure_subscriptions"]


def test_subscription_ids_are_digests_of_the_endpoint():
    assert subscription_id("https://a.example/1") != subscription_id("https://a.example/2")
    assert len(subscription_id("https://a.example/1")) == 32


def test_a_renewed_subscription_takes_the_place_of_the_one_it_replaces(viewer, redis_client):
    """The service worker's pushsubscriptionchange: the new endpoint is kept, the old one
    forgotten, the alert list untouched; a body without a usable subscription is 400."""
    old, renewed, laptop = device(), device(), device()
    put(viewer, "cool_user", old)
    put(viewer, "cool_user", laptop)
    body = {"subscription": renewed, "replaces": old["endpoint"]}
    answer = viewer.put("/api/push-subscription", json=body, headers=FROM_OUR_PAGE)
    assert answer.status_code == 204
    endpoints = {d["endpoint"] for d in alert_devices(redis_client, COOL_USER_ID).values()}
    assert endpoints == {renewed["endpoint"], laptop["endpoint"]}
    assert viewer.get("/api/alerts").json["alerts"] == [{"login": "cool_user", "name": "Cool_User"}]
    for bad in ({"replaces": old["endpoint"]}, {"subscription": renewed, "replaces": 7}, []):
        answer = viewer.put("/api/push-subscription", json=bad, headers=FROM_OUR_PAGE)
        assert answer.status_code == 400
    assert viewer.put("/api/push-subscription", json=body).status_code == 403


def test_a_renewal_cannot_forget_another_viewers_device(app, viewer, auth, redis_client):
    theirs = device()
    other = app.test_client()
    auth.login("cool_user", client=other)
    put(other, "speedy_sam", theirs)
    body = {"subscription": device(), "replaces": theirs["endpoint"]}
    assert viewer.put("/api/push-subscription", json=body, headers=FROM_OUR_PAGE).status_code == 204
    owner = other.get("/api/test/me").json["id"]
    assert redis_client.hkeys(devices_key(owner)) == [subscription_id(theirs["endpoint"])]
