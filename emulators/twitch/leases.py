"""WebSub leases on stream topics, and the notifications sent to them."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from emulators.twitch.delivery import Outbox
from emulators.twitch.state import State
from emulators.twitch.users import User, helix_time

log = logging.getLogger("emulators.twitch")
HUB_URL = "https://api.twitch.tv/helix/webhooks/hub"
MAX_LEASE = 864000


@dataclass
class Lease:
    """A verified subscription of ``callback`` to ``topic`` that ends at ``expires_at``."""

    client_id: str
    callback: str
    topic: str
    user_id: str
    lease_seconds: int
    secret: str = field(default="", repr=False)
    expires_at: float = 0.0

    def public(self) -> dict:
        """The lease as ``GET /helix/webhooks/subscriptions`` shows it."""
        moment = datetime.fromtimestamp(self.expires_at, UTC)
        return {"topic": self.topic, "callback": self.callback, "expires_at": helix_time(moment)}


def topic_user_id(topic: str) -> str | None:
    """The user id of a ``.../helix/streams?user_id=ID`` topic, or None for any other topic."""
    parts = urlsplit(topic)
    ids = parse_qs(parts.query).get("user_id", [])
    if parts.scheme not in ("http", "https") or not parts.path.endswith("/helix/streams"):
        return None
    return ids[0] if len(ids) == 1 and ids[0] else None


def active(state: State, client_id: str | None = None) -> list[Lease]:
    """Leases that have not expired (expired ones are forgotten), optionally of one client."""
    now = time.time()
    for key in [k for k, lease in state.leases.items() if lease.expires_at <= now]:
        del state.leases[key]
    return [
        lease
        for lease in state.leases.values()
        if client_id is None or lease.client_id == client_id
    ]


def notify_streams(outbox: Outbox, user: User) -> int:
    """POST ``user``'s stream (``{"data": []}`` when offline) to every lease on it."""
    body = json.dumps(
        {"data": [user.stream_json()] if user.live else []}, separators=(",", ":")
    ).encode()
    leases = [lease for lease in active(outbox.state) if lease.user_id == user.id]
    for lease in leases:
        outbox.spawn(_deliver(outbox, lease, body))
    return len(leases)


async def _deliver(outbox: Outbox, lease: Lease, body: bytes) -> None:
    if outbox.state.fail_deliveries:
        return
    reply = await outbox.request(
        "POST", lease.callback, data=body, headers=notification_headers(lease, body)
    )
    if not reply.ok:
        log.info("WebSub notification to %s failed: %s", lease.callback, reply.status or reply.text)


def notification_headers(lease: Lease, body: bytes) -> dict[str, str]:
    """Headers of a WebSub notification: Link to hub and topic, signature when a secret exists."""
    headers = {
        "Content-Type": "application/json",
        "Link": f'<{HUB_URL}>; rel="hub", <{lease.topic}>; rel="self"',
        "Twitch-Notification-Id": str(uuid.uuid4()),
        "Twitch-Notification-Timestamp": helix_time(datetime.now(UTC)),
    }
    if lease.secret:
        digest = hmac.new(lease.secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Hub-Signature"] = f"sha256={digest}"
    return headers
