"""The emulator as a process: start-up line, custom roster, clean exit on signals."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from .support import REPO_ROOT, wait_until

pytestmark = pytest.mark.timeout(60)


def test_logs_where_it_listens(twitch_process):
    line = wait_until(
        lambda: "listening on" in twitch_process.log() and twitch_process.log(),
        message="the start-up line",
    )
    assert twitch_process.url in line


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_end_it_cleanly(twitch_factory, sig):
    twitch = twitch_factory()
    twitch.process.send_signal(sig)
    assert twitch.process.wait(10) == 0
    assert "Traceback" not in twitch.log()


def test_roster_file_replaces_the_default(twitch_factory, tmp_path):
    roster = tmp_path / "roster.json"
    roster.write_text(
        json.dumps(
            [
                {
                    "id": "42",
                    "login": "solo_streamer",
                    "display_name": "Solo",
                    "title": "Alone",
                    "category_name": "Art",
                    "live": True,
                    "follows": [],
                },
                {"id": "43", "login": "fan", "display_name": "Fan", "follows": ["solo_streamer"]},
            ]
        )
    )
    twitch = twitch_factory("--roster", str(roster))
    token = twitch.app_token()
    users = twitch.helix(
        "GET", "/users", token, params=[("login", "solo_streamer"), ("login", "cool_user")]
    ).json()
    assert [u["id"] for u in users["data"]] == ["42"]
    [stream] = twitch.helix("GET", "/streams", token).json()["data"]
    assert (stream["user_login"], stream["title"], stream["game_name"]) == (
        "solo_streamer",
        "Alone",
        "Art",
    )
    fan = twitch.user_token("fan")["access_token"]
    followed = twitch.helix("GET", "/channels/followed", fan, params={"user_id": "43"}).json()
    assert [f["broadcaster_id"] for f in followed["data"]] == ["42"]


def test_bad_roster_stops_start_up(tmp_path):
    roster = tmp_path / "roster.json"
    roster.write_text('{"not": "a list"}')
    done = subprocess.run(
        [sys.executable, "-m", "emulators.twitch", "--port", "0", "--roster", str(roster)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "roster" in done.stderr
