"""The aiohttp application: routes, shared state and background tasks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from aiohttp import web

from emulators.pusher import api, queries
from emulators.pusher.channels import REGISTRY, Registry, encode
from emulators.pusher.config import CONFIG, Config
from emulators.pusher.sockets import websocket_handler
from emulators.pusher.webhooks import WebhookSender

PING = encode("pusher:ping", "{}")


def create_app(config: Config) -> web.Application:
    """Build the application that serves the HTTP API and WebSockets on one port."""
    app = web.Application()
    app[CONFIG] = config
    sender = (
        WebhookSender(config.webhook_url, config.key, config.secret) if config.webhook_url else None
    )
    app[REGISTRY] = Registry(notify=sender.emit if sender else None)

    prefix = "/apps/{app_id}"
    app.router.add_post(prefix + "/events", api.trigger)
    app.router.add_post(prefix + "/batch_events", api.trigger_batch)
    app.router.add_get(prefix + "/channels", queries.list_channels)
    app.router.add_get(prefix + "/channels/{channel_name}", queries.show_channel)
    app.router.add_get(prefix + "/channels/{channel_name}/users", queries.list_users)
    app.router.add_get("/app/{key}", websocket_handler)

    app.cleanup_ctx.append(_background(config, app[REGISTRY], sender))
    app.on_shutdown.append(_close_sockets)
    return app


def _background(config: Config, registry: Registry, sender: WebhookSender | None):
    async def context(app: web.Application) -> AsyncIterator[None]:
        if sender is not None:
            await sender.start()
        watcher = asyncio.get_running_loop().create_task(
            watch_idle(registry, config.activity_timeout, config.pong_timeout)
        )
        yield
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        if sender is not None:
            await sender.close()

    return context


async def watch_idle(registry: Registry, activity_timeout: float, pong_timeout: float) -> None:
    """Ping clients silent for ``activity_timeout``; close with 4201 if no pong follows."""
    interval = min(5.0, max(0.1, min(activity_timeout, pong_timeout) / 4))
    while True:
        await asyncio.sleep(interval)
        now = time.monotonic()
        for conn in list(registry.connections.values()):
            if conn.ping_sent_at is None:
                if now - conn.last_seen >= activity_timeout:
                    conn.ping_sent_at = now
                    conn.send(PING)
            elif now - conn.ping_sent_at >= pong_timeout:
                conn.close(4201, "Pong reply not received")


async def _close_sockets(app: web.Application) -> None:
    connections = list(app[REGISTRY].connections.values())
    for conn in connections:
        conn.close(1001, "Server shutting down")
    deadline = time.monotonic() + 2
    while app[REGISTRY].connections and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
