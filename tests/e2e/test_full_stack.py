"""The whole product in a browser: the web (Granian), a Celery worker, Redis and both emulators.

A viewer logs in, watches a streamer, and the channel going live *at the Twitch
emulator* reaches the feed through the real path: the signed EventSub webhook,
the queue, the worker and Pusher.
"""

from __future__ import annotations

import time

import pytest
import requests
from playwright.sync_api import expect

from scripts.stack import Stack
from shared.leases import WANTED_SUBSCRIPTIONS, lease_for_login
from tests.e2e.test_watch_page import EVENT_DEADLINE_MS, connected, feed, log_in, page_wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture
def stack(tmp_path, frontend_build):
    running = Stack(tmp_path)
    try:
        running.start_redis()
        running.start_twitch()
        running.start_pusher()
        running.start_web("--workers", "1")
        running.start_worker("--concurrency", "2")
        yield running
    finally:
        running.stop()


def enabled(stack) -> bool:
    lease = lease_for_login(stack.redis(), "cool_user")
    return (
        bool(lease)
        and len(lease["subscriptions"]) == len(WANTED_SUBSCRIPTIONS)
        and all(held["status"] == "enabled" for held in lease["subscriptions"].values())
    )


def test_going_live_at_twitch_reaches_the_feed(stack, open_page, artifacts):
    app_url = f"http://localhost:{stack.web_port}"
    page, log = open_page()
    log_in(page, app_url)
    page.get_by_label("Streamer").fill("cool_user")
    page.get_by_role("button", name="Stream").click()
    connected(page, "cool_user")
    page_wait_until(
        page,
        lambda: enabled(stack),
        timeout=30,
        message="watching never held its enabled subscriptions",
    )

    started = time.monotonic()
    answer = requests.post(
        f"http://127.0.0.1:{stack.twitch_port}/_emulator/go-live",
        json={"login": "cool_user", "title": "Full stack <b>night</b>", "category": "Celeste"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    # The feed is in occurred_at order: the stream started (stream.online's occurred_at is
    # its started_at) just before Twitch sent the channel.update, so "went live" is second.
    went_live = page.get_by_test_id("feed").locator('li[data-type="stream.online"]')
    expect(went_live.get_by_test_id("message")).to_have_text(
        "Cool_User went live: Full stack <b>night</b> (Celeste)", timeout=EVENT_DEADLINE_MS
    )
    assert time.monotonic() - started < EVENT_DEADLINE_MS / 1000
    expect(feed(page)).to_have_text(
        [
            "Cool_User updated the stream: Full stack <b>night</b> (Celeste)",
            "Cool_User went live: Full stack <b>night</b> (Celeste)",
        ]
    )
    expect(page.get_by_test_id("live-badge")).to_have_text("LIVE")
    page.screenshot(path=str(artifacts / "watch-full-stack.png"), full_page=True)
    log.assert_clean()
