"""Everything the emulator remembers, in memory, and how to forget it."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from emulators.twitch.config import Config
from emulators.twitch.roster import Roster
from emulators.twitch.tokens import TokenStore


@dataclass
class State:
    """Roster, tokens, EventSub subscriptions, WebSub leases and switches."""

    config: Config
    records: list[dict]
    roster: Roster = field(init=False)
    tokens: TokenStore = field(init=False)
    subscriptions: dict = field(init=False)
    leases: dict = field(init=False)
    fail_deliveries: bool = field(init=False)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Back to the state at start: the roster as loaded, no tokens, no subscriptions."""
        self.roster = Roster(self.records)
        self.tokens = TokenStore(self.config.token_ttl, self.config.app_token_ttl)
        self.subscriptions = {}
        self.leases = {}
        self.fail_deliveries = False


STATE = web.AppKey("state", State)
