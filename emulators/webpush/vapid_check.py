"""Checking a push request's VAPID ``Authorization: vapid t=<JWT>, k=<public key>``.

The JWT must be ES256-signed by ``k``, name this service's origin as ``aud``, expire
within 24 hours from now (RFC 8292, section 2) and carry a ``sub``.
"""

from __future__ import annotations

import time

from cryptography.exceptions import InvalidSignature
from py_vapid import jwt  # type: ignore[import-untyped]

MAX_EXPIRY = 24 * 3600


class VapidRefused(Exception):
    """The request's VAPID header does not authorize it; the message says why."""


def vapid_parameters(header: str) -> dict[str, str]:
    """``t`` and ``k`` of a ``vapid t=..., k=...`` header; raises :class:`VapidRefused`."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "vapid":
        raise VapidRefused("Authorization must use the vapid scheme")
    parameters = {}
    for part in rest.split(","):
        name, _, value = part.strip().partition("=")
        parameters[name.strip()] = value.strip()
    if not parameters.get("t") or not parameters.get("k"):
        raise VapidRefused("the vapid Authorization needs t= and k=")
    return parameters


def check_vapid(header: str, origin: str, now: float | None = None) -> dict:
    """The claims of a valid VAPID header for a push to ``origin``; raises
    :class:`VapidRefused` saying what is wrong."""
    parameters = vapid_parameters(header)
    try:
        claims = jwt.decode(parameters["t"], parameters["k"])
    except (InvalidSignature, ValueError) as error:
        raise VapidRefused("the JWT is not signed by the key k") from error
    now = time.time() if now is None else now
    if claims.get("aud") != origin:
        raise VapidRefused(f"aud must be {origin}, not {claims.get('aud')!r}")
    expiry = claims.get("exp")
    if not isinstance(expiry, int) or not now < expiry <= now + MAX_EXPIRY:
        raise VapidRefused("exp must be within 24 hours from now")
    if not claims.get("sub"):
        raise VapidRefused("sub is missing")
    return claims
