"""``python -m emulators.eventsub``: the signed EventSub sender, against a stand-in callback."""

import http.server
import json
import threading
from datetime import timedelta

import pytest

from emulators.eventsub.__main__ import main
from shared.eventsub import MESSAGE_TIMESTAMP, parse_eventsub_timestamp


class Callback(http.server.BaseHTTPRequestHandler):
    """Keeps each body it is sent, and its message timestamp, and answers 204."""

    bodies: list = []
    timestamps: list = []

    def do_POST(self):
        Callback.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        Callback.timestamps.append(self.headers[MESSAGE_TIMESTAMP])
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def callback(monkeypatch):
    # No Twitch emulator that may run on this machine is told of these sends.
    monkeypatch.setenv("TWITCH_EMULATOR_URL", "http://127.0.0.1:9")
    Callback.bodies, Callback.timestamps = [], []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Callback)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/callback"
    server.shutdown()


def test_a_user_the_twitch_emulator_knows_gets_its_display_name_and_id(callback):
    assert main(["trigger", "stream.offline", "--login", "speedy_sam", "--to", callback]) == 0
    [body] = Callback.bodies
    assert body["event"]["broadcaster_user_name"] == "SpeedySam"
    assert body["event"]["broadcaster_user_id"] == "122699689"


def test_an_unknown_user_is_named_by_its_login_unless_a_name_is_given(callback):
    assert main(["trigger", "stream.offline", "--login", "nobody_here", "--to", callback]) == 0
    assert (
        main(
            [
                "trigger",
                "stream.offline",
                "--login",
                "speedy_sam",
                "--name",
                "Sam",
                "--to",
                callback,
            ]
        )
        == 0
    )
    assert [body["event"]["broadcaster_user_name"] for body in Callback.bodies] == [
        "nobody_here",
        "Sam",
    ]


def test_a_raid_names_both_channels_and_its_viewers(callback):
    assert (
        main(
            [
                "trigger",
                "channel.raid",
                "--login",
                "cool_user",
                "--raided",
                "night_owl",
                "--viewers",
                "1234",
                "--to",
                callback,
            ]
        )
        == 0
    )
    [body] = Callback.bodies
    assert body["subscription"]["type"] == "channel.raid"
    assert body["subscription"]["version"] == "1"
    assert body["subscription"]["condition"] == {
        "from_broadcaster_user_id": "958187706",
        "to_broadcaster_user_id": "",
    }
    assert body["event"] == {
        "from_broadcaster_user_id": "958187706",
        "from_broadcaster_user_login": "cool_user",
        "from_broadcaster_user_name": "Cool_User",
        "to_broadcaster_user_id": "517561072",
        "to_broadcaster_user_login": "night_owl",
        "to_broadcaster_user_name": "Night_Owl",
        "viewers": 1234,
    }


def test_a_raid_without_the_raided_channel_is_refused(callback):
    assert main(["trigger", "channel.raid", "--login", "cool_user", "--to", callback]) == 2
    assert Callback.bodies == []


def test_a_go_live_with_a_title_stamps_the_title_change_before_the_stream_starts(callback):
    command = ["trigger", "stream.online", "--login", "cool_user", "--title", "Best Stream Ever"]
    assert main([*command, "--to", callback]) == 0
    update, online = Callback.bodies
    assert (update["subscription"]["type"], online["subscription"]["type"]) == (
        "channel.update",
        "stream.online",
    )
    title_changed, online_sent = map(parse_eventsub_timestamp, Callback.timestamps)
    started = parse_eventsub_timestamp(online["event"]["started_at"])
    # A streamer sets the title, then goes live: the title change first, by a clear gap.
    assert title_changed + timedelta(milliseconds=1) <= started <= online_sent
