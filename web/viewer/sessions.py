"""Server-side sessions (Flask-Session): the cookie carries a random id, the data lives in Redis.

A session is one JSON document under ``sev:session:<id>``. A session that only
holds a login in progress lives ten minutes; a signed-in one lives a week
after its last use, and never more than thirty days after its login; the
cookie expires with it. The id changes at login, and logout deletes the
document. A session ended elsewhere stays ended: a request in flight only
rewrites a document that still exists. Each user's signed-in sessions are
listed under ``sev:user-sessions:<user id>`` (a sorted set of ids by login
time), so that all of them can be ended at once.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import cast

import redis
from flask import Flask, current_app, session
from flask_session.base import Serializer, ServerSideSession
from flask_session.redis import RedisSessionInterface

from shared.lua import LuaScript
from web.clients import get_redis, get_settings

COOKIE_NAME = "sev_session"
KEY_PREFIX = "sev:session:"
SESSION_TTL = 7 * 24 * 3600
SESSION_MAX_AGE = 30 * 24 * 3600
PENDING_TTL = 600
# Lists a session (ARGV[1], scored by its login time ARGV[2]) under its user (KEYS[2])
# unless it is listed already, and only while its document (KEYS[1]) exists: a request
# in flight never lists a session ended meanwhile.
_LIST_SESSION = LuaScript("""
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[1])
""")


def session_key(session_id: str) -> str:
    """Redis key of the session with this id."""
    return KEY_PREFIX + session_id


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


class JsonDocuments(Serializer):
    """A session as a JSON object; a stored value that is not one reads as no session."""

    def encode(self, session) -> str:
        """The session's data as JSON."""
        return json.dumps(dict(session))

    def decode(self, serialized_data: bytes | str) -> dict | None:
        """The data of a stored session, or None when it cannot be read."""
        try:
            data = json.loads(serialized_data)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None


class RedisSessions(RedisSessionInterface):
    """Flask-Session's Redis sessions, each living as long as its content calls for.

    The cookie holds the id unsigned: 256 random bits cannot be guessed, and a
    signature (deprecated in Flask-Session) would add nothing to that.
    """

    def __init__(self, app: Flask, client: redis.Redis):
        super().__init__(
            app, client, key_prefix=KEY_PREFIX, use_signer=False, permanent=True, sid_length=32
        )
        self.serializer = JsonDocuments()

    def open_session(self, app: Flask, request):
        """The session the request's cookie names, else a new, empty one; a cookie
        that names no session (ended, expired or unreadable) is deleted."""
        session = super().open_session(app, request)
        cookie = request.cookies.get(self.get_cookie_name(app))
        session.stored_sid = session.sid if session.sid == cookie else None
        if cookie and session.stored_sid is None:
            session.modified = True
        return session

    def get_expiration_time(self, app: Flask, session) -> datetime:
        """The cookie expires with the session (see :func:`lifetime`)."""
        return datetime.now(UTC) + timedelta(seconds=lifetime(session))

    def _upsert_session(self, session_lifetime, session, store_id: str) -> None:
        """Store the session for its :func:`lifetime`, not the app's.

        Only a new id creates a document; otherwise a changed session is rewritten and
        an unchanged one kept alive only while its document exists, so one ended
        meanwhile stays ended. A signed-in session is listed under its user whenever
        it is saved, still exists and is not listed yet (a session from before the lists
        existed too), keeping the time it was first listed.
        """
        created = session.sid != session.stored_sid
        with self.client.pipeline() as pipe:
            if created or session.modified:
                pipe.set(
                    store_id, self.serializer.encode(session), ex=lifetime(session), xx=not created
                )
            else:
                pipe.expire(store_id, lifetime(session))
            if "user" in session:
                index, now = user_sessions_key(session["user"]["id"]), time.time()
                _LIST_SESSION(
                    [store_id, index], [session.sid, session.get("logged_in_at", now)], client=pipe
                )
                pipe.zremrangebyscore(index, "-inf", now - SESSION_MAX_AGE)
                pipe.expire(index, SESSION_MAX_AGE)
            pipe.execute()

    def load(self, session_id: str) -> dict | None:
        """The stored data of a session, or None when there is no such session."""
        return self._retrieve_session_data(session_key(session_id))

    def store(self, session) -> None:
        """Write the session to Redis now, if it still exists there."""
        self._upsert_session(None, session, session_key(session.sid))

    def forget_session(self, user_id: str, session_id: str) -> None:
        """Take a session off its user's list (its document is deleted when it is saved empty)."""
        self.client.zrem(user_sessions_key(user_id), session_id)

    def end_user_sessions(self, user_id: str) -> list[dict]:
        """Delete every signed-in session of a user; the data each held, for revoking tokens."""
        index = user_sessions_key(user_id)
        with self.client.pipeline() as pipe:
            pipe.zrange(index, 0, -1)
            pipe.delete(index)
            session_ids, _ = pipe.execute()
        with self.client.pipeline() as pipe:
            for session_id in session_ids:
                pipe.getdel(session_key(session_id))
            documents = pipe.execute()
        ended = (self.serializer.decode(raw) for raw in documents if raw)
        return [data for data in ended if data]


def session_store() -> RedisSessions:
    """The current app's session interface, to load, store, list and end sessions."""
    return cast(RedisSessions, current_app.session_interface)


def session_id() -> str:
    """The id of this request's session (Flask-Session gives every session one)."""
    return cast(str, cast(ServerSideSession, session).sid)


def init_app(app: Flask) -> None:
    """Keep the app's sessions in its Redis, behind an HttpOnly, SameSite=Lax cookie."""
    public_url = get_settings().public_url
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_REFRESH_EACH_REQUEST=True,
        SESSION_COOKIE_SECURE=public_url.startswith("https://"),
    )
    app.session_interface = RedisSessions(app, get_redis())
