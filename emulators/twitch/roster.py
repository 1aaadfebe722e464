"""The roster: every user, found by login or id, loaded from a JSON list."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from emulators.eventsub.messages import broadcaster_id_for
from emulators.twitch.users import User

FOLLOWED_AT = "2021-06-01T12:00:00Z"


class RosterError(ValueError):
    """The roster file is unreadable or an entry is malformed."""


class Roster:
    """All users, found by login or id."""

    def __init__(self, records: list[dict]):
        self.users = [_user(record) for record in records]
        self.by_login = {user.login: user for user in self.users}
        self.by_id = {user.id: user for user in self.users}
        if len(self.by_login) != len(self.users) or len(self.by_id) != len(self.users):
            raise RosterError("logins and ids must be unique")
        for user in self.users:
            if user.live:
                user.start_stream()

    def find(self, login: str | None = None, user_id: str | None = None) -> User | None:
        """The user with this login (any case) or id, or None."""
        if login is not None:
            return self.by_login.get(login.lower())
        return self.by_id.get(user_id or "")

    def followed(self, user: User) -> list[dict]:
        """The channels ``user`` follows, as ``GET /helix/channels/followed`` shows them."""
        return [
            {
                "broadcaster_id": other.id,
                "broadcaster_login": other.login,
                "broadcaster_name": other.display_name,
                "followed_at": FOLLOWED_AT,
            }
            for other in map(self.find, user.follows)
            if other is not None
        ]


def load_records(path: str | None = None) -> list[dict]:
    """Read a roster file, or the default one shipped with the package."""
    try:
        if path is None:
            text = resources.files(__package__).joinpath("roster.json").read_text()
        else:
            text = Path(path).read_text()
        records = json.loads(text)
    except (OSError, ValueError) as exc:
        raise RosterError(f"cannot read roster {path or 'roster.json'}: {exc}") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise RosterError("a roster is a JSON list of user objects")
    Roster(records)
    return records


def _user(record: dict) -> User:
    login = str(record.get("login") or "").lower()
    if not login:
        raise RosterError(f"roster entry without a login: {record}")
    follows = record.get("follows") or []
    if not isinstance(follows, list):
        raise RosterError(f"follows of {login} must be a list of logins")
    return User(
        id=str(record.get("id") or broadcaster_id_for(login)),
        login=login,
        display_name=str(record.get("display_name") or login),
        title=str(record.get("title") or ""),
        category_name=str(record.get("category_name") or ""),
        language=str(record.get("language") or "en"),
        follows=[str(other).lower() for other in follows],
        live=bool(record.get("live", False)),
    )
