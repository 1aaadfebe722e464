"""The legacy WebSub hub: ``POST /helix/webhooks/hub`` and ``GET /helix/webhooks/subscriptions``.

A request is answered 202 at once; the hub then asks the callback to confirm
with a GET carrying ``hub.challenge`` (or tells it ``hub.mode=denied``), and the
lease exists only once the callback echoed the challenge.
"""

from __future__ import annotations

import logging
import secrets
import time
from urllib.parse import urlsplit

from aiohttp import web

from emulators.twitch.delivery import OUTBOX, Outbox
from emulators.twitch.helix import Problem, authenticate, json_body, paginate
from emulators.twitch.leases import MAX_LEASE, Lease, active, topic_user_id
from emulators.twitch.state import STATE

log = logging.getLogger("emulators.twitch")
MAX_SECRET = 200


async def hub(request: web.Request) -> web.Response:
    """Accept a subscribe or unsubscribe request (form or JSON fields) and verify it later."""
    token = authenticate(request, app=True)
    fields = await _fields(request)
    callback, mode = fields.get("hub.callback", ""), fields.get("hub.mode")
    topic = fields.get("hub.topic", "")
    parts = urlsplit(callback)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Problem(400, "hub.callback is invalid")
    if mode not in ("subscribe", "unsubscribe"):
        raise Problem(400, "hub.mode is invalid")
    user_id = topic_user_id(topic)
    if user_id is None:
        raise Problem(400, "hub.topic is invalid")
    lease = fields.get("hub.lease_seconds", str(MAX_LEASE))
    if not lease.isdigit() or int(lease) > MAX_LEASE:
        raise Problem(400, f"hub.lease_seconds must be between 0 and {MAX_LEASE}")
    secret = fields.get("hub.secret", "")
    if len(secret.encode()) > MAX_SECRET:
        raise Problem(400, "hub.secret is too long")
    outbox = request.app[OUTBOX]
    outbox.spawn(
        _confirm(outbox, Lease(token.client_id, callback, topic, user_id, int(lease), secret), mode)
    )
    return web.Response(status=202)


async def listing(request: web.Request) -> web.Response:
    """The client's live leases with ``expires_at``, paginated."""
    token = authenticate(request, app=True)
    leases = active(request.app[STATE], token.client_id)
    page, pagination = paginate(request, leases)
    return web.json_response(
        {"total": len(leases), "data": [lease.public() for lease in page], "pagination": pagination}
    )


async def _confirm(outbox: Outbox, lease: Lease, mode: str) -> None:
    state = outbox.state
    if mode == "subscribe" and state.roster.find(user_id=lease.user_id) is None:
        await outbox.request(
            "GET",
            lease.callback,
            params={"hub.mode": "denied", "hub.topic": lease.topic, "hub.reason": "unknown user"},
        )
        log.info("WebSub subscription of %s to %s denied", lease.callback, lease.topic)
        return
    challenge = secrets.token_urlsafe(24)
    params = {"hub.mode": mode, "hub.topic": lease.topic, "hub.challenge": challenge}
    if mode == "subscribe":
        params["hub.lease_seconds"] = str(lease.lease_seconds)
    reply = await outbox.request("GET", lease.callback, params=params)
    if not (reply.ok and reply.text == challenge):
        log.info(
            "WebSub %s of %s to %s not confirmed (%s)",
            mode,
            lease.callback,
            lease.topic,
            reply.status or reply.text,
        )
        return
    key = (lease.client_id, lease.callback, lease.topic)
    if mode == "subscribe":
        lease.expires_at = time.time() + lease.lease_seconds
        state.leases[key] = lease
    else:
        state.leases.pop(key, None)
    log.info("WebSub %s of %s to %s confirmed", mode, lease.callback, lease.topic)


async def _fields(request: web.Request) -> dict[str, str]:
    if request.content_type == "application/json":
        return {key: str(value) for key, value in (await json_body(request)).items()}
    return {key: str(value) for key, value in (await request.post()).items()}


def add_routes(app: web.Application) -> None:
    """Register the endpoints of this module."""
    app.router.add_post("/helix/webhooks/hub", hub)
    app.router.add_get("/helix/webhooks/subscriptions", listing)
