"""The aiohttp application: state, routes, middlewares and the outgoing-call session."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from emulators.twitch import control, eventsub, oauth, resources, websub
from emulators.twitch.config import Config
from emulators.twitch.delivery import OUTBOX, Outbox
from emulators.twitch.helix import problems
from emulators.twitch.ratelimit import LIMITER, RateLimiter, rate_limit
from emulators.twitch.roster import load_records
from emulators.twitch.state import STATE, State


def create_app(config: Config, records: list[dict] | None = None) -> web.Application:
    """Build the emulator for ``config``, with ``records`` (or the configured roster) as users."""
    if records is None:
        records = load_records(config.roster_path)
    app = web.Application(middlewares=[rate_limit, problems, oauth.oauth_errors])
    app[STATE] = State(config, records)
    app[LIMITER] = RateLimiter(config.rate_limit, config.rate_window)
    app[OUTBOX] = Outbox(app[STATE])
    for module in (oauth, resources, eventsub, websub, control):
        module.add_routes(app)
    app.cleanup_ctx.append(_outbox)
    return app


async def _outbox(app: web.Application) -> AsyncIterator[None]:
    await app[OUTBOX].start()
    yield
    await app[OUTBOX].close()
