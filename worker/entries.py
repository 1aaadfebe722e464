"""Intake entries as the worker reads them: one message each, with its Twitch headers.

The pump reads them, the ingest parses them, the publishing threads finish them:
each takes the entry from here rather than from another step's module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from shared.events import Event
from shared.eventsub import MESSAGE_ID, MESSAGE_TIMESTAMP, SUBSCRIPTION_TYPE
from shared.websub import NOTIFICATION_ID, NOTIFICATION_TIMESTAMP


@dataclass
class Entry:
    """One message read from an intake stream."""

    stream: str
    entry_id: str
    kind: str
    headers: dict
    body: str
    redelivered: bool = False

    @classmethod
    def from_fields(
        cls, stream: str, entry_id: str, fields: dict, redelivered: bool = False
    ) -> Entry:
        """An entry from the stream's fields (as XADD wrote them); ``redelivered`` when
        it was claimed from a pump that may have published it already."""
        try:
            headers = json.loads(fields.get("headers") or "{}")
        except ValueError:
            headers = {}
        return cls(
            stream,
            entry_id,
            fields.get("kind", ""),
            headers if isinstance(headers, dict) else {},
            fields.get("body", ""),
            redelivered,
        )

    @property
    def timestamp(self) -> str:
        """Twitch's time of the message, as sent (empty if it sent none)."""
        return str(
            self.headers.get(MESSAGE_TIMESTAMP) or self.headers.get(NOTIFICATION_TIMESTAMP) or ""
        )

    @property
    def message_id(self) -> str:
        """Twitch's id of the message (EventSub or WebSub)."""
        return str(
            self.headers.get(MESSAGE_ID) or self.headers.get(NOTIFICATION_ID) or self.entry_id
        )


def entry_type(entry: Entry, event: Event | None = None) -> str:
    """An entry's event type, for the metrics: its event's, else its subscription's."""
    return event["type"] if event else str(entry.headers.get(SUBSCRIPTION_TYPE) or "")


def describe_error(error: Exception) -> str:
    """A short reason for a dead letter (a KeyError alone says only the key)."""
    text = str(error) or type(error).__name__
    if isinstance(error, KeyError):
        text = f"missing {text}"
    elif isinstance(error, RecursionError):
        text = "nested too deeply"
    return text[:300]
