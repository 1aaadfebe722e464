"""Helpers for the worker's tests."""

from __future__ import annotations

import json
import threading
import uuid

import websocket

from emulators.eventsub.messages import notification_body
from scripts.stack import channel_subscription
from shared import intake

CALLBACK = "http://localhost/api/callback"
# A legacy WebSub stream snapshot (Helix's /streams shape) of broadcaster 1337.
STREAM = {
    "id": "9001",
    "user_id": "1337",
    "type": "live",
    "title": "Legacy",
    "game_id": "33214",
    "game_name": "Chess",
    "started_at": "2026-01-01T11:59:00Z",
}


def send(redis_client, subscription_type: str, login: str, timestamp: str, **fields) -> str:
    """Put a notification on the intake (8 shards), as the web does; its message id."""
    body = json.dumps(notification_body(subscription_type, login, CALLBACK, **fields))
    headers = {
        "Twitch-Eventsub-Message-Id": str(uuid.uuid4()),
        "Twitch-Eventsub-Message-Timestamp": timestamp,
        "Twitch-Eventsub-Message-Type": "notification",
    }
    intake.enqueue(
        redis_client,
        8,
        intake.EVENTSUB,
        headers,
        body,
        intake.eventsub_partition_key(body.encode()),
    )
    return headers["Twitch-Eventsub-Message-Id"]


class Watcher:
    """A Pusher WebSocket client on some streamers' channels, keeping every event."""

    def __init__(self, port: int, logins):
        self.socket = websocket.create_connection(
            f"ws://127.0.0.1:{port}/app/local-key?protocol=7&client=test&version=1", timeout=10
        )
        established = json.loads(self.socket.recv())
        socket_id = json.loads(established["data"])["socket_id"]
        for login in logins:
            self.socket.send(
                json.dumps(
                    {"event": "pusher:subscribe", "data": channel_subscription(socket_id, login)}
                )
            )
            assert (
                json.loads(self.socket.recv())["event"] == "pusher_internal:subscription_succeeded"
            )
        self.events: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                frame = json.loads(self.socket.recv())
            except Exception:
                return
            if not frame["event"].startswith("pusher"):
                self.events.append(json.loads(frame["data"]))

    def close(self):
        self.socket.close()
