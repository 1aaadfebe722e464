"""Reading a browser's push subscription (``PushSubscription.toJSON()``) from a request.

The endpoint is where the worker will POST: https only, to a host named by a name (push
services have names; an address could point the worker at this machine or its private
network); in development the push stand-in's loopback ``http://`` URL too. The keys are checked to
be what RFC 8291 encrypts to: a P-256 point (65 bytes) and a 16-byte secret.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from shared.settings import is_loopback
from shared.vapid import b64url_decode

MAX_ENDPOINT = 1024
KEY_LENGTHS = {"p256dh": 65, "auth": 16}


def parsed_subscription(value: object, development: bool) -> dict | None:
    """``{"endpoint", "keys": {"p256dh", "auth"}}`` from ``value``, or None when it is
    not a push subscription this server will send to."""
    if not isinstance(value, dict) or not isinstance(value.get("keys"), dict):
        return None
    endpoint, keys = value.get("endpoint"), value["keys"]
    if not isinstance(endpoint, str) or not acceptable_endpoint(endpoint, development):
        return None
    try:
        decoded = {name: b64url_decode(keys.get(name)) for name in KEY_LENGTHS}
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), decoded["p256dh"])
    except ValueError:
        return None
    if any(len(decoded[name]) != length for name, length in KEY_LENGTHS.items()):
        return None
    return {"endpoint": endpoint, "keys": {name: keys[name] for name in KEY_LENGTHS}}


def acceptable_endpoint(endpoint: str, development: bool) -> bool:
    """An https:// URL of a named host, not this machine; in development a loopback
    http:// one too."""
    if len(endpoint) > MAX_ENDPOINT or not endpoint.isascii() or not endpoint.isprintable():
        return False
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        return False
    if development and parts.scheme == "http" and is_loopback(host):
        return True
    return parts.scheme == "https" and bool(host) and not is_loopback(host) and not is_address(host)


def is_address(host: str) -> bool:
    """Whether ``host`` (as urlsplit gives it) is an IP address rather than a name."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
