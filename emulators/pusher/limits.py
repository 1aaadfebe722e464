"""Limits the service enforces on channels, events and requests."""

from __future__ import annotations

import re

MAX_CHANNEL_NAME = 164
MAX_EVENT_NAME = 200
MAX_DATA_BYTES = 10 * 1024
MAX_CHANNELS_PER_TRIGGER = 100
MAX_BATCH_EVENTS = 10

_CHANNEL_NAME = re.compile(r"[A-Za-z0-9_\-=@,.;]+")


def valid_channel_name(name: str) -> bool:
    """Tell whether ``name`` is a well-formed channel name."""
    return len(name) <= MAX_CHANNEL_NAME and _CHANNEL_NAME.fullmatch(name) is not None


def data_too_large(data: str) -> bool:
    """Tell whether event data is over the 10 KB limit (in UTF-8 bytes)."""
    if len(data) * 4 <= MAX_DATA_BYTES:
        return False
    return len(data.encode("utf-8")) > MAX_DATA_BYTES
