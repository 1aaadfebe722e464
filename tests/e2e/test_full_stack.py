"""The whole product in a browser: the web (Granian), a Celery worker, Redis and both emulators.

A viewer logs in, watches a streamer, and the channel going live *at the Twitch
emulator* reaches the feed through the real path: the signed EventSub webhook,
the queue, the worker and Pusher.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.full_stack import twitch_control, watch_streamer
from tests.e2e.pages import EVENT_DEADLINE_MS, feed

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_going_live_at_twitch_reaches_the_feed(stack, open_page, artifacts):
    page, log = open_page()
    watch_streamer(page, stack, "cool_user")

    started = time.monotonic()
    twitch_control(
        stack, "go-live", login="cool_user", title="Full stack <b>night</b>", category="Celeste"
    )
    # A streamer sets the title, then goes live: Twitch stamps the channel.update first,
    # so the newest-first feed reads "went live" on top of the title change.
    went_live = page.get_by_test_id("feed").locator('li[data-type="stream.online"]')
    expect(went_live.get_by_test_id("message")).to_have_text(
        "Cool_User went live: Full stack <b>night</b> (Celeste)", timeout=EVENT_DEADLINE_MS
    )
    assert time.monotonic() - started < EVENT_DEADLINE_MS / 1000
    expect(feed(page)).to_have_text(
        [
            "Cool_User went live: Full stack <b>night</b> (Celeste)",
            "Cool_User updated the stream: Full stack <b>night</b> (Celeste)",
        ]
    )
    expect(page.get_by_test_id("live-badge")).to_have_text("LIVE")
    page.screenshot(path=str(artifacts / "watch-full-stack.png"), full_page=True)
    log.assert_clean()
