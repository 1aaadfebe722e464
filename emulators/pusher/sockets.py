"""The WebSocket endpoint: ``/app/{key}``."""

from __future__ import annotations

import json
import logging

from aiohttp import WSMsgType, web

from emulators.pusher.channels import REGISTRY, Registry, encode
from emulators.pusher.config import CONFIG, Config
from emulators.pusher.connection import Connection
from emulators.pusher.limits import MAX_DATA_BYTES, valid_channel_name
from emulators.pusher.signing import channel_auth_valid

log = logging.getLogger(__name__)

SUPPORTED_PROTOCOLS = range(5, 8)
PONG = encode("pusher:pong", "{}")


def error(message: str, code: int | None = None) -> str:
    """Serialise a ``pusher:error`` message (its data is an object, not a string)."""
    return json.dumps({"event": "pusher:error", "data": {"code": code, "message": message}})


async def _refuse(ws: web.WebSocketResponse, code: int, message: str) -> web.WebSocketResponse:
    await ws.send_str(error(message, code))
    await ws.close(code=code, message=message.encode("utf-8"))
    return ws


async def websocket_handler(request: web.Request) -> web.WebSocketResponse:
    """Serve one client connection from handshake to close."""
    config = request.app[CONFIG]
    registry = request.app[REGISTRY]
    ws = web.WebSocketResponse(max_msg_size=256 * 1024)
    await ws.prepare(request)
    if request.match_info["key"] != config.key:
        return await _refuse(ws, 4001, f"App key {request.match_info['key']} does not exist")
    protocol = request.query.get("protocol")
    if protocol is None:
        return await _refuse(ws, 4008, "No protocol version supplied")
    if not protocol.isdigit() or int(protocol) not in SUPPORTED_PROTOCOLS:
        return await _refuse(ws, 4007, f"Unsupported protocol version {protocol}")

    conn = Connection(ws)
    registry.add(conn)
    log.debug("socket %s connected from %s", conn.socket_id, request.remote)
    established = json.dumps(
        {"socket_id": conn.socket_id, "activity_timeout": max(1, round(config.activity_timeout))}
    )
    conn.send(encode("pusher:connection_established", established))
    try:
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                conn.touch()
                handle_message(conn, msg.data, config, registry)
            elif msg.type is WSMsgType.BINARY:
                conn.send(error("Binary frames are not supported"))
    finally:
        log.debug("socket %s closed", conn.socket_id)
        registry.remove(conn)
        await conn.stop()
    return ws


def handle_message(conn: Connection, text: str, config: Config, registry: Registry) -> None:
    """Act on one text frame from a client."""
    try:
        message = json.loads(text)
        event = message["event"]
        if not isinstance(event, str):
            raise TypeError
    except (ValueError, TypeError, KeyError):
        conn.send(error("Invalid message: expected a JSON object with an event name"))
        return
    data = message.get("data")
    if event == "pusher:ping":
        conn.send(PONG)
    elif event in ("pusher:subscribe", "pusher:unsubscribe"):
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                data = None
        channel = data.get("channel") if isinstance(data, dict) else None
        if not isinstance(channel, str) or not valid_channel_name(channel):
            conn.send(error(f"Invalid channel name {channel!r}"))
        elif event == "pusher:subscribe":
            subscribe(conn, channel, data, config, registry)
        else:
            registry.unsubscribe(conn, channel)
    elif event.startswith("client-"):
        client_event(conn, event, message.get("channel"), data, registry)


def subscribe(
    conn: Connection, channel: str, data: dict, config: Config, registry: Registry
) -> None:
    """Check a subscription request and, when it holds, join the channel."""
    is_presence = channel.startswith("presence-")
    user_id = user_info = None
    if is_presence or channel.startswith("private-"):
        channel_data = data.get("channel_data") if is_presence else None
        if is_presence and not isinstance(channel_data, str):
            conn.send(error(f"Presence channel {channel} needs channel_data"))
            return
        if not channel_auth_valid(
            data.get("auth"), config.key, config.secret, conn.socket_id, channel, channel_data
        ):
            conn.send(
                error(
                    f"Invalid signature for {conn.socket_id}:{channel}"
                    + (":<channel_data>" if is_presence else "")
                )
            )
            return
        if is_presence:
            try:
                member = json.loads(channel_data or "")
                user_id = member["user_id"]
            except (ValueError, TypeError, KeyError):
                conn.send(error("channel_data must be a JSON object with a user_id"))
                return
            if not isinstance(user_id, (str, int)) or isinstance(user_id, bool):
                conn.send(error("user_id must be a string"))
                return
            user_id, user_info = str(user_id), member.get("user_info")
    joined = registry.subscribe(conn, channel, user_id, user_info)
    reply = joined.presence_data() if is_presence else "{}"
    conn.send(encode("pusher_internal:subscription_succeeded", reply, channel))


def client_event(
    conn: Connection, event: str, channel: object, data: object, registry: Registry
) -> None:
    """Relay a ``client-*`` event to the other subscribers of its channel."""
    if (
        not isinstance(channel, str)
        or not channel.startswith(("private-", "presence-"))
        or channel.startswith("private-encrypted-")
    ):
        conn.send(error("Client events are only allowed on private and presence channels"))
        return
    joined = registry.channels.get(channel)
    if joined is None or conn.socket_id not in joined.subscribers:
        conn.send(error(f"Client event rejected: not subscribed to {channel}"))
        return
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(json.dumps(data))
    if size > MAX_DATA_BYTES:
        conn.send(error("Client event rejected: data is larger than 10KB"))
        return
    extra = {}
    user_id = joined.user_of.get(conn.socket_id)
    if user_id is not None:
        extra["user_id"] = user_id
    joined.publish(encode(event, data, channel, **extra), exclude=conn.socket_id)
