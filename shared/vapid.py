"""VAPID (RFC 8292): the P-256 key pair that identifies this app to push services.

Keys travel as base64url without padding: the public key as the 65-byte uncompressed
point (what ``PushManager.subscribe`` takes as ``applicationServerKey``), the private
key as its 32-byte scalar (what ``py_vapid`` reads).
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import _check_sub  # type: ignore[import-untyped]


class BadKey(ValueError):
    """A VAPID key that is not base64url of a P-256 key of the right form."""


def b64url_encode(data: bytes) -> str:
    """``data`` as base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    """The bytes of base64url text, padded or not; raises ValueError when it is not."""
    if not isinstance(text, str) or not text.isascii() or "=" in text.rstrip("="):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as error:
        raise ValueError("not base64url") from error


def public_point(key: ec.EllipticCurvePublicKey) -> str:
    """A public key as its uncompressed point, base64url."""
    return b64url_encode(key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))


def new_key_pair() -> tuple[str, str]:
    """A fresh key pair: (public key, private key)."""
    private = ec.generate_private_key(ec.SECP256R1())
    return public_point(private.public_key()), b64url_encode(
        private.private_numbers().private_value.to_bytes(32, "big")
    )


def vapid_subject_is_valid(subject: str) -> bool:
    """Whether py_vapid, which signs our pushes, takes ``subject`` as the JWT's ``sub``
    (``mailto:`` an address, or ``https://`` a host without port or path): its own check,
    so that a subject it would refuse at every push is refused at start-up instead."""
    return bool(_check_sub(subject))


def public_key_of(private_key: str) -> str:
    """The public key of a private one; raises :class:`BadKey`."""
    try:
        raw = b64url_decode(private_key)
        if len(raw) != 32:
            raise ValueError("not 32 bytes")
        private = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except ValueError as error:
        raise BadKey(str(error)) from error
    return public_point(private.public_key())
