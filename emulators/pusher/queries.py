"""HTTP API handlers that report on occupied channels and presence users."""

from __future__ import annotations

from aiohttp import web

from emulators.pusher.api import authorised_body, channel_attributes
from emulators.pusher.channels import REGISTRY
from emulators.pusher.limits import valid_channel_name


def _attributes(request: web.Request) -> set[str]:
    return {a for a in request.query.get("info", "").split(",") if a}


def _channel_name(request: web.Request) -> str:
    name = request.match_info["channel_name"]
    if not valid_channel_name(name):
        raise web.HTTPBadRequest(text=f"Invalid channel name {name!r}")
    return name


async def list_channels(request: web.Request) -> web.Response:
    """``GET /apps/{app_id}/channels``: occupied channels, optionally by prefix."""
    await authorised_body(request)
    prefix = request.query.get("filter_by_prefix", "")
    attrs = _attributes(request)
    if "user_count" in attrs and not prefix.startswith("presence-"):
        raise web.HTTPBadRequest(text="info=user_count requires filter_by_prefix=presence-")
    registry = request.app[REGISTRY]
    found = {
        name: channel_attributes(registry, name, attrs & {"user_count"})
        for name in registry.channels
        if name.startswith(prefix)
    }
    return web.json_response({"channels": found})


async def show_channel(request: web.Request) -> web.Response:
    """``GET /apps/{app_id}/channels/{channel_name}``: occupancy and counts."""
    await authorised_body(request)
    name = _channel_name(request)
    attrs = _attributes(request)
    if "user_count" in attrs and not name.startswith("presence-"):
        raise web.HTTPBadRequest(text="info=user_count is only for presence channels")
    registry = request.app[REGISTRY]
    result = {"occupied": name in registry.channels}
    result.update(channel_attributes(registry, name, attrs))
    return web.json_response(result)


async def list_users(request: web.Request) -> web.Response:
    """``GET /apps/{app_id}/channels/{channel_name}/users``: ids in a presence channel."""
    await authorised_body(request)
    name = _channel_name(request)
    if not name.startswith("presence-"):
        raise web.HTTPBadRequest(text="Users can only be listed for presence channels")
    channel = request.app[REGISTRY].channels.get(name)
    users = [{"id": user_id} for user_id in channel.members] if channel else []
    return web.json_response({"users": users})
