"""What every Helix endpoint shares: errors, authentication and pagination."""

from __future__ import annotations

import base64
import json

from aiohttp import web

from emulators.twitch.errors import Problem
from emulators.twitch.state import STATE
from emulators.twitch.tokens import Token


@web.middleware
async def problems(request: web.Request, handler):
    """Turn :class:`Problem` into Twitch-shaped JSON; unknown Helix paths answer JSON 404."""
    try:
        return await handler(request)
    except Problem as problem:
        return problem.response()
    except web.HTTPNotFound:
        if request.path.startswith("/helix/"):
            return Problem(404, "Not Found").response()
        raise


def authenticate(request: web.Request, *, app: bool = False, user: bool = False) -> Token:
    """The caller's live token, checked against its Client-Id header; raise 401 otherwise.

    ``app=True`` demands an app access token, ``user=True`` a user access token.
    """
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Problem(401, "OAuth token is missing")
    token = request.app[STATE].tokens.lookup(value.strip())
    if token is None:
        raise Problem(401, "Invalid OAuth token")
    client_id = request.headers.get("Client-Id")
    if not client_id:
        raise Problem(401, "Client-Id header required")
    if client_id != token.client_id:
        raise Problem(401, "Client ID and OAuth token do not match")
    if app and not token.is_app:
        raise Problem(401, "Must provide valid app token.")
    if user and token.is_app:
        raise Problem(401, "Missing User OAUTH Token")
    return token


async def json_body(request: web.Request) -> dict:
    """The request's JSON object body; 400 as Twitch answers when it is not one."""
    try:
        body = await request.json()
    except ValueError:
        raise Problem(400, "Invalid JSON body") from None
    if not isinstance(body, dict):
        raise Problem(400, "Invalid JSON body")
    return body


def many(request: web.Request, name: str, maximum: int = 100) -> list[str]:
    """All values of a repeatable query parameter; 400 past ``maximum``."""
    values = [v for v in request.query.getall(name, []) if v]
    if len(values) > maximum:
        raise Problem(400, f"The number of {name} values exceeds the maximum of {maximum}")
    return values


def paginate(
    request: web.Request, items: list, default: int = 20, maximum: int = 100
) -> tuple[list, dict]:
    """One page of ``items`` from the ``first`` and ``after`` parameters, and its pagination."""
    raw_first = request.query.get("first", str(default))
    if not raw_first.isdigit() or not 1 <= int(raw_first) <= maximum:
        raise Problem(400, f'The parameter "first" must be between 1 and {maximum}')
    first = int(raw_first)
    start = _offset(request.query["after"]) if request.query.get("after") else 0
    page = items[start : start + first]
    if start + first < len(items):
        return page, {"cursor": _cursor(start + first)}
    return page, {}


def _cursor(offset: int) -> str:
    raw = json.dumps({"o": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _offset(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded))["o"]
    except (ValueError, KeyError, TypeError):
        raise Problem(400, "Invalid cursor") from None
    if not isinstance(offset, int) or offset < 0:
        raise Problem(400, "Invalid cursor")
    return offset
