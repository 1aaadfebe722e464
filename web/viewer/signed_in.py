"""The signed-in user: their token revalidated at Twitch at least hourly while the
session is used, refreshed when expired; a token Twitch refuses that cannot be
refreshed ends every session of that user. A session ends SESSION_MAX_AGE after its
login however often it is used (see :mod:`web.viewer.sessions`). Logging in and out is
:mod:`web.viewer.auth`.
"""

from __future__ import annotations

import logging
import time

import redis
from flask import abort, g, session

from shared.twitch.errors import TwitchError
from web.clients import get_redis, get_twitch
from web.viewer import sessions
from web.viewer.sessions import session_id, session_store

log = logging.getLogger(__name__)

VALIDATE_EVERY = 3600
EXPIRY_MARGIN = 60


def current_user() -> dict | None:
    """The signed-in user (``id``, ``login``, ``display_name``), or None.

    Validates the token when its last check is an hour old and refreshes it
    when expired; when Twitch refuses both, the session ends and this is None.
    """
    if "twitch_user" not in g:
        g.twitch_user = _checked_user()
    return g.twitch_user


def user_access_token() -> str | None:
    """The signed-in user's access token, for Helix calls made on their behalf."""
    return session["twitch"]["access_token"] if current_user() else None


def end_all_sessions(user_id: str) -> None:
    """End every listed session of a user and revoke their tokens."""
    for data in session_store().end_user_sessions(user_id):
        if data.get("twitch"):
            revoke_tokens(data["twitch"])


def revoke_tokens(tokens: dict) -> None:
    """Revoke a user's access token at Twitch; a failure is logged, not raised."""
    try:
        get_twitch().user_tokens.revoke(tokens["access_token"])
    except TwitchError as error:
        log.warning("could not revoke a Twitch token: %s", error)


def _checked_user() -> dict | None:
    if "user" not in session:
        return None
    user = session["user"]
    if "logged_in_at" not in session:
        session["logged_in_at"] = time.time()  # signed in before logins were timed
    if sessions.past_max_age(session):
        log.info(
            "the session of %s is %d days old; ending it",
            user["login"],
            sessions.SESSION_MAX_AGE // 86400,
        )
        _end_session()
        return None
    if not _due(session):
        return user
    try:
        state = _keep_alive()
    except (TwitchError, redis.exceptions.LockError) as error:
        log.warning("could not check a Twitch session: %s", error)
        if session["twitch"]["expires_at"] > time.time():
            return user
        abort(503, "Twitch cannot be reached right now; please try again shortly")
    if state == "alive":
        return user
    if state == "dead":
        log.info("the Twitch token of %s died; ending all their sessions", user["login"])
        session_store().forget_session(user["id"], session_id())
        end_all_sessions(user["id"])
    _end_session()
    return None


def _end_session() -> None:
    session.clear()
    g.session_ended = True


def _keep_alive() -> str:
    """Revalidate or refresh under the session's lock, on its newest stored copy.

    ``"alive"``; ``"gone"`` when the session ended meanwhile; ``"dead"`` when Twitch
    refused its token and its refresh.
    """
    store, sid = session_store(), session_id()
    with get_redis().lock(f"{sessions.session_key(sid)}:lock", timeout=30, blocking_timeout=15):
        stored = store.load(sid)
        if not stored or "user" not in stored:
            return "gone"
        session.update(twitch=stored["twitch"], validated_at=stored.get("validated_at", 0))
        if _due(session) and not _revalidate():
            return "dead"
        store.store(session)
    return "alive"


def _revalidate() -> bool:
    tokens, now = session["twitch"], time.time()
    user_tokens = get_twitch().user_tokens
    answer = None
    if tokens["expires_at"] - EXPIRY_MARGIN > now:
        answer = user_tokens.validate(tokens["access_token"])
    if answer is None:
        tokens = user_tokens.refresh(tokens["refresh_token"])
        answer = tokens and user_tokens.validate(tokens["access_token"])
    if not answer or answer["user_id"] != session["user"]["id"]:
        return False
    expires_in = int(answer.get("expires_in") or 0)
    expires_at = int(now) + expires_in if expires_in else tokens["expires_at"]
    session["twitch"] = {
        **tokens,
        "scopes": answer.get("scopes", tokens["scopes"]),
        "expires_at": expires_at,
    }
    session["validated_at"] = now
    return True


def _due(data) -> bool:
    now = time.time()
    return (
        now >= data["twitch"]["expires_at"] - EXPIRY_MARGIN
        or now - data.get("validated_at", 0) >= VALIDATE_EVERY
    )
