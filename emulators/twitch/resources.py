"""Helix users, streams, channels and followed channels, answered from the roster."""

from __future__ import annotations

from aiohttp import web

from emulators.twitch.helix import Problem, authenticate, many, paginate
from emulators.twitch.state import STATE

FOLLOWS_SCOPE = "user:read:follows"


async def users(request: web.Request) -> web.Response:
    """``GET /helix/users``: by ``id`` and/or ``login``; with neither, the token's user."""
    token = authenticate(request)
    roster = request.app[STATE].roster
    ids, logins = many(request, "id"), many(request, "login")
    if len(ids) + len(logins) > 100:
        raise Problem(400, "The combined number of id and login values exceeds 100")
    if not ids and not logins:
        if token.user_id is None:
            raise Problem(400, "Must provide an ID, Login or OAuth Token")
        ids = [token.user_id]
    found = [roster.find(user_id=i) for i in ids] + [roster.find(login=n) for n in logins]
    unique = {user.id: user for user in found if user is not None}
    return web.json_response({"data": [user.user_json() for user in unique.values()]})


async def streams(request: web.Request) -> web.Response:
    """``GET /helix/streams``: live streams, optionally of some users; offline ones are absent."""
    authenticate(request)
    roster = request.app[STATE].roster
    ids, logins = many(request, "user_id"), many(request, "user_login")
    game_ids = many(request, "game_id")
    if ids or logins:
        wanted = [roster.find(user_id=i) for i in ids] + [roster.find(login=n) for n in logins]
        candidates = list({u.id: u for u in wanted if u is not None}.values())
    else:
        candidates = roster.users
    live = [u for u in candidates if u.live and (not game_ids or u.category_id in game_ids)]
    live.sort(key=lambda u: u.stream_json()["viewer_count"], reverse=True)
    page, pagination = paginate(request, live)
    return web.json_response({"data": [u.stream_json() for u in page], "pagination": pagination})


async def channels(request: web.Request) -> web.Response:
    """``GET /helix/channels?broadcaster_id=``: channel information, unknown ids left out."""
    authenticate(request)
    ids = many(request, "broadcaster_id")
    if not ids:
        raise Problem(400, 'Missing required parameter "broadcaster_id"')
    roster = request.app[STATE].roster
    found = [roster.find(user_id=i) for i in ids]
    return web.json_response({"data": [u.channel_json() for u in found if u is not None]})


async def followed(request: web.Request) -> web.Response:
    """``GET /helix/channels/followed?user_id=``: needs that user's token with user:read:follows."""
    token = authenticate(request, user=True)
    user_id = request.query.get("user_id")
    if not user_id:
        raise Problem(400, 'Missing required parameter "user_id"')
    if user_id != token.user_id:
        raise Problem(401, "The ID in user_id must match the user ID in the access token")
    if FOLLOWS_SCOPE not in token.scopes:
        raise Problem(401, f"Missing scope: {FOLLOWS_SCOPE}")
    roster = request.app[STATE].roster
    user = roster.find(user_id=user_id)
    if user is None:
        raise Problem(400, "The ID in user_id is not a known user")
    follows = roster.followed(user)
    if request.query.get("broadcaster_id"):
        follows = [f for f in follows if f["broadcaster_id"] == request.query["broadcaster_id"]]
    page, pagination = paginate(request, follows)
    return web.json_response({"total": len(follows), "data": page, "pagination": pagination})


def add_routes(app: web.Application) -> None:
    """Register the endpoints of this module."""
    app.router.add_get("/helix/users", users)
    app.router.add_get("/helix/streams", streams)
    app.router.add_get("/helix/channels", channels)
    app.router.add_get("/helix/channels/followed", followed)
