"""Server-side sessions: the cookie carries a random id, the data lives in Redis.

A session is one JSON document under ``sev:session:<id>``. A session that only
holds a login in progress lives ten minutes; a signed-in one lives a week
after its last use, and never more than thirty days after its login. The id
changes at login, and logout deletes the document. Each user's signed-in
sessions are listed under ``sev:user-sessions:<user id>`` (a sorted set of ids
by login time), so that all of them can be ended at once.
"""

from __future__ import annotations

import json
import re
import secrets
import time

import redis
from flask import Flask, request
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

COOKIE_NAME = "sev_session"
SESSION_TTL = 7 * 24 * 3600
SESSION_MAX_AGE = 30 * 24 * 3600
PENDING_TTL = 600
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")


def session_key(session_id: str) -> str:
    """Redis key of the session with this id."""
    return f"sev:session:{session_id}"


def user_sessions_key(user_id: str) -> str:
    """Redis key of the sorted set of a user's signed-in session ids, scored by login time."""
    return f"sev:user-sessions:{user_id}"


def past_max_age(data) -> bool:
    """True when a signed-in session's login (``logged_in_at``) is SESSION_MAX_AGE old."""
    return time.time() - data.get("logged_in_at", time.time()) >= SESSION_MAX_AGE


def lifetime(data) -> int:
    """Seconds a session may live from now: PENDING_TTL for a login in progress; a week
    for a signed-in one, cut to what remains of SESSION_MAX_AGE since its login."""
    if "user" not in data:
        return PENDING_TTL
    remaining = data.get("logged_in_at", time.time()) + SESSION_MAX_AGE - time.time()
    return max(1, min(SESSION_TTL, int(remaining)))


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


def store_session(client: redis.Redis, session: RedisSession, create: bool = False) -> None:
    """Write the session to Redis now, with the lifetime its content calls for.

    Only a ``create`` writes a session that is not in Redis, and lists a signed-in
    one under its user; otherwise a session ended meanwhile (expired, or ended
    with all of its user's) stays ended.
    """
    with client.pipeline() as pipe:
        pipe.set(session_key(session.session_id), json.dumps(dict(session)),
                 ex=lifetime(session), xx=not create)
        if create and "user" in session:
            index = user_sessions_key(session["user"]["id"])
            now = time.time()
            pipe.zadd(index, {session.session_id: session.get("logged_in_at", now)})
            pipe.zremrangebyscore(index, "-inf", now - SESSION_MAX_AGE)
            pipe.expire(index, SESSION_MAX_AGE)
        pipe.execute()


def forget_session(client: redis.Redis, user_id: str, session_id: str) -> None:
    """Take a session off its user's list (its document is deleted when it is saved empty)."""
    client.zrem(user_sessions_key(user_id), session_id)


def end_user_sessions(client: redis.Redis, user_id: str) -> list[dict]:
    """Delete every signed-in session of a user; the data each held, for revoking tokens."""
    index = user_sessions_key(user_id)
    with client.pipeline() as pipe:
        pipe.zrange(index, 0, -1)
        pipe.delete(index)
        session_ids, _ = pipe.execute()
    ended = []
    for session_id in session_ids:
        key = session_key(session_id)
        with client.pipeline() as pipe:
            pipe.get(key)
            pipe.delete(key)
            raw, _ = pipe.execute()
        if raw:
            ended.append(json.loads(raw))
    return ended


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
            store_session(self.redis, session, create=new)
        else:
            self.redis.expire(session_key(session.session_id), lifetime(session))
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
