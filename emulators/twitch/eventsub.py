"""Helix ``/eventsub/subscriptions``: create (then verify the callback), list and delete."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from aiohttp import web

from emulators.twitch import notify
from emulators.twitch.delivery import OUTBOX
from emulators.twitch.helix import Problem, authenticate, json_body, paginate
from emulators.twitch.state import STATE
from emulators.twitch.subscriptions import SUPPORTED, Subscription, of_client, total_cost

log = logging.getLogger("emulators.twitch")
SAME_CONDITION_LIMIT = 3
FILTERS = ("status", "type", "user_id", "subscription_id")
RAID_CONDITION = ("from_broadcaster_user_id", "to_broadcaster_user_id")


async def create(request: web.Request) -> web.Response:
    """``POST``: needs an app token; answers 202 with a pending subscription, then verifies."""
    token = authenticate(request)
    if not token.is_app:
        raise Problem(400, "auth must use app access token to create webhook subscription")
    state = request.app[STATE]
    sub = _parse(await json_body(request), token.client_id)
    if any(state.roster.find(user_id=user_id) is None for user_id in sub.users):
        raise Problem(400, "The user specified in the condition object does not exist")
    mine = [s for s in of_client(state, token.client_id) if s.active]
    twins = [s for s in mine if (s.type, s.condition) == (sub.type, sub.condition)]
    if any(s.callback == sub.callback for s in twins):
        raise Problem(409, "subscription already exists")
    if len(twins) >= SAME_CONDITION_LIMIT:
        raise Problem(429, "too many subscriptions with the same type and condition")
    if state.tokens.has_authorized(token.client_id, sub.broadcaster_id):
        sub.cost = 0
    spent = total_cost(state, token.client_id)
    if spent + sub.cost > state.config.max_total_cost:
        raise Problem(429, "subscription cost exceeds max_total_cost")
    state.subscriptions[sub.id] = sub
    log.info(
        "subscription %s (%s of %s) created, verifying %s",
        sub.id,
        sub.type,
        sub.broadcaster_id,
        sub.callback,
    )
    notify.verify(request.app[OUTBOX], sub)
    return web.json_response(
        {
            "data": [sub.public()],
            "total": len(of_client(state, token.client_id)),
            "total_cost": spent + sub.cost,
            "max_total_cost": state.config.max_total_cost,
        },
        status=202,
    )


async def listing(request: web.Request) -> web.Response:
    """``GET``: the client's webhook subscriptions, filtered by at most one filter, paginated."""
    token = authenticate(request)
    state = request.app[STATE]
    given = [name for name in FILTERS if request.query.get(name)]
    if len(given) > 1:
        raise Problem(400, "Only one of status, type, user_id or subscription_id may be given")
    subs = of_client(state, token.client_id) if token.is_app else []
    everything = len(subs)
    value = request.query.get(given[0]) if given else None
    if given == ["status"]:
        subs = [s for s in subs if s.status == value]
    elif given == ["type"]:
        subs = [s for s in subs if s.type == value]
    elif given == ["user_id"]:
        subs = [s for s in subs if value in s.condition.values()]
    elif given == ["subscription_id"]:
        subs = [s for s in subs if s.id == value]
    page, pagination = paginate(request, subs, default=100)
    return web.json_response(
        {
            "data": [s.public() for s in page],
            "total": everything,
            "total_cost": total_cost(state, token.client_id) if token.is_app else 0,
            "max_total_cost": state.config.max_total_cost,
            "pagination": pagination,
        }
    )


async def delete(request: web.Request) -> web.Response:
    """``DELETE ?id=``: 204, or 404 when the client has no such subscription."""
    token = authenticate(request)
    state = request.app[STATE]
    sub_id = request.query.get("id")
    if not sub_id:
        raise Problem(400, 'Missing required parameter "id"')
    sub = state.subscriptions.get(sub_id)
    if sub is None or sub.client_id != token.client_id or not token.is_app:
        raise Problem(404, "subscription not found")
    del state.subscriptions[sub_id]
    log.info("subscription %s (%s) deleted", sub.id, sub.type)
    return web.Response(status=204)


def _parse(body: dict, client_id: str) -> Subscription:
    kind, version = body.get("type"), body.get("version")
    if not kind or not version:
        raise Problem(400, "The type and version fields are required")
    if SUPPORTED.get(kind) != version:
        raise Problem(400, "The combination of values in the version and type fields is not valid")
    condition = _condition(kind, body.get("condition"))
    transport = body.get("transport")
    if not isinstance(transport, dict) or transport.get("method") != "webhook":
        raise Problem(400, "The emulator supports the webhook transport method only")
    callback, secret = transport.get("callback"), transport.get("secret")
    if not isinstance(callback, str) or not _is_web_url(callback):
        raise Problem(400, "The URL in the transport's callback field is not valid")
    if not isinstance(secret, str) or not 10 <= len(secret) <= 100:
        raise Problem(400, "The length of the string in the secret field is not valid")
    return Subscription(client_id, kind, version, condition, callback, secret)


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _condition(kind: str, given) -> dict:
    """The condition as Twitch keeps it: a channel.raid names its raiding broadcaster, its
    raided one or both (the other empty); every other type its broadcaster."""
    fields = RAID_CONDITION if kind == "channel.raid" else ("broadcaster_user_id",)
    given = given if isinstance(given, dict) else {}
    condition = {name: str(given.get(name) or "") for name in fields}
    if not any(condition.values()):
        raise Problem(400, "The condition object is missing one or more required fields")
    return condition


def add_routes(app: web.Application) -> None:
    """Register the endpoints of this module."""
    app.router.add_post("/helix/eventsub/subscriptions", create)
    app.router.add_get("/helix/eventsub/subscriptions", listing)
    app.router.add_delete("/helix/eventsub/subscriptions", delete)
