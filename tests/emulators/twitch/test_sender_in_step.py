"""The EventSub sender keeps a running Twitch emulator in step: one state for both tools."""

from __future__ import annotations

import pytest

from emulators.eventsub.__main__ import main as send

from .support import COOL_ID, SECRET

pytestmark = pytest.mark.timeout(60)


def trigger(twitch, callback, *args: str) -> int:
    """The sender's ``trigger ARGS`` to ``callback``, in step with ``twitch``."""
    return send(
        ["trigger", *args, "--to", callback.url, "--secret", SECRET, "--twitch", twitch.url]
    )


def cool_user(twitch) -> dict:
    return next(user for user in twitch.state()["users"] if user["login"] == "cool_user")


def test_after_the_sender_reports_a_go_live_the_controls_end_it(
    twitch, app_token, callback, subscribed, capsys
):
    command = ("stream.online", "--login", "cool_user", "--title", "Sent", "--category", "Chess")
    assert trigger(twitch, callback, *command) == 0
    sent_online = callback.eventsub("notification", "stream.online")[0].json()["event"]
    assert cool_user(twitch) | {"stream_id": ""} == {
        "login": "cool_user",
        "id": COOL_ID,
        "live": True,
        "title": "Sent",
        "category": "Chess",
        "stream_id": "",
    }
    [stream] = twitch.helix("GET", "/streams", app_token, params={"user_id": COOL_ID}).json()[
        "data"
    ]
    assert stream["id"] == cool_user(twitch)["stream_id"] == sent_online["id"]
    assert sent_online["started_at"].startswith(stream["started_at"][:19])
    assert "Twitch emulator: cool_user is live" in capsys.readouterr().out

    twitch.control("go-offline", login="cool_user")
    [offline] = callback.wait_eventsub("notification", "stream.offline")
    assert offline.json()["subscription"]["id"] == subscribed["stream.offline"]
    # What the sender sent reached the callback only once: the emulator sent nothing itself.
    assert len(callback.eventsub("notification", "stream.online")) == 1


def test_the_sender_ends_a_stream_the_controls_started(twitch, callback):
    twitch.control("go-live", login="cool_user")
    assert trigger(twitch, callback, "stream.offline", "--login", "cool_user") == 0
    assert cool_user(twitch)["live"] is False
    twitch.control("go-live", login="cool_user")


def test_a_channel_the_emulator_does_not_know_leaves_its_state_alone(twitch, callback, capsys):
    assert trigger(twitch, callback, "stream.online", "--login", "nobody_here") == 0
    assert "Twitch emulator: no user with login 'nobody_here'; its state" in capsys.readouterr().out
    other_id = ("stream.online", "--login", "cool_user", "--broadcaster-id", "42")
    assert trigger(twitch, callback, *other_id) == 0
    assert "cool_user has the id 958187706 here, not 42" in capsys.readouterr().out
    assert cool_user(twitch)["live"] is False


def test_no_emulator_running_is_said_and_the_send_still_succeeds(callback, capsys):
    unused = "http://127.0.0.1:9"
    args = ["trigger", "stream.offline", "--login", "cool_user", "--to", callback.url]
    assert send([*args, "--twitch", unused]) == 0
    assert f"none answers at {unused}" in capsys.readouterr().out
    assert send([*args, "--no-twitch"]) == 0
    assert "Twitch emulator" not in capsys.readouterr().out
