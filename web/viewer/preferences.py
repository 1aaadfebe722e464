"""A viewer's settings, kept per Twitch account: ``GET`` and ``PUT /api/preferences``.

There is one so far, ``follow_raids``: the page moves on to the raided channel by
itself when the watched streamer raids another. Off until the viewer turns it on.
"""

from __future__ import annotations

import redis
from flask import Blueprint, current_app, jsonify, request

from web.clients import get_redis
from web.errors import json_error
from web.viewer.auth import from_our_site, login_required
from web.viewer.signed_in import current_user

bp = Blueprint("preferences", __name__, url_prefix="/api")
DEFAULTS = {"follow_raids": False}
BODY_SHAPE = '{"follow_raids": true} or {"follow_raids": false}'


def preferences_key(user_id: str) -> str:
    """Key of the hash of one viewer's preferences."""
    return f"sev:viewer:{user_id}:preferences"


def load_preferences(client: redis.Redis, user_id: str) -> dict:
    """A viewer's preferences, each one its default until the viewer sets it."""
    stored = client.hgetall(preferences_key(user_id))
    return {
        name: stored[name] == "1" if name in stored else default
        for name, default in DEFAULTS.items()
    }


def save_preferences(client: redis.Redis, user_id: str, changes: dict) -> None:
    """Store the given preferences (booleans) of a viewer."""
    client.hset(
        preferences_key(user_id),
        mapping={name: "1" if value else "0" for name, value in changes.items()},
    )


def parsed_changes(payload: object) -> dict | None:
    """The preferences a ``PUT`` body (as ``request.get_json(silent=True)`` reads it: None
    when it is not JSON) sets, or None when it is not a JSON object of known names with
    boolean values (at least one)."""
    if not isinstance(payload, dict) or not payload or not set(payload) <= set(DEFAULTS):
        return None
    if not all(isinstance(value, bool) for value in payload.values()):
        return None
    return payload


@bp.get("/preferences")
@login_required
def show():
    """The signed-in viewer's preferences."""
    client = get_redis()
    return jsonify(load_preferences(client, current_user()["id"]))


@bp.put("/preferences")
@login_required
def change():
    """Set some of the signed-in viewer's preferences, from our own pages only; answers
    all of them as now stored."""
    if not from_our_site():
        return json_error(403, "requests must come from this site")
    changes = parsed_changes(request.get_json(silent=True))
    if changes is None:
        current_app.logger.warning("rejected PUT /api/preferences: not %s", BODY_SHAPE)
        return json_error(400, f"the body must be {BODY_SHAPE}")
    client = get_redis()
    user_id = current_user()["id"]
    save_preferences(client, user_id, changes)
    return jsonify(load_preferences(client, user_id))
