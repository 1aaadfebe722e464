"""Authorization codes, access tokens and refresh tokens, kept in memory."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from emulators.twitch.errors import OAuthError

CODE_TTL = 600


@dataclass
class Grant:
    """What a user agreed to: which client, which scopes, which redirect."""

    client_id: str
    user_id: str
    login: str
    scopes: list[str]
    redirect_uri: str = ""
    expires_at: float = 0.0


@dataclass
class Token:
    """An access token; app tokens have no user."""

    value: str
    client_id: str
    scopes: list[str]
    expires_at: float
    user_id: str | None = None
    login: str | None = None
    refresh_token: str | None = field(default=None, repr=False)

    @property
    def is_app(self) -> bool:
        """True for app access tokens (client-credentials grant)."""
        return self.user_id is None

    def expires_in(self) -> int:
        """Whole seconds left, never negative."""
        return max(0, int(self.expires_at - time.time()))

    def answer(self) -> dict:
        """The ``POST /oauth2/token`` answer for this token."""
        answer = {
            "access_token": self.value,
            "expires_in": self.expires_in(),
            "token_type": "bearer",
        }
        if self.refresh_token:
            answer["refresh_token"] = self.refresh_token
        if self.refresh_token or self.scopes:
            answer["scope"] = list(self.scopes)
        return answer


class TokenStore:
    """Issues, looks up, refreshes, expires and revokes tokens."""

    def __init__(self, user_ttl: int, app_ttl: int):
        self.user_ttl, self.app_ttl = user_ttl, app_ttl
        self.codes: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.access: dict[str, Token] = {}
        self.authorized: set[tuple[str, str]] = set()

    def issue_code(self, grant: Grant) -> str:
        """Remember ``grant`` under a new single-use authorization code."""
        code = secrets.token_hex(15)
        grant.expires_at = time.time() + CODE_TTL
        self.codes[code] = grant
        return code

    def redeem_code(self, code: str, client_id: str, redirect_uri: str) -> Token:
        """Exchange a code for a user token; the code works once."""
        grant = self.codes.get(code)
        if grant is None or grant.client_id != client_id or grant.expires_at < time.time():
            raise OAuthError(400, "Invalid authorization code")
        if grant.redirect_uri != redirect_uri:
            raise OAuthError(400, "Parameter redirect_uri does not match registered URI")
        del self.codes[code]
        self.authorized.add((client_id, grant.user_id))
        return self._user_token(grant)

    def refresh(self, refresh_token: str, client_id: str) -> Token:
        """A new user token (and a new refresh token) for a refresh token; the old one dies."""
        grant = self.refresh_tokens.get(refresh_token)
        if grant is None or grant.client_id != client_id:
            raise OAuthError(400, "Invalid refresh token", error="Bad Request")
        del self.refresh_tokens[refresh_token]
        return self._user_token(grant)

    def app_token(self, client_id: str, scopes: list[str]) -> Token:
        """A new app access token (client-credentials grant)."""
        return self._store(
            Token(secrets.token_hex(15), client_id, scopes, time.time() + self.app_ttl)
        )

    def lookup(self, value: str) -> Token | None:
        """The live token with this value; None when unknown, revoked or expired."""
        token = self.access.get(value)
        if token is None or token.expires_at <= time.time():
            return None
        return token

    def revoke(self, value: str, client_id: str) -> bool:
        """Forget an access token of this client; False when there is none."""
        token = self.access.get(value)
        if token is None or token.client_id != client_id:
            return False
        del self.access[value]
        return True

    def expire(self, value: str | None = None, login: str | None = None) -> int:
        """Make a token, or every token of a user, expire now; return how many."""
        matched = [
            t
            for t in self.access.values()
            if (value is not None and t.value == value)
            or (login is not None and t.login == login.lower())
        ]
        for token in matched:
            token.expires_at = time.time() - 1
        return len(matched)

    def has_authorized(self, client_id: str, user_id: str) -> bool:
        """True when this user has granted this client access."""
        return (client_id, user_id) in self.authorized

    def snapshot(self) -> list[dict]:
        """Every token, for the emulator's state page."""
        return [
            {
                "access_token": t.value,
                "client_id": t.client_id,
                "login": t.login,
                "user_id": t.user_id,
                "scopes": t.scopes,
                "expires_in": t.expires_in(),
                "expired": t.expires_at <= time.time(),
                "type": "app" if t.is_app else "user",
            }
            for t in self.access.values()
        ]

    def _user_token(self, grant: Grant) -> Token:
        refresh_token = secrets.token_urlsafe(36)
        self.refresh_tokens[refresh_token] = grant
        return self._store(
            Token(
                secrets.token_hex(15),
                grant.client_id,
                list(grant.scopes),
                time.time() + self.user_ttl,
                grant.user_id,
                grant.login,
                refresh_token,
            )
        )

    def _store(self, token: Token) -> Token:
        self.access[token.value] = token
        return token
