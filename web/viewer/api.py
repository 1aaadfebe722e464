"""The JSON API of the viewer page: watch streamers, and live channels one follows."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from shared.events import channel_name
from shared.leases import WATCH, lease_reasons, leases_for_logins
from shared.store import broadcaster_states, cached_with_time
from shared.twitch.errors import TwitchError
from web.clients import get_redis, get_settings, get_twitch
from web.errors import json_error
from web.viewer.auth import from_our_site, login_required
from web.viewer.channel_auth import remember_follows
from web.viewer.signed_in import current_user, user_access_token
from web.viewer.status import combined_status
from web.viewer.watching import MAX_STREAMS, WatchRefused, refusal_for, watch_streamer

bp = Blueprint("api", __name__, url_prefix="/api")
FOLLOWS_TTL = 30
FOLLOWS_REFRESH_SECONDS = 5  # a viewer's refresh asks Twitch at most this often
STREAM_FIELDS = ("id", "user_id", "title", "game_name", "viewer_count", "started_at")


@bp.before_request
def same_origin_only():
    """State-changing API calls must come from our own pages."""
    if request.method != "GET" and not from_our_site():
        return json_error(403, "requests must come from this site")


@bp.errorhandler(TwitchError)
def twitch_failed(error: TwitchError):
    """Twitch could not answer: say so plainly."""
    return refused(refusal_for(error))


@bp.post("/watch")
@login_required
def watch():
    """Watch ``{"streamer": name}``: what the page needs to show it, or the refusal.

    ``{"streamers": [names]}`` (1 to MAX_STREAMS) answers ``{"streams": [...]}``, one
    answer per distinct name in order, each the single answer or ``{"streamer_input",
    "status", "error"}``: one bad name does not sink the others.
    """
    payload = request.get_json(silent=True)
    if payload is not None and not isinstance(payload, dict):
        current_app.logger.warning(
            "rejected /api/watch: the JSON body is a %s, not an object", type(payload).__name__
        )
        return json_error(400, 'the body must be a JSON object: {"streamer": "<name>"}')
    payload = payload or {}
    viewer_id = current_user()["id"]
    if "streamers" not in payload:
        try:
            return jsonify(
                **watch_streamer(viewer_id, payload.get("streamer")), pusher=pusher_settings()
            )
        except WatchRefused as refusal:
            return refused(refusal)
    names = payload["streamers"]
    if not isinstance(names, list) or not 1 <= len(names) <= MAX_STREAMS:
        return json_error(400, f"streamers must be a list of 1 to {MAX_STREAMS} names")
    streams, seen = [], set()
    for name in names:
        key = name.strip().lower() if isinstance(name, str) else None
        if key is not None and key in seen:
            continue
        seen.add(key)
        try:
            streams.append({"status": 200, **watch_streamer(viewer_id, name)})
        except WatchRefused as refusal:
            streams.append(
                {
                    "streamer_input": name if isinstance(name, str) else None,
                    "status": refusal.status,
                    "error": refusal.message,
                    "retry_after": refusal.retry_after,
                }
            )
    return jsonify(streams=streams, pusher=pusher_settings())


def refused(refusal: WatchRefused):
    """The JSON error answer of a refusal, with Retry-After when it is known."""
    response = json_error(refusal.status, refusal.message)
    if refusal.retry_after is not None:
        response.headers["Retry-After"] = str(refusal.retry_after)
    return response


@bp.get("/follows/live")
@login_required
def follows_live():
    """The channels the viewer follows that are live now, each with whether we hold its
    subscriptions (``watched``: the page may listen to its channel). Twitch's answer is
    kept 30 s; ``?refresh=1`` asks again, at most every 5 s per viewer."""
    user = current_user()
    client = get_redis()
    refresh = request.args.get("refresh") == "1" and bool(
        client.set(f"sev:rate:follows-refresh:{user['id']}", 1, nx=True, ex=FOLLOWS_REFRESH_SECONDS)
    )

    def fetch():
        follows = get_twitch().followed_channels(user["id"], user_access_token())
        streams = get_twitch().streams_by_id([f["broadcaster_id"] for f in follows])
        return {
            "follows": [
                {
                    "id": f["broadcaster_id"],
                    "login": f["broadcaster_login"],
                    "display_name": f["broadcaster_name"],
                }
                for f in follows
            ],
            "streams": [{name: s.get(name) for name in STREAM_FIELDS} for s in streams],
        }

    answer, asked_at = cached_with_time(
        client, f"sev:helix:follows:{user['id']}", FOLLOWS_TTL, fetch, refresh=refresh
    )
    remember_follows(client, user["id"], [follow["login"] for follow in answer["follows"]])
    return jsonify(data=live_follows(client, answer, asked_at))


def live_follows(client, answer: dict, asked_at: float) -> list[dict]:
    """The followed channels live now by the newest of events and Twitch's answer, the
    most watched first."""
    follows = answer["follows"]
    streams = {stream["user_id"]: stream for stream in answer["streams"]}
    states = broadcaster_states(client, [follow["id"] for follow in follows])
    held = leases_for_logins(client, [f["login"] for f in follows])
    cards = []
    for follow, state, lease in zip(follows, states, held, strict=True):
        status = combined_status(state, streams.get(follow["id"]), asked_at)
        if status["live"]:
            cards.append(
                {
                    "login": follow["login"],
                    "channel": channel_name(follow["login"]),
                    "display_name": follow["display_name"],
                    "title": status["title"],
                    "category": status["category"],
                    "viewers": status["live"]["viewers"],
                    "started_at": status["live"]["started_at"],
                    "status_as_of": status["status_as_of"],
                    "watched": lease is not None and WATCH in lease_reasons(lease),
                }
            )
    return sorted(cards, key=lambda card: -(card["viewers"] or 0))


def pusher_settings() -> dict:
    """What pusher-js needs to connect; never the secret."""
    settings = get_settings()
    return {
        "key": settings.pusher_key,
        "cluster": settings.pusher_cluster,
        "host": settings.pusher_browser_host or None,
        "port": settings.pusher_browser_port,
        "tls": settings.pusher_ssl,
    }
