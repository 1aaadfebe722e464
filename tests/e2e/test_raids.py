"""Raids in headless Chromium against the whole product: Twitch's channel.raid reaches the
watched streamer's feed, "Follow the raid" moves the page to the raided channel as choosing
a streamer does, and with "Follow raids automatically" on the page moves by itself.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.full_stack import stack_pusher, twitch_control, watch_streamer
from tests.e2e.pages import EVENT_DEADLINE_MS, connected, left_channel

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
RAID_MESSAGE = "Cool_User is raiding Night_Owl with 1,234 viewers"


def raid_item(page):
    return page.get_by_test_id("feed").locator('li[data-type="channel.raid"]')


def raid_night_owl(stack) -> None:
    twitch_control(stack, "raid", **{"from": "cool_user", "to": "night_owl", "viewers": 1234})


def on_night_owl(page, stack, log) -> None:
    """The page watches night_owl, exactly as if the viewer had chosen it, on its one
    Pusher connection, and has left cool_user's channel."""
    connected(page, "night_owl")
    expect(page).to_have_url(f"http://localhost:{stack.web_port}/watch/night_owl")
    expect(page.get_by_test_id("streamer-name")).to_have_text("Night_Owl")
    expect(page.get_by_label("Streamer")).to_have_value("night_owl")
    left_channel(page, stack_pusher(stack), "cool_user")
    assert len(log.sockets) == 1, log.sockets


def test_a_raid_in_the_feed_is_followed_with_one_click(stack, open_page, artifacts):
    page, log = open_page(360, 800)
    watch_streamer(page, stack, "cool_user")
    expect(page.get_by_role("switch", name="Follow raids automatically")).not_to_be_checked()

    raid_night_owl(stack)

    item = raid_item(page)
    expect(item.get_by_test_id("message")).to_have_text(RAID_MESSAGE, timeout=EVENT_DEADLINE_MS)
    expect(item).to_contain_text("Raid")
    button = item.get_by_role("button", name="Follow the raid to Night_Owl")
    expect(button).to_have_text("Follow the raid")
    item.scroll_into_view_if_needed()
    item.screenshot(path=str(artifacts / "raid-feed-item-360.png"))
    page.locator("section", has=page.get_by_test_id("feed")).screenshot(
        path=str(artifacts / "raid-feed-360.png")
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "wider than a phone"
    expect(page.get_by_test_id("streamer-name")).to_have_text("Cool_User")
    assert page.url.endswith("/watch/cool_user"), "the page moved without being asked"

    with page.expect_response(re.compile(r"/api/watch$")) as asked:
        button.click()
    assert asked.value.request.post_data_json == {"streamer": "night_owl"}
    on_night_owl(page, stack, log)
    page.go_back()
    connected(page, "cool_user")
    log.assert_clean()


def test_with_follow_raids_on_a_raid_moves_the_page_by_itself(stack, open_page):
    page, log = open_page()
    watch_streamer(page, stack, "cool_user")
    switch = page.get_by_role("switch", name="Follow raids automatically")
    expect(switch).to_be_enabled()
    with page.expect_response(re.compile(r"/api/preferences$")) as saved:
        switch.check()
    assert saved.value.request.method == "PUT"
    assert saved.value.json() == {"follow_raids": True}
    expect(switch).to_be_enabled()

    raid_night_owl(stack)

    on_night_owl(page, stack, log)
    expect(raid_item(page)).to_have_count(0)
    expect(page.get_by_role("switch", name="Follow raids automatically")).to_be_checked()
    page.reload()
    connected(page, "night_owl")
    expect(page.get_by_role("switch", name="Follow raids automatically")).to_be_checked()
    log.assert_clean()
