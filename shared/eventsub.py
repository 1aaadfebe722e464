"""Twitch EventSub webhook messages: headers, signatures and freshness.

The signature is ``sha256=`` + hex HMAC-SHA256, keyed by our webhook secret,
over the message-id header, the timestamp header and the raw body, exactly as
received. The algorithm is always SHA-256, whatever the header claims.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta

MESSAGE_ID = "Twitch-Eventsub-Message-Id"
MESSAGE_TIMESTAMP = "Twitch-Eventsub-Message-Timestamp"
MESSAGE_SIGNATURE = "Twitch-Eventsub-Message-Signature"
MESSAGE_TYPE = "Twitch-Eventsub-Message-Type"
MESSAGE_RETRY = "Twitch-Eventsub-Message-Retry"
SUBSCRIPTION_TYPE = "Twitch-Eventsub-Subscription-Type"
SUBSCRIPTION_VERSION = "Twitch-Eventsub-Subscription-Version"

REQUIRED_HEADERS = (MESSAGE_ID, MESSAGE_TIMESTAMP, MESSAGE_SIGNATURE, MESSAGE_TYPE)
FORWARDED_HEADERS = REQUIRED_HEADERS[:2] + (
    MESSAGE_TYPE,
    MESSAGE_RETRY,
    SUBSCRIPTION_TYPE,
    SUBSCRIPTION_VERSION,
)

VERIFICATION = "webhook_callback_verification"
NOTIFICATION = "notification"
REVOCATION = "revocation"
QUEUED_TYPES = frozenset((NOTIFICATION, REVOCATION))

# The condition field that names the watched streamer, where it is not broadcaster_user_id:
# a raid is subscribed by the raiding broadcaster.
CONDITION_FIELDS = {"channel.raid": "from_broadcaster_user_id"}
BROADCASTER_CONDITION = "broadcaster_user_id"

# The subscriptions we hold for every watched streamer: type and version, in the order
# they are created. The event model (shared.events) parses exactly these types.
SUBSCRIPTION_VERSIONS = {
    "stream.online": "1",
    "stream.offline": "1",
    "channel.update": "2",
    "channel.raid": "1",
}

# A subscription's status, as Twitch lists it.
ENABLED = "enabled"
PENDING = "webhook_callback_verification_pending"
# Held: delivering, or about to once Twitch has verified the callback.
HEALTHY = frozenset((ENABLED, PENDING))
# Ended by Twitch for a reason that a new subscription may cure.
RECREATABLE = frozenset(
    ("notification_failures_exceeded", "version_removed", "webhook_callback_verification_failed")
)
# Ended because the streamer or the app lost the authorization: never re-created.
FINAL = frozenset(("authorization_revoked", "user_removed"))
# Ours, not Twitch's: a subscription the lease holds that Twitch's list no longer has.
MISSING = "missing"

REPLAY_WINDOW = timedelta(minutes=10)
# The one shape Twitch sends: RFC 3339 with ASCII digits, 0-9 fractional digits and a zone
# (no basic format, week dates, ordinal dates, missing seconds or spaces).
_RFC3339 = re.compile(
    r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|z|[+-]\d\d:\d\d)", re.ASCII
)
SIGNATURE_PREFIX = "sha256="


def subscription_condition(subscription_type: str, broadcaster_id: str) -> dict:
    """The condition of our subscription of ``subscription_type`` for a streamer."""
    return {CONDITION_FIELDS.get(subscription_type, BROADCASTER_CONDITION): broadcaster_id}


def condition_broadcaster(subscription_type: object, condition: object) -> str | None:
    """The streamer a subscription's condition names, as :func:`subscription_condition`
    writes it, or None (an empty field, or a condition of another shape)."""
    field = (
        CONDITION_FIELDS.get(subscription_type, BROADCASTER_CONDITION)
        if isinstance(subscription_type, str)
        else BROADCASTER_CONDITION
    )
    value = condition.get(field) if isinstance(condition, dict) else None
    return value or None


def eventsub_signature(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """Return the ``sha256=...`` signature Twitch sends for this message."""
    digest = hmac.new(
        secret.encode(), message_id.encode() + timestamp.encode() + body, hashlib.sha256
    ).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_eventsub_signature(
    secret: str, message_id: str, timestamp: str, body: bytes, signature: str
) -> bool:
    """True when ``signature`` is the one Twitch computes; compared in constant time."""
    expected = eventsub_signature(secret, message_id, timestamp, body)
    return hmac.compare_digest(expected.encode(), signature.encode("ascii", "replace"))


def parse_eventsub_timestamp(value: str) -> datetime:
    """Parse an RFC 3339 timestamp with 0-9 fractional digits and a zone, the shape
    Twitch sends (see ``_RFC3339``); raise ValueError for anything else."""
    match = _RFC3339.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {str(value)[:40]!r}")
    seconds, fraction, zone = match.groups()
    parsed = datetime.fromisoformat(seconds + ("+00:00" if zone in ("Z", "z") else zone))
    return parsed.replace(microsecond=int((fraction or "").ljust(6, "0")[:6]))


def is_fresh(timestamp: str, now: datetime | None = None) -> bool:
    """True when the message time is within the replay window of ``now``, either side."""
    try:
        sent = parse_eventsub_timestamp(timestamp)
    except ValueError:
        return False
    now = now or datetime.now(UTC)
    return abs(now - sent) <= REPLAY_WINDOW


def ordering_key(timestamp: str) -> str:
    """A timestamp rewritten so that plain string order is time order.

    Twitch sends 0 to 9 fractional digits; the key always has nine, in UTC, so
    ``"…39.5Z"`` sorts after ``"…39.123Z"``. Raises ValueError for a bad timestamp.
    """
    match = _RFC3339.fullmatch(timestamp) if isinstance(timestamp, str) else None
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {str(timestamp)[:40]!r}")
    seconds, fraction, zone = match.groups()
    if zone not in ("Z", "z", "+00:00"):
        try:
            moment = datetime.fromisoformat(f"{seconds}{zone}").astimezone(UTC)
        except OverflowError:  # year 1 or 9999 moved out of range by its zone
            raise ValueError(f"timestamp out of range: {timestamp[:40]!r}") from None
        seconds = moment.strftime("%Y-%m-%dT%H:%M:%S")
    else:
        datetime.fromisoformat(seconds)  # a real date and time (no 13th month); ValueError
    return f"{seconds}.{(fraction or '').ljust(9, '0')}Z"


def format_eventsub_timestamp(moment: datetime) -> str:
    """Format a time as Twitch does, with nine fractional digits and ``Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond * 1000:09d}Z"
