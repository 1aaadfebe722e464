"""The JSON API of the viewer page: watch a streamer, and live channels one follows."""

from __future__ import annotations

import re
import threading

from flask import Blueprint, current_app, jsonify, request

from shared.events import channel_name
from shared.leases import LOGINS, lease_for_login, missing_subscriptions, touch_lease
from shared.store import (
    broadcaster_states,
    cached,
    cached_with_time,
    over_rate_limit,
    recent_events,
)
from shared.twitch import TwitchClient, eventsub_budget_spent
from shared.twitch_auth import TwitchError, TwitchRateLimited, TwitchUnavailable
from web.auth import current_user, from_our_site, login_required, user_access_token
from web.channel_auth import ask_for_streamer, remember_follows
from web.errors import json_error
from web.status import combined_status

bp = Blueprint("api", __name__, url_prefix="/api")
LOGIN = re.compile(r"[A-Za-z0-9_]{4,25}")
LOGIN_RULE = "a Twitch name is 4 to 25 letters, digits or underscores"
USER_TTL, STREAM_TTL, FOLLOWS_TTL = 300, 15, 30
FOLLOWS_REFRESH_SECONDS = 5  # a viewer's refresh asks Twitch at most this often
STREAM_FIELDS = ("id", "user_id", "title", "game_name", "viewer_count", "started_at")
WATCHES_PER_MINUTE = 30
local = threading.local()


@bp.before_request
def same_origin_only():
    """State-changing API calls must come from our own pages."""
    if request.method != "GET" and not from_our_site():
        return json_error(403, "requests must come from this site")


@bp.errorhandler(TwitchError)
def twitch_failed(error: TwitchError):
    """Twitch could not answer: say so plainly."""
    current_app.logger.warning("Twitch call failed: %s", error)
    if isinstance(error, TwitchRateLimited):
        # The web's client never waits for the reset (a request thread would sleep up
        # to a minute): the page is told when to try again.
        response = json_error(503, "Twitch's rate limit is spent for now; try again shortly")
        response.headers["Retry-After"] = str(error.retry_after())
        return response
    if isinstance(error, TwitchUnavailable):
        return json_error(503, "Twitch is not answering right now; try again shortly")
    return json_error(502, "Twitch refused the request; try again shortly")


@bp.post("/watch")
@login_required
def watch():
    """Resolve a streamer, hold its subscriptions and tell the page what to show."""
    client = current_app.extensions["redis"]
    if over_rate_limit(client, f"sev:rate:watch:{current_user()['id']}", WATCHES_PER_MINUTE, 60):
        return json_error(429, "too many streamers asked for; wait a minute")
    payload = request.get_json(silent=True)
    if payload is not None and not isinstance(payload, dict):
        current_app.logger.warning("rejected /api/watch: the JSON body is a %s, not an object",
                                   type(payload).__name__)
        return json_error(400, 'the body must be a JSON object: {"streamer": "<name>"}')
    name = (payload or {}).get("streamer")
    if not isinstance(name, str) or not LOGIN.fullmatch(name.strip()):
        return json_error(400, LOGIN_RULE)
    login = name.strip().lower()
    user = cached(client, f"sev:cache:user:{login}", USER_TTL,
                  lambda: twitch().user_by_login(login))
    if user is None:
        return json_error(404, f"no Twitch channel named {login}")
    wait = ask_for_streamer(client, current_user()["id"], user["login"],
                            current_app.config["SETTINGS"].viewer_streamer_limit)
    if wait is not None:
        response = json_error(429, "you asked for as many streamers as one viewer may in a "
                                   "day; watch one of those, or try again later")
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    problem = hold_subscriptions(user)
    if problem:
        return problem
    stream, stream_asked_at = cached_with_time(
        client, f"sev:helix:stream:{user['id']}", STREAM_TTL,
        lambda: next(iter(twitch().streams_by_id([user["id"]])), None))
    channel, channel_asked_at = cached_with_time(
        client, f"sev:helix:channel:{user['id']}", USER_TTL,
        lambda: twitch().channel_information(user["id"]))
    [state] = broadcaster_states(client, [user["id"]])
    status = combined_status(state, stream, stream_asked_at, channel, channel_asked_at)
    return jsonify(
        channel=channel_name(user["login"]),
        streamer={key: user.get(key) for key in ("id", "login", "display_name",
                                                 "profile_image_url")},
        **status,
        recent_events=recent_events(client, user["login"]),
        pusher=pusher_settings(),
    )


@bp.get("/follows/live")
@login_required
def follows_live():
    """The channels the viewer follows that are live now, each with whether we hold its
    subscriptions (``watched``: the page may listen to its channel). Twitch's answer is
    kept 30 s; ``?refresh=1`` asks again, at most every 5 s per viewer."""
    user = current_user()
    client = current_app.extensions["redis"]
    refresh = request.args.get("refresh") == "1" and bool(client.set(
        f"sev:rate:follows-refresh:{user['id']}", 1, nx=True, ex=FOLLOWS_REFRESH_SECONDS))

    def fetch():
        follows = twitch().followed_channels(user["id"], user_access_token())
        streams = twitch().streams_by_id([f["broadcaster_id"] for f in follows])
        return {"follows": [{"id": f["broadcaster_id"], "login": f["broadcaster_login"],
                             "display_name": f["broadcaster_name"]} for f in follows],
                "streams": [{name: s.get(name) for name in STREAM_FIELDS} for s in streams]}

    answer, asked_at = cached_with_time(client, f"sev:helix:follows:{user['id']}",
                                        FOLLOWS_TTL, fetch, refresh=refresh)
    remember_follows(client, user["id"], [follow["login"] for follow in answer["follows"]])
    return jsonify(data=live_follows(client, answer, asked_at))


def live_follows(client, answer: dict, asked_at: float) -> list[dict]:
    """The followed channels live now by the newest of events and Twitch's answer, the
    most watched first."""
    follows = answer["follows"]
    streams = {stream["user_id"]: stream for stream in answer["streams"]}
    states = broadcaster_states(client, [follow["id"] for follow in follows])
    held = client.hmget(LOGINS, [f["login"] for f in follows]) if follows else []
    cards = []
    for follow, state, lease in zip(follows, states, held):
        status = combined_status(state, streams.get(follow["id"]), asked_at)
        if status["live"]:
            cards.append({"login": follow["login"], "channel": channel_name(follow["login"]),
                          "display_name": follow["display_name"],
                          "title": status["title"], "category": status["category"],
                          "viewers": status["live"]["viewers"],
                          "started_at": status["live"]["started_at"],
                          "status_as_of": status["status_as_of"], "watched": lease is not None})
    return sorted(cards, key=lambda card: -(card["viewers"] or 0))


def hold_subscriptions(user: dict):
    """Renew a healthy lease at once, else queue the work to hold the subscriptions."""
    client = current_app.extensions["redis"]
    settings = current_app.config["SETTINGS"]
    lease = lease_for_login(client, user["login"])
    if lease and not missing_subscriptions(lease):
        touch_lease(client, user["login"], settings.lease_grace_seconds)
        return None
    if lease is None and eventsub_budget_spent(client):
        return json_error(503, "this server follows as many streamers as Twitch allows; "
                               "try again when someone stops watching")
    current_app.extensions["celery"].send_task(
        "maintenance.ensure_subscriptions",
        args=({"id": user["id"], "login": user["login"], "name": user["display_name"]},))
    return None


def pusher_settings() -> dict:
    """What pusher-js needs to connect; never the secret."""
    settings = current_app.config["SETTINGS"]
    return {"key": settings.pusher_key, "cluster": settings.pusher_cluster,
            "host": settings.pusher_browser_host or None, "port": settings.pusher_browser_port,
            "tls": settings.pusher_ssl}


def twitch() -> TwitchClient:
    """This thread's Twitch client for this app (a session is not shared between threads).

    It does not wait out Twitch's rate limit: a spent budget is a 503 with Retry-After.
    """
    clients = local.__dict__.setdefault("clients", {})
    app = current_app._get_current_object()
    if app not in clients:
        clients[app] = TwitchClient(app.config["SETTINGS"], app.extensions["redis"],
                                    wait_on_rate_limit=False)
    return clients[app]
