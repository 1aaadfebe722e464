"""Pusher's webhooks: which streamer channels have viewers right now.

A channel gaining or losing its last viewer renews the streamer's lease, so the
grace period before release counts from the last moment someone watched.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request

from shared.leases import touch_lease
from shared.store import record_channel_occupancy
from web.errors import json_error

bp = Blueprint("pusher_webhooks", __name__)

OCCUPANCY_EVENTS = {"channel_occupied": True, "channel_vacated": False}


@bp.post("/api/pusher/webhook")
def pusher_webhook():
    """Verify a Pusher webhook and record channel occupancy changes."""
    webhook = current_app.extensions["pusher"].validate_webhook(
        key=request.headers.get("X-Pusher-Key", ""),
        signature=request.headers.get("X-Pusher-Signature", ""),
        body=request.get_data(as_text=True),
    )
    if webhook is None:
        current_app.logger.warning("rejected Pusher webhook: bad key, signature or time")
        return json_error(401, "invalid Pusher webhook signature")
    client = current_app.extensions["redis"]
    grace = current_app.config["SETTINGS"].lease_grace_seconds
    for event in webhook.get("events", []):
        occupied = OCCUPANCY_EVENTS.get(event.get("name"))
        channel = event.get("channel")
        if occupied is not None and isinstance(channel, str):
            record_channel_occupancy(client, channel, occupied)
            touch_lease(client, channel, grace)
    return "", 204
