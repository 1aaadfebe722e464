"""Twitch's tokens: the app access token every process shares through Redis, and a
viewer's user tokens.

The app token (:class:`AppTokens`) comes from the client-credentials grant. It is
kept in Redis with its expiry, fetched by one process at a time, and replaced a day
before it ends or as soon as Twitch refuses it: app tokens cannot be refreshed.

User tokens (:class:`UserTokens`) come from the login (``web.viewer.auth``); here they are
validated, refreshed and revoked, and their user looked up.

Every call goes through the Twitch client's session (:mod:`shared.twitch.session`).
Tokens and secrets never appear in URLs, logs or error messages.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import cast

import redis
import requests

from shared.lua import LuaScript
from shared.settings import Settings
from shared.twitch.errors import (
    TwitchAuthError,
    TwitchError,
    error_for,
    message_of,
)
from shared.twitch.session import send

log = logging.getLogger(__name__)

APP_TOKEN = "sev:twitch:app-token"
APP_TOKEN_LOCK = "sev:twitch:app-token:lock"
RENEW_BEFORE = 24 * 3600
LOCK_TIMEOUT = 60
LOCK_WAIT = 20

_DROP_IF_SAME = LuaScript("""
if redis.call('hget', KEYS[1], 'token') == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
""")


class AppTokens:
    """The app access token in Redis; fetched with the client-credentials grant when missing."""

    def __init__(self, settings: Settings, redis_client: redis.Redis, session: requests.Session):
        self.settings, self.redis, self.session = settings, redis_client, session

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
        _DROP_IF_SAME([APP_TOKEN], [token], client=self.redis)

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
        answer = token_validation(self.session, self.settings, token)
        expires_in = int(answer.get("expires_in") or 0) if answer else 0
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
        response = send(self.session, "POST", f"{self.settings.twitch_auth_url}/token", data=data)
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
        return cast(str, token)

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


class UserTokens:
    """A viewer's tokens of this app: validate, refresh and revoke them, and look up the user.

    Calls go through ``session`` (the Twitch client's, so a web request thread shares
    no connection with another); tokens and the client secret are blanked out of
    every error.
    """

    def __init__(self, settings: Settings, session: requests.Session):
        self.settings, self.session = settings, session

    def validate(self, token: str) -> dict | None:
        """Twitch's ``/validate`` answer for a user token of this app; None when refused."""
        answer = token_validation(self.session, self.settings, token)
        return answer if answer and answer.get("user_id") else None

    def refresh(self, refresh_token: str) -> dict | None:
        """New tokens from the refresh-token grant (see :func:`token_record`); None when
        Twitch refuses the refresh token."""
        response = send(
            self.session,
            "POST",
            f"{self.settings.twitch_auth_url}/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": self.settings.twitch_client_id,
                "client_secret": self.settings.twitch_client_secret,
            },
        )
        hide = (refresh_token, self.settings.twitch_client_secret)
        if 400 <= response.status_code < 500:
            log.info("Twitch refused a refresh token: %s", error_for(response, hide))
            return None
        if not response.ok:
            raise error_for(response, hide)
        return token_record(response.json(), refresh_token)

    def revoke(self, token: str) -> None:
        """Revoke a user access token at Twitch; one Twitch no longer knows counts as revoked."""
        response = send(
            self.session,
            "POST",
            f"{self.settings.twitch_auth_url}/revoke",
            data={"client_id": self.settings.twitch_client_id, "token": token},
        )
        if not response.ok and response.status_code != 400:
            raise error_for(response, hide=(token,))

    def display_name(self, token: str, user: dict) -> str:
        """The user's display name from Helix (their own token), else their login."""
        try:
            response = send(
                self.session,
                "GET",
                f"{self.settings.twitch_api_url}/users",
                params={"id": user["id"]},
                headers={
                    "Authorization": f"Bearer {token}",
                    "Client-Id": self.settings.twitch_client_id,
                },
            )
            found = response.json().get("data") if response.ok else None
        except (TwitchError, ValueError):
            found = None
        return cast(str, (found[0].get("display_name") if found else None) or user["login"])


def token_validation(session: requests.Session, settings: Settings, token: str) -> dict | None:
    """Twitch's ``/validate`` answer for a token of this app (app or user token); None
    when Twitch refuses the token or it belongs to another app."""
    response = send(
        session,
        "GET",
        f"{settings.twitch_auth_url}/validate",
        headers={"Authorization": f"OAuth {token}"},
    )
    if response.status_code == 401:
        return None
    if not response.ok:
        raise error_for(response, hide=(token,))
    answer = response.json()
    return answer if answer.get("client_id") == settings.twitch_client_id else None


def token_record(answer: dict, refresh_token: str = "") -> dict:
    """The tokens we keep from a token answer, whose ``scope`` Twitch sends as a list:
    ``access_token``, ``refresh_token`` (``refresh_token`` when the answer has none),
    ``expires_at`` (epoch seconds) and ``scopes``."""
    scope = answer.get("scope") or []
    return {
        "access_token": answer["access_token"],
        "refresh_token": answer.get("refresh_token") or refresh_token,
        "expires_at": int(time.time()) + int(answer.get("expires_in") or 0),
        "scopes": scope.split() if isinstance(scope, str) else list(scope),
    }
