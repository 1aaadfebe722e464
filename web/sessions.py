"""Server-side sessions: the cookie carries a random id, the data lives in Redis.

A session is one JSON document under ``sev:session:<id>``. A session that only
holds a login in progress lives ten minutes; a signed-in one lives a week
after its last use. The id changes at login, and logout deletes the document.
"""

from __future__ import annotations

import json
import re
import secrets

import redis
from flask import Flask, request
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

COOKIE_NAME = "sev_session"
SESSION_TTL = 7 * 24 * 3600
PENDING_TTL = 600
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")


def session_key(session_id: str) -> str:
    """Redis key of the session with this id."""
    return f"sev:session:{session_id}"


class RedisSession(CallbackDict, SessionMixin):
    """The session's data, its id (None until first saved) and whether it changed."""

    def __init__(self, data: dict | None = None, session_id: str | None = None):
        def changed(_):
            self.modified = True

        super().__init__(data, changed)
        self.session_id = session_id
        self.modified = False
        self.renew = False

    def regenerate(self) -> None:
        """Move the data to a new id when the session is saved (done at login)."""
        self.renew = True
        self.modified = True


def load_session(client: redis.Redis, session_id: str) -> dict | None:
    """The stored data of a session, or None when there is no such session."""
    if not _SESSION_ID.fullmatch(session_id or ""):
        return None
    raw = client.get(session_key(session_id))
    return json.loads(raw) if raw else None


def store_session(client: redis.Redis, session: RedisSession) -> None:
    """Write the session to Redis now, with the lifetime its content calls for."""
    ttl = SESSION_TTL if "user" in session else PENDING_TTL
    client.set(session_key(session.session_id), json.dumps(dict(session)), ex=ttl)


class RedisSessionInterface(SessionInterface):
    """Flask's ``session``, kept in Redis; Authlib's login ``state`` lives here too."""

    def __init__(self, client: redis.Redis):
        self.redis = client

    def open_session(self, app: Flask, request) -> RedisSession:
        """The session named by the request's cookie, or a new, empty one."""
        session_id = request.cookies.get(self.get_cookie_name(app), "")
        data = load_session(self.redis, session_id)
        return RedisSession(data, session_id) if data is not None else RedisSession()

    def save_session(self, app: Flask, session: RedisSession, response) -> None:
        """Store a changed session, drop an emptied one, and set or delete the cookie."""
        name = self.get_cookie_name(app)
        if session.modified and session.session_id and (session.renew or not session):
            self.redis.delete(session_key(session.session_id))
            session.session_id = None
        if not session:
            if name in request.cookies and session.session_id is None:
                response.delete_cookie(
                    name, path=self.get_cookie_path(app), domain=self.get_cookie_domain(app),
                    secure=self.get_cookie_secure(app), httponly=True,
                    samesite=self.get_cookie_samesite(app))
            return
        response.vary.add("Cookie")
        new = session.session_id is None
        if new:
            session.session_id = secrets.token_urlsafe(32)
        if new or session.modified:
            store_session(self.redis, session)
        else:
            self.redis.expire(session_key(session.session_id),
                              SESSION_TTL if "user" in session else PENDING_TTL)
        if new:
            response.set_cookie(
                name, session.session_id, path=self.get_cookie_path(app),
                domain=self.get_cookie_domain(app), secure=self.get_cookie_secure(app),
                httponly=True, samesite=self.get_cookie_samesite(app))


def init_app(app: Flask) -> None:
    """Keep the app's sessions in its Redis, behind an HttpOnly, SameSite=Lax cookie."""
    public_url = app.config["SETTINGS"].public_url
    app.config.update(SESSION_COOKIE_NAME=COOKIE_NAME, SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=public_url.startswith("https://"))
    app.session_interface = RedisSessionInterface(app.extensions["redis"])
