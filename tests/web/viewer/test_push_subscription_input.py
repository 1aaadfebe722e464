"""A browser's push subscription as the alerts' routes read it: an https endpoint of a
named host (a loopback http one in development), and keys RFC 8291 can encrypt to."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from web.viewer.push_subscription_input import (
    MAX_ENDPOINT,
    acceptable_endpoint,
    parsed_subscription,
)

ENDPOINT = "https://push.example.net/send/abc123"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def browser_keys() -> dict:
    """Keys as a browser's ``PushSubscription.toJSON()`` gives them."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    return {"p256dh": b64url(point), "auth": b64url(os.urandom(16))}


def test_a_browsers_subscription_is_kept_without_anything_else():
    keys = browser_keys()
    value = {"endpoint": ENDPOINT, "expirationTime": None, "keys": {**keys, "extra": "x"}}
    assert parsed_subscription(value, development=False) == {"endpoint": ENDPOINT, "keys": keys}


@pytest.mark.parametrize(
    "value",
    [
        None,
        "a string",
        {"endpoint": ENDPOINT},
        {"endpoint": ENDPOINT, "keys": "not a dict"},
        {"endpoint": 42, "keys": {}},
        {"endpoint": ENDPOINT, "keys": {"auth": "AAAAAAAAAAAAAAAAAAAAAA"}},
    ],
)
def test_what_is_not_a_subscription_is_refused(value):
    assert parsed_subscription(value, development=True) is None


def test_keys_of_the_wrong_shape_are_refused():
    keys = browser_keys()
    not_on_the_curve = b64url(b"\x04" + b"\x01" * 64)
    for changed in (
        {"p256dh": not_on_the_curve},
        {"p256dh": keys["p256dh"][:-4]},
        {"auth": b64url(os.urandom(15))},
        {"auth": b64url(os.urandom(17))},
        {"auth": "not base64url!"},
        {"p256dh": None},
    ):
        value = {"endpoint": ENDPOINT, "keys": {**keys, **changed}}
        assert parsed_subscription(value, development=False) is None, changed


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://push.example.net/send",
        "https://203.0.113.7/send",
        "https://[2001:db8::1]/send",
        "https://localhost/send",
        "https://127.0.0.1/send",
        "https://push.example.net:notaport/send",
        "https://push.exämple.net/send",
        "https://push.example.net/send\n",
        "https:///send",
        "ftp://push.example.net/send",
        "https://push.example.net/" + "a" * MAX_ENDPOINT,
    ],
)
def test_endpoints_that_are_not_a_named_https_host_are_refused(endpoint):
    assert not acceptable_endpoint(endpoint, development=True)


def test_a_loopback_http_endpoint_only_in_development():
    for endpoint in ("http://127.0.0.1:9999/push/1", "http://localhost:9999/push/1"):
        assert acceptable_endpoint(endpoint, development=True)
        assert not acceptable_endpoint(endpoint, development=False)
    assert not acceptable_endpoint("http://push.example.net/send", development=True)
    assert acceptable_endpoint(ENDPOINT, development=False)
