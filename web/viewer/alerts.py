"""Go-live alerts by Web Push, per Twitch account: ``/api/alerts`` and ``/api/push-subscription``.

``PUT /api/alerts/<login>`` with this device's push subscription adds a streamer and
keeps the device; the worker then holds the streamer's ``stream.online`` for alerts
(an alert lease, :mod:`shared.leases`) and sends the pushes (:mod:`worker.push`).
``DELETE`` removes a streamer (the lease lets go once no viewer wants it);
``PUT /api/push-subscription`` puts a device's renewed subscription in place of the one
it replaces (the service worker's ``pushsubscriptionchange``), and ``DELETE`` forgets one.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from shared.alerts import (
    add_alert,
    forget_device,
    remove_alert,
    store_device,
    subscription_id,
    viewer_alerts,
)
from shared.events import user_broadcaster
from shared.leases import lease_for_login
from shared.store import over_rate_limit
from shared.task_names import SETTLE_ALERT_LEASE
from shared.twitch.client import eventsub_budget_spent
from shared.twitch.errors import TwitchError
from web.clients import get_celery, get_redis, get_settings
from web.errors import json_error
from web.viewer.api import refused
from web.viewer.auth import from_our_site, login_required
from web.viewer.push_subscription_input import parsed_subscription
from web.viewer.signed_in import current_user
from web.viewer.watching import LOGIN, LOGIN_RULE, WatchRefused, find_streamer, refusal_for

bp = Blueprint("alerts", __name__, url_prefix="/api")
ALERT_CHANGES_PER_MINUTE = 30
SUBSCRIPTION_SHAPE = '{"subscription": {"endpoint": "https://...", "keys": {"p256dh", "auth"}}}'
RENEWAL_SHAPE = SUBSCRIPTION_SHAPE[:-1] + ', "replaces": "<the former endpoint>"}'


@bp.before_request
def same_origin_only():
    """Changes must come from our own pages."""
    if request.method != "GET" and not from_our_site():
        return json_error(403, "requests must come from this site")


def alerts_answer(viewer_id: str) -> dict:
    """What the page needs: whether alerts are on, the key to subscribe with, the cap and
    the viewer's streamers (``login``, ``name``)."""
    settings = get_settings()
    if not settings.web_push:
        return {"enabled": False, "alerts": []}
    alerts = viewer_alerts(get_redis(), viewer_id)
    return {
        "enabled": True,
        "vapid_public_key": settings.vapid_public_key,
        "limit": settings.alerts_per_viewer,
        "alerts": [{"login": each["login"], "name": each["name"]} for each in alerts],
    }


@bp.get("/alerts")
@login_required
def show():
    """The signed-in viewer's go-live alerts."""
    return jsonify(alerts_answer(current_user()["id"]))


@bp.put("/alerts/<login>")
@login_required
def add(login):
    """Alert the viewer when ``login`` goes live, on this device (the body's push
    subscription, kept or refreshed) and their others."""
    settings, client, viewer_id = get_settings(), get_redis(), current_user()["id"]
    if not settings.web_push:
        return json_error(404, "go-live alerts are off on this server")
    if over_rate_limit(client, f"sev:rate:alerts:{viewer_id}", ALERT_CHANGES_PER_MINUTE, 60):
        return refused(WatchRefused(429, "too many alert changes; wait a minute", 60))
    payload = request.get_json(silent=True)
    subscription = parsed_subscription(
        payload.get("subscription") if isinstance(payload, dict) else None,
        settings.app_env == "development",
    )
    if subscription is None:
        current_app.logger.warning("rejected PUT /api/alerts: not a usable push subscription")
        return json_error(400, f"the body must be {SUBSCRIPTION_SHAPE}")
    if not LOGIN.fullmatch(login):
        return json_error(400, LOGIN_RULE)
    try:
        streamer = user_broadcaster(find_streamer(client, login.lower()))
    except WatchRefused as refusal:
        return refused(refusal)
    except TwitchError as error:
        return refused(refusal_for(error))
    if lease_for_login(client, streamer["login"]) is None and eventsub_budget_spent(client):
        return refused(
            WatchRefused(503, "this server follows as many streamers as Twitch allows; try later")
        )
    if add_alert(client, viewer_id, streamer, settings.alerts_per_viewer) < 0:
        limit = settings.alerts_per_viewer
        return json_error(409, f"at most {limit} streamers can have alerts")
    store_device(client, viewer_id, subscription)
    get_celery().send_task(SETTLE_ALERT_LEASE, args=(streamer,))
    return jsonify(alerts_answer(viewer_id))


@bp.delete("/alerts/<login>")
@login_required
def remove(login):
    """No more alerts when ``login`` goes live (on any device of the viewer)."""
    client, viewer_id = get_redis(), current_user()["id"]
    if over_rate_limit(client, f"sev:rate:alerts:{viewer_id}", ALERT_CHANGES_PER_MINUTE, 60):
        return refused(WatchRefused(429, "too many alert changes; wait a minute", 60))
    streamer = remove_alert(client, viewer_id, login.lower())
    if streamer is not None:
        get_celery().send_task(SETTLE_ALERT_LEASE, args=(streamer,))
    return jsonify(alerts_answer(viewer_id))


@bp.put("/push-subscription")
@login_required
def renew_this_device():
    """Keep the body's ``subscription`` for the viewer in place of the device whose
    endpoint ``replaces`` names (the browser renewed it; optional)."""
    settings, client, viewer_id = get_settings(), get_redis(), current_user()["id"]
    if not settings.web_push:
        return json_error(404, "go-live alerts are off on this server")
    if over_rate_limit(client, f"sev:rate:alerts:{viewer_id}", ALERT_CHANGES_PER_MINUTE, 60):
        return refused(WatchRefused(429, "too many alert changes; wait a minute", 60))
    payload = request.get_json(silent=True)
    payload = payload if isinstance(payload, dict) else {}
    subscription = parsed_subscription(
        payload.get("subscription"), settings.app_env == "development"
    )
    replaces = payload.get("replaces")
    if subscription is None or not isinstance(replaces, str | None):
        current_app.logger.warning("rejected PUT /api/push-subscription: not usable")
        return json_error(400, f"the body must be {RENEWAL_SHAPE}")
    if replaces:
        forget_device(client, subscription_id(replaces), viewer_id)
    store_device(client, viewer_id, subscription)
    return "", 204


@bp.delete("/push-subscription")
@login_required
def forget_this_device():
    """Forget the device whose push subscription's endpoint the body names."""
    payload = request.get_json(silent=True)
    endpoint = payload.get("endpoint") if isinstance(payload, dict) else None
    if not isinstance(endpoint, str) or not endpoint:
        return json_error(400, 'the body must be {"endpoint": "<the subscription\'s endpoint>"}')
    forget_device(get_redis(), subscription_id(endpoint), current_user()["id"])
    return "", 204
