"""Pusher's webhooks: which streamer channels have viewers right now.

A streamer's private channel gaining or losing its last viewer renews the
streamer's lease, so the grace period before release counts from the last moment
someone watched. Other channels (a public one anyone may join) hold nothing.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, request

from shared.events import login_of_channel
from shared.leases import touch_lease
from shared.store import record_channel_occupancy
from web.clients import get_pusher, get_redis, get_settings
from web.errors import json_error
from web.intake.request_body import read_body

bp = Blueprint("pusher_webhooks", __name__)

OCCUPANCY_EVENTS = {"channel_occupied": True, "channel_vacated": False}
# Pusher signs with HMAC-SHA256 in lowercase hex; anything else cannot match.
SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")


@bp.post("/api/pusher/webhook")
def pusher_webhook():
    """Verify a Pusher webhook and record channel occupancy changes."""
    body = read_body()
    signature = request.headers.get("X-Pusher-Signature", "")
    # The library compares str signatures with hmac.compare_digest, which raises
    # TypeError on non-ASCII text: refuse those before it sees them.
    if not SIGNATURE.fullmatch(signature):
        return refuse(401, "invalid Pusher webhook signature", "malformed signature")
    try:
        text = body.decode("utf-8")
        webhook = get_pusher().validate_webhook(
            key=request.headers.get("X-Pusher-Key", ""), signature=signature, body=text
        )
    except (ValueError, TypeError, AttributeError, RecursionError) as error:
        # Signed (or not) but not the JSON object Pusher sends: the library fails
        # on it before or after the signature check.
        return refuse(400, "malformed Pusher webhook", f"{type(error).__name__}")
    if webhook is None:
        return refuse(401, "invalid Pusher webhook signature", "bad key, signature or time")
    events = webhook.get("events", [])
    if not isinstance(events, list) or not all(isinstance(event, dict) for event in events):
        return refuse(400, "malformed Pusher webhook", "events is not a list of objects")
    client = get_redis()
    grace = get_settings().lease_grace_seconds
    for event in events:
        name = event.get("name")
        occupied = OCCUPANCY_EVENTS.get(name) if isinstance(name, str) else None
        channel = event.get("channel")
        login = login_of_channel(channel) if isinstance(channel, str) else None
        if occupied is not None and login is not None:
            record_channel_occupancy(client, login, occupied)
            touch_lease(client, login, grace)
    return "", 204


def refuse(status: int, message: str, reason: str):
    """Log the rejection once, without a traceback, and answer it as JSON."""
    current_app.logger.warning("rejected Pusher webhook: %s", reason)
    return json_error(status, message)
