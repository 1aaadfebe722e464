"""Delivery faults seen from the browser, with the whole product running.

A publish that times out is tried again with the same event id, so Pusher may
broadcast an event twice (the first request was only slow, not lost); the page
shows it once.
"""

from __future__ import annotations

import os
import signal

import pytest
from playwright.sync_api import expect

import shared.publisher
from tests.e2e.full_stack import ChannelListener, twitch_control, watch_streamer
from tests.e2e.pages import feed
from tests.support import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

# The worker gives up on a Pusher request after this many seconds (and tries again).
PUBLISH_TIMEOUT = getattr(shared.publisher, "PUBLISH_TIMEOUT", 5)
TITLE = "Published twice, shown once"
MESSAGE = f"Cool_User updated the stream: {TITLE} (Celeste)"


@pytest.fixture
def listener(stack):
    listening = ChannelListener(stack, "cool_user")
    yield listening
    listening.stop()


def test_a_publish_repeated_after_a_time_out_shows_once(stack, open_page, listener, artifacts):
    page, log = open_page()
    frames = []  # what the page's Pusher socket received
    page.on(
        "websocket", lambda socket: socket.on("framereceived", lambda frame: frames.append(frame))
    )
    watch_streamer(page, stack, "cool_user")
    pusher = stack.process("pusher").popen
    worker_log_before = len(stack.process("worker-1").log())

    def worker_log() -> str:
        return stack.process("worker-1").log()[worker_log_before:]

    # Frozen until the worker has given up on its first attempt: Pusher then wakes up,
    # handles that request late, and the retry too.
    os.kill(pusher.pid, signal.SIGSTOP)
    try:
        twitch_control(stack, "update", login="cool_user", title=TITLE, category="Celeste")
        wait_until(
            lambda: "timed out" in worker_log(),
            timeout=PUBLISH_TIMEOUT + 15,
            interval=0.1,
            message=f"the worker never logged a publish time-out:\n{worker_log()}",
        )
    finally:
        os.kill(pusher.pid, signal.SIGCONT)

    def copies():
        return listener.received(lambda name, event: event.get("title") == TITLE)

    # Two broadcasts of the one event, with one id.
    wait_until(
        lambda: len(copies()) >= 2,
        timeout=PUBLISH_TIMEOUT + 20,
        message=f"Pusher did not broadcast the event twice: {copies()}; worker log:\n"
        f"{worker_log()}",
    )
    assert {event["id"] for _, event in copies()} == {copies()[0][1]["id"]}, copies()
    assert {name for name, _ in copies()} == {"channel.update"}

    expect(feed(page).first).to_have_text(MESSAGE, timeout=10_000)
    expect(page.get_by_test_id("status-title")).to_have_text(TITLE)
    # The page's socket got both copies too, and the feed lists the event once.
    wait_until(
        lambda: sum(TITLE in str(frame) for frame in frames) >= 2,
        timeout=10,
        message="the page's socket did not receive the event twice",
    )
    page.wait_for_timeout(200)
    expect(feed(page).filter(has_text=MESSAGE)).to_have_count(1)
    expect(feed(page)).to_have_count(1)
    page.screenshot(path=str(artifacts / "watch-publish-repeated.png"), full_page=True)
    log.assert_clean()
