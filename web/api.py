"""The JSON API of the viewer page: watch a streamer, and live channels one follows."""

from __future__ import annotations

import re
import threading

from flask import Blueprint, current_app, jsonify, request

from shared.leases import lease_for_login, missing_subscriptions, touch_lease
from shared.store import cached, over_rate_limit, recent_events
from shared.twitch import TwitchClient, eventsub_budget_spent
from shared.twitch_auth import TwitchError, TwitchUnavailable
from web.auth import current_user, from_our_site, login_required, user_access_token
from web.errors import json_error

bp = Blueprint("api", __name__, url_prefix="/api")
LOGIN = re.compile(r"[A-Za-z0-9_]{4,25}")
LOGIN_RULE = "a Twitch name is 4 to 25 letters, digits or underscores"
USER_TTL, STREAM_TTL, FOLLOWS_TTL = 300, 15, 30
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
    name = (request.get_json(silent=True) or {}).get("streamer")
    if not isinstance(name, str) or not LOGIN.fullmatch(name.strip()):
        return json_error(400, LOGIN_RULE)
    login = name.strip().lower()
    user = cached(client, f"sev:cache:user:{login}", USER_TTL,
                  lambda: twitch().user_by_login(login))
    if user is None:
        return json_error(404, f"no Twitch channel named {login}")
    problem = hold_subscriptions(user)
    if problem:
        return problem
    stream = cached(client, f"sev:cache:stream:{user['id']}", STREAM_TTL,
                    lambda: next(iter(twitch().streams_by_id([user["id"]])), None))
    channel = cached(client, f"sev:cache:channel:{user['id']}", USER_TTL,
                     lambda: twitch().channel_information(user["id"])) or {}
    return jsonify(
        channel=user["login"],
        streamer={key: user.get(key) for key in ("id", "login", "display_name",
                                                 "profile_image_url")},
        live=stream and {"title": stream["title"], "category": stream["game_name"],
                         "viewers": stream["viewer_count"], "started_at": stream["started_at"]},
        title=(stream or channel).get("title", ""),
        category=stream["game_name"] if stream else channel.get("game_name", ""),
        recent_events=recent_events(client, user["login"]),
        pusher=pusher_settings(),
    )


@bp.get("/follows/live")
@login_required
def follows_live():
    """The channels the viewer follows that are live now."""
    user = current_user()
    client = current_app.extensions["redis"]

    def fetch():
        follows = twitch().followed_channels(user["id"], user_access_token())
        streams = twitch().streams_by_id([f["broadcaster_id"] for f in follows])
        return [{"login": s["user_login"], "display_name": s["user_name"], "title": s["title"],
                 "category": s["game_name"], "viewers": s["viewer_count"]}
                for s in sorted(streams, key=lambda s: -s["viewer_count"])]

    return jsonify(data=cached(client, f"sev:cache:follows:{user['id']}", FOLLOWS_TTL, fetch))


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
    """This thread's Twitch client for this app (a session is not shared between threads)."""
    clients = local.__dict__.setdefault("clients", {})
    app = current_app._get_current_object()
    if app not in clients:
        clients[app] = TwitchClient(app.config["SETTINGS"], app.extensions["redis"])
    return clients[app]
