"""EventSub messages to subscriptions: challenge, notification, revocation, resend.

Bodies come from the EventSub message builder and are signed by it, with each
subscription's own secret; the subscription object inside is the real one.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import datetime

from emulators.eventsub.messages import notification_body, signed_message
from emulators.twitch.delivery import Outbox, Reply
from emulators.twitch.subscriptions import (
    ENABLED,
    FAILURES_EXCEEDED,
    PENDING,
    VERIFICATION_FAILED,
    Subscription,
)
from emulators.twitch.users import User
from shared.eventsub import (
    MESSAGE_RETRY,
    NOTIFICATION,
    REVOCATION,
    VERIFICATION,
    format_eventsub_timestamp,
)

log = logging.getLogger("emulators.twitch")


def event_body(sub: Subscription, user: User) -> dict:
    """A notification body for ``sub`` describing ``user``'s channel and stream now."""
    body = notification_body(
        sub.type,
        user.login,
        sub.callback,
        broadcaster_id=user.id,
        name=user.display_name,
        title=user.title,
        category=user.category_name,
        stream_id=user.stream_id or None,
    )
    event = body["event"]
    if sub.type == "stream.online" and user.started_at is not None:
        event["started_at"] = format_eventsub_timestamp(user.started_at)
    if sub.type == "channel.update":
        event.update(language=user.language, category_id=user.category_id)
    body["subscription"] = sub.public()
    return body


def verify(outbox: Outbox, sub: Subscription) -> None:
    """Send the callback verification challenge; enable or fail ``sub`` by the answer."""
    outbox.spawn(_verify(outbox, sub))


def notify(outbox: Outbox, sub: Subscription, body: dict, sent_at: datetime | None = None) -> None:
    """Queue a notification to ``sub``'s callback, stamped ``sent_at`` (else when it leaves)."""
    message_id = str(uuid.uuid4())
    sub.last = (NOTIFICATION, body, message_id)
    outbox.spawn(_notify(outbox, sub, body, message_id, 0, sent_at))


def resend(outbox: Outbox, sub: Subscription) -> str | None:
    """Send the last notification or revocation again, same message id; return that id."""
    if sub.last is None:
        return None
    message_type, body, message_id = sub.last
    sub.resent += 1
    if message_type == REVOCATION:
        outbox.spawn(_send(outbox, sub, REVOCATION, body, message_id, sub.resent, force=True))
    else:
        outbox.spawn(_notify(outbox, sub, body, message_id, sub.resent))
    return message_id


def revoke(outbox: Outbox, sub: Subscription, reason: str) -> None:
    """Set ``sub``'s status to ``reason`` and send the revocation message."""
    sub.status = reason
    body = {"subscription": sub.public()}
    message_id = str(uuid.uuid4())
    sub.last = (REVOCATION, body, message_id)
    log.info("subscription %s (%s) revoked: %s", sub.id, sub.type, reason)
    outbox.spawn(_send(outbox, sub, REVOCATION, body, message_id, 0, force=True))


async def _verify(outbox: Outbox, sub: Subscription) -> None:
    challenge = secrets.token_urlsafe(24)
    body = {"challenge": challenge, "subscription": sub.public()}
    reply = await _send(outbox, sub, VERIFICATION, body, str(uuid.uuid4()), 0, force=True)
    if sub.status != PENDING:
        return
    passed = reply.status == 200 and reply.text == challenge
    sub.status = ENABLED if passed else VERIFICATION_FAILED
    log.info(
        "subscription %s (%s) %s: callback answered %s",
        sub.id,
        sub.type,
        sub.status,
        reply.status if reply.status is not None else reply.text,
    )


async def _notify(
    outbox: Outbox,
    sub: Subscription,
    body: dict,
    message_id: str,
    retry: int,
    sent_at: datetime | None = None,
) -> None:
    reply = await _send(outbox, sub, NOTIFICATION, body, message_id, retry, sent_at=sent_at)
    if reply.ok:
        sub.delivered += 1
        sub.failures = 0
        return
    sub.failures += 1
    log.info(
        "notification %s to %s failed (%s in a row): %s",
        message_id,
        sub.callback,
        sub.failures,
        reply.status or reply.text,
    )
    if sub.status == ENABLED and sub.failures >= outbox.state.config.failure_threshold:
        revoke(outbox, sub, FAILURES_EXCEEDED)


async def _send(
    outbox: Outbox,
    sub: Subscription,
    message_type: str,
    body: dict,
    message_id: str,
    retry: int,
    force: bool = False,
    sent_at: datetime | None = None,
) -> Reply:
    if outbox.state.fail_deliveries and not force:
        return Reply(None, "deliveries are switched to fail")
    headers, raw = signed_message(sub.secret, message_type, body, message_id, sent_at)
    headers[MESSAGE_RETRY] = str(retry)
    return await outbox.request("POST", sub.callback, data=raw, headers=headers)
