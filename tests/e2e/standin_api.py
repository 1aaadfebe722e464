"""Test-only stand-ins for the JSON API the viewer page calls.

They answer exactly as the API contract says (``POST /api/watch``,
``GET /api/follows/live``) from a small table of streamers, so the browser
tests exercise the front end against the contract, whatever the state of
the real API. Never imported by the app itself.
"""

from __future__ import annotations

import copy
import re

from flask import Flask, current_app, jsonify, request

from web.auth import login_required
from web.errors import json_error

LOGIN = re.compile(r"[A-Za-z0-9_]{4,25}")
AVATAR = "https://static-cdn.jtvnw.net/jtv_user_pictures/{login}-profile_image-300x300.png"
XSS = "<img src=x onerror=alert(1)>"


def profile(user_id: str, login: str, display_name: str) -> dict:
    return {"id": user_id, "login": login, "display_name": display_name,
            "profile_image_url": AVATAR.format(login=login)}


STREAMERS = {
    "cool_user": {
        "streamer": profile("958187706", "cool_user", "Cool_User"),
        "live": None, "title": "Best Stream Ever", "category": "Fortnite",
        "recent_events": [{
            "id": "recent-1", "type": "channel.update",
            "message": "Cool_User updated the stream: Best Stream Ever (Fortnite)",
            "broadcaster": {"id": "958187706", "login": "cool_user", "name": "Cool_User"},
            "occurred_at": "2026-11-27T17:37:39.729615000Z",
            "title": "Best Stream Ever", "category_name": "Fortnite"}],
    },
    "speedy_sam": {
        "streamer": profile("122699689", "speedy_sam", "SpeedySam"),
        "live": {"title": "Any% practice, then PB attempts", "category": "Super Mario 64",
                 "viewers": 1234, "started_at": "2026-11-27T16:00:00Z"},
        "title": "Any% practice, then PB attempts", "category": "Super Mario 64",
        "recent_events": [],
    },
    "sneaky_sue": {
        "streamer": profile("31337", "sneaky_sue", "Sneaky_Sue"),
        "live": {"title": XSS, "category": "Just Chatting", "viewers": 7,
                 "started_at": "2026-11-27T17:00:00.123Z"},
        "title": XSS, "category": "Just Chatting",
        "recent_events": [{
            "id": "recent-xss", "type": "channel.update",
            "message": f"Sneaky_Sue updated the stream: {XSS} (Just Chatting)",
            "broadcaster": {"id": "31337", "login": "sneaky_sue", "name": "Sneaky_Sue"},
            "occurred_at": "2026-11-27T17:01:00Z", "title": XSS,
            "category_name": "Just Chatting"}],
    },
}
LIVE_FOLLOWS = [
    {"login": "speedy_sam", "display_name": "SpeedySam", "title": "Any% practice, then PB attempts",
     "category": "Super Mario 64", "viewers": 1234},
    {"login": "sneaky_sue", "display_name": "Sneaky_Sue", "title": XSS,
     "category": "Just Chatting", "viewers": 7},
]


@login_required
def watch():
    """``POST /api/watch`` as the contract describes it."""
    body = request.get_json(silent=True) or {}
    name = body.get("streamer")
    if not isinstance(name, str) or not LOGIN.fullmatch(name.strip()):
        return json_error(400, "a Twitch name has 4 to 25 letters, digits or underscores")
    found = STREAMERS.get(name.strip().lower())
    if found is None:
        return json_error(404, f"no Twitch channel named {name.strip()}")
    settings = current_app.config["SETTINGS"]
    answer = copy.deepcopy(found)
    answer["channel"] = answer["streamer"]["login"]
    answer["pusher"] = {"key": settings.pusher_key, "cluster": settings.pusher_cluster,
                        "host": settings.pusher_host, "port": settings.pusher_port,
                        "tls": settings.pusher_ssl}
    return jsonify(answer)


@login_required
def follows_live():
    """``GET /api/follows/live`` as the contract describes it."""
    return jsonify(data=LIVE_FOLLOWS)


def install(app: Flask) -> None:
    """Answer the two API routes with the stand-ins, replacing real ones if present."""
    for path, method, view in (("/api/watch", "POST", watch),
                               ("/api/follows/live", "GET", follows_live)):
        endpoint = next((rule.endpoint for rule in app.url_map.iter_rules()
                         if rule.rule == path and method in rule.methods), None)
        if endpoint is None:
            app.add_url_rule(path, f"standin_{view.__name__}", view, methods=[method])
        else:
            app.view_functions[endpoint] = view
