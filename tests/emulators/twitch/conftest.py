"""Fixtures: the Twitch emulator as a real subprocess, callback servers, app and user tokens."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from .support import COOL_ID, Callback, Twitch, run_twitch, wait_until

KINDS = ("stream.online", "stream.offline", "channel.update")


@pytest.fixture(scope="session")
def twitch_process() -> Iterator[Twitch]:
    """One emulator for the session; tests that need other settings start their own."""
    with run_twitch(TWITCH_EMULATOR_FAILURE_THRESHOLD="3") as running:
        yield running


@pytest.fixture
def twitch(twitch_process: Twitch) -> Twitch:
    """The shared emulator, reset to its starting state."""
    twitch_process.control("reset")
    return twitch_process


@pytest.fixture
def twitch_factory() -> Iterator[Callable[..., Twitch]]:
    """Start emulators with their own arguments and environment; all stop after the test."""
    with contextlib.ExitStack() as stack:
        yield lambda *args, **env: stack.enter_context(run_twitch(*args, **env))


@pytest.fixture
def make_callback() -> Iterator[Callable[..., Callback]]:
    """Start callback servers on free ports; all stop after the test."""
    servers: list[Callback] = []

    def make(**options) -> Callback:
        server = Callback(**options)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def callback(make_callback) -> Callback:
    """A callback server that answers challenges correctly."""
    return make_callback()


@pytest.fixture
def app_token(twitch: Twitch) -> str:
    """An app access token of the shared emulator."""
    return twitch.app_token()


@pytest.fixture
def subscribed(twitch, app_token, callback) -> dict[str, str]:
    """The three subscriptions for cool_user, enabled; their ids by type."""
    ids = {
        kind: twitch.subscribe(app_token, kind, COOL_ID, callback.url).json()["data"][0]["id"]
        for kind in KINDS
    }
    wait_until(
        lambda: all(s["status"] == "enabled" for s in twitch.state()["subscriptions"]),
        message="subscriptions to be enabled",
    )
    return ids
