"""HMAC signatures: HTTP API requests, channel subscriptions and webhooks."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

TIMESTAMP_GRACE_SECONDS = 600


class AuthError(Exception):
    """An HTTP API request whose credentials do not check out."""


def sign(secret: str, message: str | bytes) -> str:
    """Return the hex HMAC-SHA256 of ``message`` keyed with ``secret``."""
    if isinstance(message, str):
        message = message.encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Compare two signatures in constant time."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def canonical_query(params: Iterable[tuple[str, str]]) -> str:
    """Join query parameters as ``k=v&...``: keys lowercased and sorted, no signature."""
    lowered = {k.lower(): v for k, v in params}
    lowered.pop("auth_signature", None)
    return "&".join(f"{k}={lowered[k]}" for k in sorted(lowered))


def check_api_request(
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    body: bytes,
    key: str,
    secret: str,
    now: float,
) -> None:
    """Raise :class:`AuthError` unless the request is signed with ``key``/``secret``.

    Checks the key, the timestamp (within 600 s of ``now``), the auth
    version, the body's MD5 when there is a body, and the signature over
    ``METHOD\\nPATH\\nquery``.
    """
    pairs = list(query)
    params = {k.lower(): v for k, v in pairs}
    if params.get("auth_key") != key:
        raise AuthError("Unknown auth_key")
    try:
        timestamp = int(params.get("auth_timestamp", ""))
    except ValueError:
        raise AuthError("auth_timestamp missing or not an integer") from None
    if abs(now - timestamp) > TIMESTAMP_GRACE_SECONDS:
        raise AuthError(
            f"Timestamp expired: Given timestamp ({timestamp}) not within "
            f"{TIMESTAMP_GRACE_SECONDS}s of server time ({int(now)})"
        )
    if params.get("auth_version") != "1.0":
        raise AuthError("auth_version must be 1.0")
    if body or "body_md5" in params:
        if not same(params.get("body_md5", ""), hashlib.md5(body).hexdigest()):
            raise AuthError("body_md5 does not match the request body")
    expected = sign(secret, f"{method}\n{path}\n{canonical_query(pairs)}")
    if not same(params.get("auth_signature", ""), expected):
        raise AuthError(
            "Invalid signature: you should have sent HmacSHA256Hex("
            f"{method}\\n{path}\\n{canonical_query(pairs)!r}, your_secret)"
        )


def channel_auth_valid(
    auth: object, key: str, secret: str, socket_id: str, channel: str, channel_data: str | None
) -> bool:
    """Tell whether ``auth`` is ``key:signature`` for this socket and channel."""
    if not isinstance(auth, str) or ":" not in auth:
        return False
    given_key, _, signature = auth.partition(":")
    subject = f"{socket_id}:{channel}"
    if channel_data is not None:
        subject += f":{channel_data}"
    return same(given_key, key) & same(signature, sign(secret, subject))


def webhook_headers(key: str, secret: str, body: bytes) -> Mapping[str, str]:
    """Return the headers that sign a webhook body."""
    return {
        "Content-Type": "application/json",
        "X-Pusher-Key": key,
        "X-Pusher-Signature": sign(secret, body),
    }
