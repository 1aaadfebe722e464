"""Watching a streamer: resolve the name, hold its subscriptions, and describe it.

``POST /api/watch`` (in :mod:`web.viewer.api`) answers one streamer or up to
``MAX_STREAMS`` at once; each goes through :func:`watch_streamer`, which raises
:class:`WatchRefused` with the status and message the viewer should see.
"""

from __future__ import annotations

import re

from flask import current_app

from shared.events import channel_name, user_broadcaster
from shared.leases import WATCH, lease_for_login, serves, touch_lease
from shared.store import (
    broadcaster_states,
    cached,
    cached_with_time,
    over_rate_limit,
    recent_events,
)
from shared.task_names import ENSURE_SUBSCRIPTIONS
from shared.twitch.client import eventsub_budget_spent
from shared.twitch.errors import TwitchError, TwitchRateLimited, TwitchUnavailable
from web.clients import get_celery, get_redis, get_settings, get_twitch
from web.viewer.channel_auth import ask_for_streamer
from web.viewer.status import combined_status

LOGIN = re.compile(r"[A-Za-z0-9_]{4,25}")
LOGIN_RULE = "a Twitch name is 4 to 25 letters, digits or underscores"
MAX_STREAMS = 4
USER_TTL, STREAM_TTL = 300, 15
WATCHES_PER_MINUTE = 30


class WatchRefused(Exception):
    """A streamer the viewer cannot watch now: the HTTP status, the message, and when
    to ask again (seconds) if that is known."""

    def __init__(self, status: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status, self.message, self.retry_after = status, message, retry_after


def watch_streamer(viewer_id: str, name: object) -> dict:
    """What the page needs to show ``name``'s stream, once its subscriptions are held
    (or being made); raises :class:`WatchRefused`. Each call counts against the
    viewer's WATCHES_PER_MINUTE."""
    client = get_redis()
    if over_rate_limit(client, f"sev:rate:watch:{viewer_id}", WATCHES_PER_MINUTE, 60):
        raise WatchRefused(429, "too many streamers asked for; wait a minute", 60)
    if not isinstance(name, str) or not LOGIN.fullmatch(name.strip()):
        raise WatchRefused(400, LOGIN_RULE)
    login = name.strip().lower()
    try:
        return _describe(client, viewer_id, login)
    except TwitchError as error:
        raise refusal_for(error) from error


def find_streamer(client, login: str) -> dict:
    """Twitch's user ``login`` (a lower-case name that fits LOGIN), kept USER_TTL; raises
    :class:`WatchRefused` (404) when there is none, TwitchError when Twitch fails."""
    user = cached(
        client, f"sev:cache:user:{login}", USER_TTL, lambda: get_twitch().user_by_login(login)
    )
    if user is None:
        raise WatchRefused(404, f"no Twitch channel named {login}")
    return user


def _describe(client, viewer_id: str, login: str) -> dict:
    user = find_streamer(client, login)
    wait = ask_for_streamer(client, viewer_id, user["login"], get_settings().viewer_streamer_limit)
    if wait is not None:
        raise WatchRefused(
            429,
            "you asked for as many streamers as one viewer may in a day; "
            "watch one of those, or try again later",
            int(wait) + 1,
        )
    hold_subscriptions(user)
    stream, stream_asked_at = cached_with_time(
        client,
        f"sev:helix:stream:{user['id']}",
        STREAM_TTL,
        lambda: next(iter(get_twitch().streams_by_id([user["id"]])), None),
    )
    channel, channel_asked_at = cached_with_time(
        client,
        f"sev:helix:channel:{user['id']}",
        USER_TTL,
        lambda: get_twitch().channel_information(user["id"]),
    )
    [state] = broadcaster_states(client, [user["id"]])
    return {
        "channel": channel_name(user["login"]),
        "streamer": {
            key: user.get(key) for key in ("id", "login", "display_name", "profile_image_url")
        },
        **combined_status(state, stream, stream_asked_at, channel, channel_asked_at),
        "recent_events": recent_events(client, user["login"]),
    }


def hold_subscriptions(user: dict) -> None:
    """Renew a healthy lease at once, else queue the work to hold the subscriptions;
    refused (503) when a new streamer would pass Twitch's EventSub budget."""
    client = get_redis()
    settings = get_settings()
    lease = lease_for_login(client, user["login"])
    if serves(lease, WATCH):
        touch_lease(client, user["login"], settings.lease_grace_seconds)
        return
    if lease is None and eventsub_budget_spent(client):
        raise WatchRefused(
            503,
            "this server follows as many streamers as Twitch allows; "
            "try again when someone stops watching",
        )
    get_celery().send_task(
        ENSURE_SUBSCRIPTIONS,
        args=(user_broadcaster(user),),
    )


def refusal_for(error: TwitchError) -> WatchRefused:
    """Twitch could not answer: the refusal that says so plainly."""
    current_app.logger.warning("Twitch call failed: %s", error)
    if isinstance(error, TwitchRateLimited):
        # The web's client never waits for the reset (a request thread would sleep up
        # to a minute): the page is told when to try again.
        return WatchRefused(
            503, "Twitch's rate limit is spent for now; try again shortly", error.retry_after()
        )
    if isinstance(error, TwitchUnavailable):
        return WatchRefused(503, "Twitch is not answering right now; try again shortly")
    return WatchRefused(502, "Twitch refused the request; try again shortly")
