"""Connections, channels and presence membership, all in memory."""

from __future__ import annotations

import json
from collections.abc import Callable

from aiohttp import web

from emulators.pusher.connection import Connection

Notify = Callable[[dict], None]


def encode(event: str, data: object, channel: str | None = None, **extra: object) -> str:
    """Serialise one protocol message; ``data`` is passed through unchanged."""
    message: dict = {"event": event}
    if channel is not None:
        message["channel"] = channel
    message["data"] = data
    message.update(extra)
    return json.dumps(message, separators=(",", ":"))


class Channel:
    """Subscribers of one channel and, for presence channels, its members."""

    __slots__ = ("name", "is_presence", "subscribers", "members", "user_of")

    def __init__(self, name: str) -> None:
        self.name = name
        self.is_presence = name.startswith("presence-")
        self.subscribers: dict[str, Connection] = {}
        self.members: dict[str, list] = {}  # user_id -> [user_info, socket count]
        self.user_of: dict[str, str] = {}  # socket_id -> user_id

    def presence_data(self) -> str:
        """Return the member list sent with a presence subscription."""
        ids = list(self.members)
        hash_ = {uid: member[0] for uid, member in self.members.items()}
        return json.dumps({"presence": {"ids": ids, "hash": hash_, "count": len(ids)}})

    def publish(self, message: str, exclude: str | None = None) -> None:
        """Queue ``message`` to every subscriber except socket ``exclude``."""
        for socket_id, conn in self.subscribers.items():
            if socket_id != exclude:
                conn.send(message)


class Registry:
    """All live connections and occupied channels of the app."""

    def __init__(self, notify: Notify | None = None) -> None:
        self.connections: dict[str, Connection] = {}
        self.channels: dict[str, Channel] = {}
        self._notify = notify

    def _webhook(self, name: str, channel: str, **extra: str) -> None:
        if self._notify is not None:
            self._notify({"name": name, "channel": channel, **extra})

    def subscribe(
        self, conn: Connection, name: str, user_id: str | None = None, user_info: object = None
    ) -> Channel:
        """Add ``conn`` to channel ``name`` (as ``user_id`` on presence channels)."""
        channel = self.channels.get(name)
        if channel is None:
            channel = self.channels[name] = Channel(name)
        if conn.socket_id in channel.subscribers:
            return channel
        channel.subscribers[conn.socket_id] = conn
        conn.channels.add(name)
        if len(channel.subscribers) == 1:
            self._webhook("channel_occupied", name)
        if channel.is_presence and user_id is not None:
            channel.user_of[conn.socket_id] = user_id
            member = channel.members.get(user_id)
            if member is not None:
                member[1] += 1
            else:
                channel.members[user_id] = [user_info, 1]
                added = json.dumps({"user_id": user_id, "user_info": user_info})
                channel.publish(
                    encode("pusher_internal:member_added", added, name), exclude=conn.socket_id
                )
                self._webhook("member_added", name, user_id=user_id)
        return channel

    def unsubscribe(self, conn: Connection, name: str) -> None:
        """Remove ``conn`` from channel ``name``; forget the channel once empty."""
        channel = self.channels.get(name)
        conn.channels.discard(name)
        if channel is None or channel.subscribers.pop(conn.socket_id, None) is None:
            return
        user_id = channel.user_of.pop(conn.socket_id, None)
        if user_id is not None:
            member = channel.members[user_id]
            member[1] -= 1
            if member[1] == 0:
                del channel.members[user_id]
                removed = json.dumps({"user_id": user_id})
                channel.publish(encode("pusher_internal:member_removed", removed, name))
                self._webhook("member_removed", name, user_id=user_id)
        if not channel.subscribers:
            del self.channels[name]
            self._webhook("channel_vacated", name)

    def add(self, conn: Connection) -> None:
        """Register a freshly opened connection."""
        self.connections[conn.socket_id] = conn

    def remove(self, conn: Connection) -> None:
        """Drop a closed connection from every channel it was in."""
        for name in list(conn.channels):
            self.unsubscribe(conn, name)
        self.connections.pop(conn.socket_id, None)

    def subscription_count(self, name: str) -> int:
        """Return how many sockets are subscribed to ``name``."""
        channel = self.channels.get(name)
        return len(channel.subscribers) if channel else 0

    def user_count(self, name: str) -> int:
        """Return how many distinct users are in presence channel ``name``."""
        channel = self.channels.get(name)
        return len(channel.members) if channel else 0


REGISTRY = web.AppKey("registry", Registry)
