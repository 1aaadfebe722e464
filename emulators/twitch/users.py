"""A Twitch user with their channel and stream, shown the ways Helix shows them."""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime


def category_id_for(category: str) -> str:
    """The category (game) id of a category name, as the EventSub messages derive it."""
    return str(zlib.crc32(category.encode()) % 10**6) if category else ""


def helix_time(moment: datetime) -> str:
    """Format a time as Helix does: whole seconds and ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class User:
    """A Twitch user, their channel and, when live, their stream."""

    id: str
    login: str
    display_name: str
    title: str = ""
    category_name: str = ""
    language: str = "en"
    follows: list[str] = field(default_factory=list)
    live: bool = False
    stream_id: str = ""
    started_at: datetime | None = None
    viewer_count: int | None = None

    @property
    def category_id(self) -> str:
        """The id of the channel's category."""
        return category_id_for(self.category_name)

    def start_stream(
        self, stream_id: str | None = None, started_at: datetime | None = None
    ) -> datetime:
        """Go live with a stream id and start time (a new one and now by default);
        return the start time."""
        self.live = True
        self.stream_id = stream_id or str(uuid.uuid4().int % 10**11)
        self.started_at = started_at = started_at or datetime.now(UTC)
        self.viewer_count = None
        return started_at

    def end_stream(self) -> None:
        """Go offline."""
        self.live, self.stream_id, self.started_at = False, "", None
        self.viewer_count = None

    def summary(self) -> dict:
        """The user in short, for the emulator's state page."""
        return {
            "login": self.login,
            "id": self.id,
            "live": self.live,
            "title": self.title,
            "category": self.category_name,
            "stream_id": self.stream_id,
        }

    def viewers(self) -> int:
        """The live stream's viewer count: the one set by the ``viewers`` control, else
        a steady number derived from the login."""
        if self.viewer_count is not None:
            return self.viewer_count
        return zlib.crc32(self.login.encode()) % 5000 + 1

    def user_json(self) -> dict:
        """The user as ``GET /helix/users`` shows it."""
        return {
            "id": self.id,
            "login": self.login,
            "display_name": self.display_name,
            "type": "",
            "broadcaster_type": "",
            "description": "",
            "profile_image_url": "https://static-cdn.jtvnw.net/user-default-pictures-uv/"
            f"{self.login}-profile_image-300x300.png",
            "offline_image_url": "",
            "view_count": 0,
            "created_at": "2020-01-01T00:00:00Z",
        }

    def channel_json(self) -> dict:
        """The channel as ``GET /helix/channels`` shows it."""
        return {
            "broadcaster_id": self.id,
            "broadcaster_login": self.login,
            "broadcaster_name": self.display_name,
            "broadcaster_language": self.language,
            "game_id": self.category_id,
            "game_name": self.category_name,
            "title": self.title,
            "delay": 0,
            "tags": [],
            "content_classification_labels": [],
            "is_branded_content": False,
        }

    def stream_json(self) -> dict:
        """The live stream as ``GET /helix/streams`` shows it (only while live)."""
        if self.started_at is None:
            raise ValueError(f"{self.login} is not live")
        return {
            "id": self.stream_id,
            "user_id": self.id,
            "user_login": self.login,
            "user_name": self.display_name,
            "game_id": self.category_id,
            "game_name": self.category_name,
            "type": "live",
            "title": self.title,
            "viewer_count": self.viewers(),
            "started_at": helix_time(self.started_at),
            "language": self.language,
            "thumbnail_url": "https://static-cdn.jtvnw.net/previews-ttv/"
            f"live_user_{self.login}-{{width}}x{{height}}.jpg",
            "tags": [],
            "is_mature": False,
        }
