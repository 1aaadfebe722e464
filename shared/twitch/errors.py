"""Twitch's errors: :class:`TwitchError` and its kinds, made from a failed answer
(:func:`error_for`) or from a call that got none (:func:`unreachable`).

Tokens and secrets never appear in an error's message: callers name them in ``hide``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import requests
import urllib3

MESSAGE_LIMIT = 300
HIDDEN = "[hidden]"


class TwitchError(Exception):
    """Twitch refused or failed a call: ``status`` (None without an answer) and its ``message``."""

    def __init__(self, status: int | None, message: str):
        super().__init__(message)
        self.status, self.message = status, message

    def __str__(self) -> str:
        return f"Twitch answered {self.status}: {self.message}" if self.status else self.message


class TwitchAuthError(TwitchError):
    """Twitch refused our credentials or token (401 or 403, or a refused token grant)."""


class TwitchNotFound(TwitchError):
    """Twitch has no such thing (404)."""


class TwitchRateLimited(TwitchError):
    """The rate-limit bucket stayed empty after waiting for it as long as allowed (429),
    or was (nearly) empty for a client that does not wait. ``reset_at`` (epoch seconds,
    None if Twitch did not say) is when it fills again."""

    reset_at: float | None = None

    def retry_after(self, now: float | None = None) -> int:
        """Whole seconds until the bucket fills again (at least 1)."""
        if self.reset_at is None:
            return 1
        return max(1, math.ceil(self.reset_at - (time.time() if now is None else now)))


class TwitchUnavailable(TwitchError):
    """Twitch could not be reached, timed out, or kept failing (5xx) after the retries."""


class SubscriptionExists(TwitchError):
    """An EventSub subscription with this type, condition and callback exists already (409)."""


class TooManySubscriptions(TwitchError):
    """EventSub refused a subscription: too many alike, or the cost budget is spent (429)."""


def error_for(response: requests.Response, hide: Iterable[str] = ()) -> TwitchError:
    """The typed error for a failed answer, carrying Twitch's message with ``hide`` blanked out."""
    status = response.status_code
    kind = {
        401: TwitchAuthError,
        403: TwitchAuthError,
        404: TwitchNotFound,
        409: SubscriptionExists,
        429: TwitchRateLimited,
    }.get(status)
    if kind is None:
        kind = TwitchUnavailable if status >= 500 else TwitchError
    return kind(status, message_of(response, hide))


def message_of(response: requests.Response, hide: Iterable[str] = ()) -> str:
    """Twitch's ``message`` (or ``error``) from an answer, short, with ``hide`` blanked out."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and (body.get("message") or body.get("error")):
        message = str(body.get("message") or body.get("error"))
    else:
        message = response.reason or "no message"
    for secret in hide:
        if secret:
            message = message.replace(secret, HIDDEN)
    return message[:MESSAGE_LIMIT]


def unreachable(error: requests.RequestException) -> TwitchUnavailable:
    """The error for a call that got no answer (the request's details stay out of it)."""
    cause = getattr(error.args[0], "reason", None) if error.args else None
    timed_out = isinstance(error, requests.Timeout) or (
        isinstance(cause, urllib3.exceptions.TimeoutError)
        and not isinstance(cause, urllib3.exceptions.NewConnectionError)
    )
    reason = "timed out" if timed_out else "connection failed"
    return TwitchUnavailable(None, f"cannot reach Twitch: {reason}")
