"""HTTP API handlers: triggering events and querying channels."""

from __future__ import annotations

import json
import re
import time

from aiohttp import web

from emulators.pusher import limits
from emulators.pusher.channels import REGISTRY, Registry, encode
from emulators.pusher.config import CONFIG
from emulators.pusher.signing import AuthError, check_api_request

_SOCKET_ID = re.compile(r"\d+\.\d+")


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=message)


async def authorised_body(request: web.Request) -> bytes:
    """Return the request body once app id and signature are checked (404/401 otherwise)."""
    config = request.app[CONFIG]
    if request.match_info["app_id"] != config.app_id:
        raise web.HTTPNotFound(text=f"Unknown app id {request.match_info['app_id']}")
    body = await request.read()
    try:
        check_api_request(
            request.method,
            request.path,
            request.query.items(),
            body,
            config.key,
            config.secret,
            time.time(),
        )
    except AuthError as exc:
        raise web.HTTPUnauthorized(text=str(exc)) from None
    return body


def parse_event(item: object, channels_key: bool) -> tuple[str, str, list, str | None]:
    """Validate one event of a trigger or batch; return name, data, channels, socket_id."""
    if not isinstance(item, dict):
        raise _bad("Each event must be a JSON object")
    name, data = item.get("name"), item.get("data")
    if not isinstance(name, str) or not name:
        raise _bad("Missing event name")
    if len(name) > limits.MAX_EVENT_NAME:
        raise _bad(f"Event name is longer than {limits.MAX_EVENT_NAME} characters")
    if not isinstance(data, str):
        raise _bad("Missing data: data must be a string")
    channels = item.get("channels") if channels_key else None
    if channels is None and "channel" in item:
        channels = [item["channel"]]
    if not isinstance(channels, list) or not channels:
        raise _bad("Missing channel or channels")
    if len(channels) > limits.MAX_CHANNELS_PER_TRIGGER:
        raise _bad(f"Too many channels: at most {limits.MAX_CHANNELS_PER_TRIGGER}")
    for channel in channels:
        if not isinstance(channel, str) or not limits.valid_channel_name(channel):
            raise _bad(f"Invalid channel name {channel!r}")
    if len(channels) > 1:
        channels = list(dict.fromkeys(channels))
    socket_id = item.get("socket_id")
    if socket_id is not None and (
        not isinstance(socket_id, str) or not _SOCKET_ID.fullmatch(socket_id)
    ):
        raise _bad(f"Invalid socket_id {socket_id!r}")
    if limits.data_too_large(data):
        raise web.HTTPRequestEntityTooLarge(
            max_size=limits.MAX_DATA_BYTES,
            actual_size=len(data.encode("utf-8")),
            text=f"Event data is larger than {limits.MAX_DATA_BYTES} bytes",
        )
    return name, data, channels, socket_id


def _json_body(body: bytes) -> dict:
    try:
        payload = json.loads(body)
    except ValueError:
        raise _bad("Request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise _bad("Request body must be a JSON object")
    return payload


def _attributes(info: object) -> set[str]:
    return {a for a in info.split(",") if a} if isinstance(info, str) else set()


def channel_attributes(registry: Registry, name: str, attrs: set[str]) -> dict:
    """Return the requested ``subscription_count``/``user_count`` of a channel."""
    result = {}
    if "subscription_count" in attrs:
        result["subscription_count"] = registry.subscription_count(name)
    if "user_count" in attrs and name.startswith("presence-"):
        result["user_count"] = registry.user_count(name)
    return result


def _publish(
    registry: Registry, name: str, data: str, channels: list, socket_id: str | None
) -> None:
    for channel_name in channels:
        channel = registry.channels.get(channel_name)
        if channel is not None:
            channel.publish(encode(name, data, channel_name), exclude=socket_id)


async def trigger(request: web.Request) -> web.Response:
    """``POST /apps/{app_id}/events``: publish one event to up to 100 channels."""
    payload = _json_body(await authorised_body(request))
    name, data, channels, socket_id = parse_event(payload, channels_key=True)
    registry = request.app[REGISTRY]
    _publish(registry, name, data, channels, socket_id)
    attrs = _attributes(payload.get("info"))
    if not attrs:
        return web.Response(body=b"{}", content_type="application/json")
    info = {ch: channel_attributes(registry, ch, attrs) for ch in channels}
    return web.json_response({"channels": info})


async def trigger_batch(request: web.Request) -> web.Response:
    """``POST /apps/{app_id}/batch_events``: publish up to 10 events at once."""
    batch = _json_body(await authorised_body(request)).get("batch")
    if not isinstance(batch, list):
        raise _bad("Missing batch: expected a list of events")
    if len(batch) > limits.MAX_BATCH_EVENTS:
        raise _bad(f"Batch too large: at most {limits.MAX_BATCH_EVENTS} events")
    events = [parse_event(item, channels_key=False) for item in batch]
    registry = request.app[REGISTRY]
    for name, data, channels, socket_id in events:
        _publish(registry, name, data, channels, socket_id)
    if not any(_attributes(item.get("info")) for item in batch):
        return web.Response(body=b"{}", content_type="application/json")
    return web.json_response(
        {
            "batch": [
                channel_attributes(registry, event[2][0], _attributes(item.get("info")))
                for item, event in zip(batch, events, strict=True)
            ]
        }
    )
