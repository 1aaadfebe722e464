"""The emulator as a process: command line, environment, start-up line and signals."""

from __future__ import annotations

import signal

import pytest

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_logs_where_it_listens_and_exits_cleanly(emulator_factory, wait, sig):
    emulator = emulator_factory()
    wait(lambda: f"127.0.0.1:{emulator.port}" in emulator.log(), message="the start-up line")
    assert len([line for line in emulator.log().splitlines() if "listening" in line]) == 1

    emulator.process.send_signal(sig)
    assert emulator.process.wait(10) == 0


def test_address_from_environment_and_app_from_pusher_variables(
    emulator_factory, open_socket, new_channel
):
    emulator = emulator_factory(use_flags=False)
    channel = new_channel()
    sock = open_socket(emulator.ws_url())
    sock.subscribe(channel)
    assert emulator.client().trigger(channel, "hi", "there") == {}
    assert sock.next_event("hi")["data"] == "there"
