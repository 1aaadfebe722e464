"""The Web Push stand-in as a real process: what it takes, what it refuses, what it
answers on demand, and that what it records decrypts to what was sent."""

from __future__ import annotations

import json
import time

import pytest
import requests
from py_vapid import Vapid, jwt
from pywebpush import WebPushException, webpush

from shared.vapid import new_key_pair
from tests.support import VAPID_PRIVATE_KEY, VAPID_PUBLIC_KEY, PushDevice

pytestmark = pytest.mark.timeout(30)
PAYLOAD = {"type": "stream.online", "login": "cool_user", "title": "Best Stream Ever"}


def send(device: PushDevice, claims: dict | None = None, key: str = VAPID_PRIVATE_KEY, **options):
    """Push PAYLOAD to ``device`` as pywebpush does, signed with ``key``; the answer."""
    return webpush(
        device.subscription,
        json.dumps(PAYLOAD),
        vapid_private_key=key,
        vapid_claims=dict(claims or {"sub": "mailto:alerts@localhost"}),
        ttl=600,
        headers={"Urgency": "high"},
        **options,
    )


def test_a_push_is_taken_recorded_and_decrypts_to_what_was_sent(webpush):
    device = PushDevice(webpush.endpoint("phone-1"))
    answer = send(device)
    assert answer.status_code == 201 and answer.headers["Location"].startswith("/message/")
    [received] = webpush.received("phone-1")
    assert received["status"] == 201
    assert received["headers"]["content-encoding"] == "aes128gcm"
    assert received["headers"]["ttl"] == "600" and received["headers"]["urgency"] == "high"
    assert device.decrypt(received) == PAYLOAD
    assert webpush.received("someone-else") == []


@pytest.mark.parametrize(
    "claims, reason",
    [
        ({"sub": "mailto:a@localhost", "aud": "http://elsewhere.example"}, "aud must be"),
        ({"sub": "mailto:a@localhost", "exp": int(time.time()) + 25 * 3600}, "exp must be"),
    ],
)
def test_a_vapid_jwt_for_another_audience_or_too_long_is_401(webpush, claims, reason):
    with pytest.raises(WebPushException) as refused:
        send(PushDevice(webpush.endpoint("phone-1")), claims)
    assert refused.value.response.status_code == 401 and reason in refused.value.response.text


def test_a_jwt_not_signed_by_the_key_it_names_or_without_sub_is_401(webpush):
    signer = Vapid.from_string(VAPID_PRIVATE_KEY)
    claims = {"aud": webpush.url, "exp": int(time.time()) + 3600}
    for token, key, reason in (
        (
            jwt.sign({**claims, "sub": "mailto:a@localhost"}, signer.private_key),
            new_key_pair()[0],
            "not signed",
        ),
        (jwt.sign(claims, signer.private_key), VAPID_PUBLIC_KEY, "sub is missing"),
    ):
        answer = requests.post(
            webpush.endpoint("phone-1"),
            data=b"\x00" * 20 + b"\x41" + b"\x04" * 100,
            headers={
                "Content-Encoding": "aes128gcm",
                "TTL": "60",
                "Authorization": f"vapid t={token}, k={key}",
            },
            timeout=10,
        )
        assert answer.status_code == 401 and reason in answer.text


def test_an_old_encoding_or_no_ttl_is_refused(webpush):
    device = PushDevice(webpush.endpoint("phone-1"))
    with pytest.raises(WebPushException) as refused:
        send(device, content_encoding="aesgcm")
    assert refused.value.response.status_code == 415
    answer = requests.post(
        device.endpoint, data=b"x", headers={"Content-Encoding": "aes128gcm"}, timeout=10
    )
    assert answer.status_code == 400


def test_answers_on_demand(webpush):
    gone, busy = PushDevice(webpush.endpoint("gone")), PushDevice(webpush.endpoint("busy"))
    webpush.answer("gone", 410)
    webpush.answer("busy", 429, retry_after=3, times=1)
    for _ in range(2):
        with pytest.raises(WebPushException) as refused:
            send(gone)
        assert refused.value.response.status_code == 410
    with pytest.raises(WebPushException) as refused:
        send(busy)
    assert refused.value.response.status_code == 429
    assert refused.value.response.headers["Retry-After"] == "3"
    assert send(busy).status_code == 201
    assert [r["status"] for r in webpush.received("busy")] == [429, 201]


def test_reset_forgets_what_was_received_and_asked(webpush):
    webpush.answer("phone-1", 404)
    assert requests.post(f"{webpush.url}/control/reset", timeout=10).ok
    assert webpush.received() == []
    assert send(PushDevice(webpush.endpoint("phone-1"))).status_code == 201
