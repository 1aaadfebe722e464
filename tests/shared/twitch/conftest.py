"""Fixtures of the Twitch package's tests: Twitch clients whose pauses are recorded, the
scripted stand-in for Twitch and a callback server that passes Twitch's verification."""

from __future__ import annotations

import time

import pytest

from shared.twitch.client import TwitchClient
from tests.shared.twitch.support import Server, StandIn, echo_challenges


@pytest.fixture
def pauses():
    """The pauses (seconds) the test's clients asked for, in order."""
    return []


@pytest.fixture
def clients(redis_client, pauses):
    """Build clients that are closed after the test. Their pauses (backoff, rate limit)
    are recorded in ``pauses`` and not slept, unless built with ``sleep=True`` (for a
    server whose clock must really move on)."""
    made = []

    def build(settings, sleep=False):
        def pause(seconds):
            pauses.append(seconds)
            if sleep:
                time.sleep(seconds)

        client = TwitchClient(settings, redis_client, pause=pause)
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


@pytest.fixture
def client(clients, twitch_settings):
    """A client of the session's emulator."""
    return clients(twitch_settings)


@pytest.fixture
def stand_in():
    """The scripted stand-in for Twitch, closed after the test."""
    server = StandIn()
    yield server
    server.server.close()


@pytest.fixture
def callback_server():
    """A callback that passes Twitch's verification, closed after the test."""
    server = Server(echo_challenges)
    yield server
    server.close()
