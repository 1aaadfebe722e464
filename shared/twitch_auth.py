"""Twitch's errors, and the app access token every process shares through Redis.

The app token comes from the client-credentials grant. It is kept in Redis
with its expiry, fetched by one process at a time, and replaced a day before
it ends or as soon as Twitch refuses it: app tokens cannot be refreshed.
Tokens and secrets never appear in URLs, logs or error messages.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from typing import cast

import redis
import requests
import urllib3

from shared.settings import Settings

log = logging.getLogger(__name__)

TIMEOUT = (3, 10)
APP_TOKEN = "sev:twitch:app-token"
APP_TOKEN_LOCK = "sev:twitch:app-token:lock"
RENEW_BEFORE = 24 * 3600
LOCK_TIMEOUT = 60
LOCK_WAIT = 20
MESSAGE_LIMIT = 300
HIDDEN = "[hidden]"

_DROP_IF_SAME = """
if redis.call('hget', KEYS[1], 'token') == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


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


def error_for(response: requests.Response, hide=()) -> TwitchError:
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


def message_of(response: requests.Response, hide=()) -> str:
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


class AppTokens:
    """The app access token in Redis; fetched with the client-credentials grant when missing."""

    def __init__(self, settings: Settings, redis_client: redis.Redis, session: requests.Session):
        self.settings, self.redis, self.session = settings, redis_client, session
        self._drop_if_same = redis_client.register_script(_DROP_IF_SAME)

    def get(self) -> str:
        """The cached token, or a new one fetched by only one process at a time."""
        token = self.cached()
        if token:
            return token
        lock = self.redis.lock(APP_TOKEN_LOCK, timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_WAIT)
        owned = lock.acquire()
        try:
            return self.cached() or self._fetch()
        finally:
            if owned:
                with contextlib.suppress(redis.exceptions.LockError):
                    lock.release()

    def cached(self) -> str | None:
        """The token in Redis, if it belongs to our client id."""
        entry = cast(dict[str, str], self.redis.hgetall(APP_TOKEN))
        if entry.get("client_id") != self.settings.twitch_client_id:
            return None
        return entry.get("token") or None

    def drop(self, token: str) -> None:
        """Forget ``token`` unless another process has already replaced it."""
        self._drop_if_same(keys=[APP_TOKEN], args=[token])

    def renew(self, stale: str) -> str:
        """Drop the ``stale`` token and return its successor."""
        self.drop(stale)
        return self.get()

    def validate(self) -> bool:
        """Ask Twitch about the cached token; replace it when refused or ending within a day.

        Returns True when a new token was fetched (also when none was cached).
        """
        token = self.cached()
        if token is None:
            self.get()
            return True
        try:
            response = self.session.get(
                f"{self.settings.twitch_auth_url}/validate",
                headers={"Authorization": f"OAuth {token}"},
                timeout=TIMEOUT,
            )
        except requests.RequestException as error:
            raise unreachable(error) from error
        if response.status_code == 401:
            expires_in = 0
        elif response.ok:
            answer = response.json()
            mine = answer.get("client_id") == self.settings.twitch_client_id
            expires_in = int(answer.get("expires_in") or 0) if mine else 0
        else:
            raise error_for(response, hide=(token,))
        if expires_in > RENEW_BEFORE:
            return False
        log.info(
            "replacing the app access token (%s)",
            "refused by Twitch" if expires_in == 0 else f"{expires_in}s left",
        )
        self.renew(token)
        return True

    def _fetch(self) -> str:
        data = {
            "client_id": self.settings.twitch_client_id,
            "client_secret": self.settings.twitch_client_secret,
            "grant_type": "client_credentials",
        }
        try:
            response = self.session.post(
                f"{self.settings.twitch_auth_url}/token", data=data, timeout=TIMEOUT
            )
        except requests.RequestException as error:
            raise unreachable(error) from error
        hide = (self.settings.twitch_client_secret,)
        if 400 <= response.status_code < 500:
            raise TwitchAuthError(response.status_code, message_of(response, hide))
        if not response.ok:
            raise error_for(response, hide)
        try:
            answer = response.json()
            token, expires_in = answer["access_token"], int(answer["expires_in"])
        except (ValueError, KeyError, TypeError):
            raise TwitchError(response.status_code, "the token answer lacks a token") from None
        self._store(token, expires_in)
        log.info("fetched a new app access token, valid for %ss", expires_in)
        return token

    def _store(self, token: str, expires_in: int) -> None:
        keep = max(1, expires_in - min(RENEW_BEFORE, expires_in // 2))
        with self.redis.pipeline() as pipe:
            pipe.hset(
                APP_TOKEN,
                mapping={
                    "token": token,
                    "client_id": self.settings.twitch_client_id,
                    "expires_at": int(time.time()) + expires_in,
                },
            )
            pipe.expire(APP_TOKEN, keep)
            pipe.execute()
