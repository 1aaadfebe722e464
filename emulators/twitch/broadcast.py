"""Changes to a channel or its stream, and the notifications they set off."""

from __future__ import annotations

import logging
from datetime import datetime

from emulators.eventsub.messages import TITLE_CHANGE_LEAD, raid_event
from emulators.twitch import notify
from emulators.twitch.delivery import Outbox
from emulators.twitch.leases import notify_streams
from emulators.twitch.subscriptions import listening, raid_listening
from emulators.twitch.users import User
from shared.eventsub import parse_eventsub_timestamp

log = logging.getLogger("emulators.twitch")


class Conflict(Exception):
    """The change makes no sense in the stream's current state."""


def go_live(
    outbox: Outbox, user: User, title: str | None = None, category: str | None = None
) -> dict[str, int]:
    """Start a stream, after a channel.update when title or category change: the update
    is stamped ``TITLE_CHANGE_LEAD`` before the stream starts, the go-live as it starts,
    in the order a streamer acts."""
    if user.live:
        raise Conflict(f"{user.login} is already live")
    sent = {}
    changed = _apply(user, title, category)
    started_at = user.start_stream()
    if changed:
        title_changed_at = started_at - TITLE_CHANGE_LEAD
        sent["channel.update"] = _eventsub(outbox, "channel.update", user, title_changed_at)
    sent["stream.online"] = _eventsub(outbox, "stream.online", user, started_at)
    sent["websub"] = notify_streams(outbox, user)
    log.info("%s went live: %s", user.login, sent)
    return sent


def go_offline(outbox: Outbox, user: User) -> dict[str, int]:
    """End the stream: stream.offline, and ``{"data": []}`` to WebSub leases."""
    if not user.live:
        raise Conflict(f"{user.login} is not live")
    user.end_stream()
    sent = {
        "stream.offline": _eventsub(outbox, "stream.offline", user),
        "websub": notify_streams(outbox, user),
    }
    log.info("%s ended the stream: %s", user.login, sent)
    return sent


def update(
    outbox: Outbox, user: User, title: str | None = None, category: str | None = None
) -> dict[str, int]:
    """Change title and/or category: channel.update, and the stream to WebSub leases if live."""
    if title is None and category is None:
        raise ValueError("give a title, a category or both")
    _apply(user, title, category)
    sent = {
        "channel.update": _eventsub(outbox, "channel.update", user),
        "websub": notify_streams(outbox, user) if user.live else 0,
    }
    log.info("%s updated the channel: %s", user.login, sent)
    return sent


def raid(outbox: Outbox, raider: User, raided: User, viewers: int) -> dict[str, int]:
    """``raider`` sends ``viewers`` to ``raided``'s channel: channel.raid to the
    subscriptions whose condition names either. Neither stream changes."""
    if raider.id == raided.id:
        raise ValueError("a channel cannot raid itself")
    event = raid_event(
        raider.id,
        raider.login,
        raider.display_name,
        {"id": raided.id, "login": raided.login, "name": raided.display_name},
        viewers,
    )
    subs = raid_listening(outbox.state, raider.id, raided.id)
    for sub in subs:
        notify.notify(outbox, sub, {"subscription": sub.public(), "event": dict(event)})
    log.info(
        "%s raided %s with %s viewers: %s sent", raider.login, raided.login, viewers, len(subs)
    )
    return {"channel.raid": len(subs)}


def record(user: User, subscription_type: str, event: dict) -> None:
    """Follow a change that another tool already notified (the EventSub sender's
    ``event`` of ``subscription_type``), sending nothing: the stream starts or ends, or
    the title and category change."""
    if subscription_type == "channel.update":
        _apply(user, _field(event, "title"), _field(event, "category_name"))
    elif subscription_type == "stream.online":
        started_at = _field(event, "started_at")
        user.start_stream(
            _field(event, "id"), parse_eventsub_timestamp(started_at) if started_at else None
        )
    elif subscription_type == "stream.offline":
        user.end_stream()
    else:
        raise ValueError(f"no state follows from a {subscription_type}")
    log.info("%s: recorded a %s another tool sent", user.login, subscription_type)


def set_viewers(user: User, viewers: int) -> None:
    """Change the live stream's viewer count, as ``GET /helix/streams`` shows it. Twitch
    sends no notification for it."""
    if not user.live:
        raise Conflict(f"{user.login} is not live")
    user.viewer_count = viewers
    log.info("%s has %d viewers", user.login, viewers)


def _apply(user: User, title: str | None, category: str | None) -> bool:
    before = (user.title, user.category_name)
    if title is not None:
        user.title = title
    if category is not None:
        user.category_name = category
    return before != (user.title, user.category_name)


def _field(event: dict, name: str) -> str | None:
    return None if event.get(name) is None else str(event[name])


def _eventsub(
    outbox: Outbox, subscription_type: str, user: User, sent_at: datetime | None = None
) -> int:
    subs = listening(outbox.state, subscription_type, user.id)
    for sub in subs:
        notify.notify(outbox, sub, notify.event_body(sub, user), sent_at)
    return len(subs)
