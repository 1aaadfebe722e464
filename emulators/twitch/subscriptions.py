"""EventSub subscriptions: what they hold and how they are found."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from emulators.eventsub.messages import VERSIONS
from emulators.twitch.state import State
from shared.eventsub import format_eventsub_timestamp

ENABLED = "enabled"
PENDING = "webhook_callback_verification_pending"
VERIFICATION_FAILED = "webhook_callback_verification_failed"
FAILURES_EXCEEDED = "notification_failures_exceeded"
ACTIVE = (ENABLED, PENDING)
REVOCATION_REASONS = ("authorization_revoked", "user_removed", FAILURES_EXCEEDED, "version_removed")
STATUSES = ACTIVE + (VERIFICATION_FAILED,) + REVOCATION_REASONS
SUPPORTED = VERSIONS


@dataclass
class Subscription:
    """One webhook subscription of one client, with its delivery record."""

    client_id: str
    type: str
    version: str
    condition: dict
    callback: str
    secret: str = field(repr=False)
    cost: int = 1
    status: str = PENDING
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: str = field(default_factory=lambda: format_eventsub_timestamp(datetime.now(UTC)))
    delivered: int = 0
    failures: int = 0
    resent: int = 0
    last: tuple[str, dict, str] | None = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        """True while enabled or waiting for its callback's verification."""
        return self.status in ACTIVE

    @property
    def broadcaster_id(self) -> str:
        """The broadcaster in the condition (a raid's raiding one, else its raided one)."""
        return (
            self.condition.get("broadcaster_user_id")
            or self.condition.get("from_broadcaster_user_id")
            or self.condition.get("to_broadcaster_user_id", "")
        )

    @property
    def users(self) -> list[str]:
        """Every user id the condition names."""
        return [value for value in self.condition.values() if value]

    def public(self) -> dict:
        """The subscription as Helix and EventSub messages show it (never the secret)."""
        return {
            "id": self.id,
            "status": self.status,
            "type": self.type,
            "version": self.version,
            "condition": dict(self.condition),
            "created_at": self.created_at,
            "transport": {"method": "webhook", "callback": self.callback},
            "cost": self.cost,
        }

    def inspect(self) -> dict:
        """The public view plus delivery counters, for the emulator's state page."""
        last = self.last and {"message_type": self.last[0], "message_id": self.last[2]}
        return {
            **self.public(),
            "client_id": self.client_id,
            "delivered": self.delivered,
            "failures": self.failures,
            "resent": self.resent,
            "last_message": last,
        }


def of_client(state: State, client_id: str) -> list[Subscription]:
    """A client's subscriptions, oldest first."""
    return [s for s in state.subscriptions.values() if s.client_id == client_id]


def total_cost(state: State, client_id: str) -> int:
    """What a client's active subscriptions cost together."""
    return sum(s.cost for s in of_client(state, client_id) if s.active)


def raid_listening(state: State, raider_id: str, raided_id: str) -> list[Subscription]:
    """Enabled channel.raid subscriptions whose condition this raid matches: its raiding
    broadcaster, its raided one, or both, as the condition names."""
    return [
        s
        for s in state.subscriptions.values()
        if s.status == ENABLED
        and s.type == "channel.raid"
        and s.condition.get("from_broadcaster_user_id") in ("", raider_id)
        and s.condition.get("to_broadcaster_user_id") in ("", raided_id)
    ]


def listening(state: State, subscription_type: str, broadcaster_id: str) -> list[Subscription]:
    """Enabled subscriptions that want this event of this broadcaster."""
    return [
        s
        for s in state.subscriptions.values()
        if s.status == ENABLED
        and s.type == subscription_type
        and s.broadcaster_id == broadcaster_id
    ]
