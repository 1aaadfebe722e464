"""Emulator controls: ``POST /_emulator/<name>`` with a JSON body; ``GET /_emulator/state``."""

from __future__ import annotations

import functools
import json

from aiohttp import web

from emulators.twitch import broadcast, notify
from emulators.twitch.delivery import OUTBOX
from emulators.twitch.leases import active
from emulators.twitch.ratelimit import LIMITER
from emulators.twitch.state import STATE
from emulators.twitch.subscriptions import REVOCATION_REASONS, Subscription
from emulators.twitch.users import User


class ControlError(Exception):
    """A control request that cannot be done, with the status to answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def control(handler):
    """Give ``handler`` the JSON body and turn refusals into ``{"error": ...}`` answers."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.text() or "{}")
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            return web.json_response(await handler(request, body))
        except ControlError as error:
            return web.json_response({"error": str(error)}, status=error.status)
        except broadcast.Conflict as error:
            return web.json_response({"error": str(error)}, status=409)
        except ValueError as error:
            return web.json_response({"error": str(error)}, status=400)

    return wrapper


def _user(request: web.Request, body: dict) -> User:
    user = request.app[STATE].roster.find(login=str(body.get("login", "")))
    if user is None:
        raise ControlError(404, f"no user with login {body.get('login')!r}")
    return user


def _subscription(request: web.Request, body: dict) -> Subscription:
    sub = request.app[STATE].subscriptions.get(str(body.get("subscription_id", "")))
    if sub is None:
        raise ControlError(404, f"no subscription {body.get('subscription_id')!r}")
    return sub


def _text(body: dict, name: str) -> str | None:
    return None if body.get(name) is None else str(body[name])


@control
async def go_live(request: web.Request, body: dict) -> dict:
    """Start ``login``'s stream, optionally with a new ``title`` and ``category``."""
    user = _user(request, body)
    sent = broadcast.go_live(
        request.app[OUTBOX], user, _text(body, "title"), _text(body, "category")
    )
    return {"login": user.login, "live": True, "stream_id": user.stream_id, "sent": sent}


@control
async def go_offline(request: web.Request, body: dict) -> dict:
    """End ``login``'s stream."""
    user = _user(request, body)
    return {
        "login": user.login,
        "live": False,
        "sent": broadcast.go_offline(request.app[OUTBOX], user),
    }


@control
async def update(request: web.Request, body: dict) -> dict:
    """Change ``login``'s ``title`` and/or ``category``."""
    user = _user(request, body)
    sent = broadcast.update(
        request.app[OUTBOX], user, _text(body, "title"), _text(body, "category")
    )
    return {"login": user.login, "title": user.title, "category": user.category_name, "sent": sent}


@control
async def raid(request: web.Request, body: dict) -> dict:
    """``from`` raids ``to`` with ``viewers`` (a whole number, 0 by default)."""
    raider = _user(request, {"login": body.get("from", "")})
    raided = _user(request, {"login": body.get("to", "")})
    viewers = body.get("viewers", 0)
    if type(viewers) is not int or viewers < 0:
        raise ValueError("viewers must be a whole number, 0 or more")
    return {
        "from": raider.login,
        "to": raided.login,
        "viewers": viewers,
        "sent": broadcast.raid(request.app[OUTBOX], raider, raided, viewers),
    }


@control
async def record(request: web.Request, body: dict) -> dict:
    """Follow a change that another tool (the EventSub sender) already notified: its
    ``type`` and the notification's ``event``, which names the user by login and id.
    Nothing is sent."""
    event = body.get("event")
    if not isinstance(event, dict):
        raise ValueError("give the notification's event")
    user = _user(request, {"login": event.get("broadcaster_user_login", "")})
    if str(event.get("broadcaster_user_id")) != user.id:
        raise ControlError(
            409, f"{user.login} has the id {user.id} here, not {event.get('broadcaster_user_id')}"
        )
    broadcast.record(user, str(body.get("type")), event)
    return user.summary()


@control
async def viewers(request: web.Request, body: dict) -> dict:
    """Set ``login``'s live stream's viewer count to ``viewers`` (a whole number, 0 or more)."""
    user = _user(request, body)
    count = body.get("viewers")
    if type(count) is not int or count < 0:
        raise ValueError("viewers must be a whole number, 0 or more")
    broadcast.set_viewers(user, count)
    return {"login": user.login, "viewers": user.viewers(), "stream_id": user.stream_id}


@control
async def resend(request: web.Request, body: dict) -> dict:
    """Send a subscription's last message again with the same message id."""
    message_id = notify.resend(request.app[OUTBOX], _subscription(request, body))
    if message_id is None:
        raise ControlError(409, "nothing was sent to this subscription yet")
    return {"message_id": message_id}


@control
async def revoke(request: web.Request, body: dict) -> dict:
    """Revoke a subscription with ``reason`` and send the revocation."""
    sub = _subscription(request, body)
    reason = str(body.get("reason") or "authorization_revoked")
    if reason not in REVOCATION_REASONS:
        raise ValueError(f"reason must be one of {', '.join(REVOCATION_REASONS)}")
    notify.revoke(request.app[OUTBOX], sub, reason)
    return {"subscription_id": sub.id, "status": sub.status}


@control
async def fail_deliveries(request: web.Request, body: dict) -> dict:
    """``{"fail": true}`` makes notifications fail as if callbacks were down; false heals."""
    request.app[STATE].fail_deliveries = bool(body.get("fail", True))
    return {"fail_deliveries": request.app[STATE].fail_deliveries}


@control
async def expire_token(request: web.Request, body: dict) -> dict:
    """Expire one ``token``, or every token of ``login``, now."""
    if not body.get("token") and not body.get("login"):
        raise ValueError("give a token or a login")
    count = request.app[STATE].tokens.expire(_text(body, "token"), _text(body, "login"))
    if not count:
        raise ControlError(404, "no such token")
    return {"expired": count}


@control
async def reset(request: web.Request, body: dict) -> dict:
    """Forget tokens, subscriptions and leases; reload the roster; refill rate limits."""
    request.app[STATE].reset()
    request.app[LIMITER].reset()
    return {"reset": True}


async def state(request: web.Request) -> web.Response:
    """Everything the emulator holds, as JSON."""
    current = request.app[STATE]
    return web.json_response(
        {
            "users": [u.summary() for u in current.roster.users],
            "fail_deliveries": current.fail_deliveries,
            "subscriptions": [s.inspect() for s in current.subscriptions.values()],
            "websub": [
                {**lease.public(), "client_id": lease.client_id} for lease in active(current)
            ],
            "tokens": current.tokens.snapshot(),
        }
    )


def add_routes(app: web.Application) -> None:
    """Register the controls."""
    for name, handler in (
        ("go-live", go_live),
        ("go-offline", go_offline),
        ("update", update),
        ("record", record),
        ("viewers", viewers),
        ("raid", raid),
        ("resend", resend),
        ("revoke", revoke),
        ("fail-deliveries", fail_deliveries),
        ("expire-token", expire_token),
        ("reset", reset),
    ):
        app.router.add_post(f"/_emulator/{name}", handler)
    app.router.add_get("/_emulator/state", state)
