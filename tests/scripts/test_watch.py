"""scripts.watch as a real process against the Pusher emulator."""

import sys

import pusher
import pytest

from scripts.stack import PUSHER_CREDENTIALS, development_environment
from tests.support import Process, free_port, wait_until

pytestmark = pytest.mark.timeout(60)


def test_every_event_on_the_channel_is_printed(tmp_path):
    port = free_port()
    env = development_environment(**PUSHER_CREDENTIALS)
    emulator = Process(
        "pusher",
        [sys.executable, "-m", "emulators.pusher", "--port", str(port)],
        env,
        tmp_path,
        port,
    ).start()
    watcher = Process(
        "watch",
        [sys.executable, "-m", "scripts.watch", "cool_user", "--port", str(port)],
        env,
        tmp_path,
        None,
    ).start()
    try:
        client = pusher.Pusher(
            host="127.0.0.1",
            port=port,
            ssl=False,
            app_id="1",
            key="local-key",
            secret="local-secret",
        )
        wait_until(
            lambda: client.channel_info("private-cool_user")["occupied"],
            timeout=20,
            message=f"the watcher never subscribed:\n{watcher.log()}",
        )
        client.trigger(
            "private-cool_user",
            "streamer.unavailable",
            {
                "message": "Cool_User can no longer be followed here",
                "occurred_at": "2026-01-01T12:00:00Z",
            },
        )
        client.trigger("private-cool_user", "something.new", {"anything": 1})
        wait_until(
            lambda: "something.new" in watcher.log(),
            timeout=10,
            message=f"not every event was printed:\n{watcher.log()}",
        )
        assert "streamer.unavailable  Cool_User can no longer be followed here" in watcher.log()
    finally:
        watcher.stop()
        emulator.stop()
