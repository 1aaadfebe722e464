"""Helpers for the worker's tests."""

from __future__ import annotations

import json
import threading

import websocket

from scripts.stack import channel_subscription


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
