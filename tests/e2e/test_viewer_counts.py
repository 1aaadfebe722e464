"""Live viewer counts in headless Chromium against the whole product: a live streamer's
count changes at the Twitch emulator, a refresh round runs on the worker (the task beat
would send), and the status line's count (and the follows list's) changes in place,
without the page asking.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shared.queues import make_celery
from shared.settings import load_settings
from tests.e2e.full_stack import twitch_control, watch_streamer
from tests.e2e.pages import feed, follow

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
LIVE_FOR = re.compile(r"live for (under a minute|\d+ min|\d+ h \d+ min)$")


def refresh_counts(stack) -> None:
    """Send the refresh task to the stack's worker, as beat does on its schedule."""
    celery = make_celery(load_settings(stack.env))
    celery.send_task("viewer_counts.refresh_viewer_counts")


def test_the_status_line_follows_the_streams_viewer_count(stack, open_page):
    page, log = open_page()
    asked = []
    page.on("request", lambda request: "/api/" in request.url and asked.append(request.url))
    watch_streamer(page, stack, "speedy_sam")
    viewers = page.get_by_test_id("viewers")
    expect(viewers).to_contain_text(re.compile(r"\d viewers$"))
    expect(page.get_by_test_id("live-for")).to_have_text(LIVE_FOR)
    expect(page.get_by_test_id("live-for").locator("time")).to_have_attribute(
        "datetime", re.compile(r"^\d{4}-\d{2}-\d{2}T")
    )
    asked_before = len(asked)

    twitch_control(stack, "viewers", login="speedy_sam", viewers=123456)
    refresh_counts(stack)
    expect(viewers).to_have_text("123,456 viewers", timeout=15_000)

    twitch_control(stack, "viewers", login="speedy_sam", viewers=87)
    refresh_counts(stack)
    expect(viewers).to_have_text("87 viewers", timeout=15_000)
    expect(follow(page, "speedy_sam")).to_contain_text("87 viewers")

    expect(page.get_by_test_id("live-badge")).to_have_text("LIVE")
    expect(page.get_by_test_id("live-for")).to_have_text(LIVE_FOR)
    expect(feed(page)).to_have_count(0)
    assert asked[asked_before:] == [], f"the page asked the server: {asked[asked_before:]}"
    log.assert_clean()
