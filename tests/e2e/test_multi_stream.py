"""Several streams at once in headless Chromium against the whole product: a two-stream
deep link plays both players with their own status lines, Twitch's events of both reach
one merged feed with a badge per streamer and a filter, the chat has a tab per streamer,
a stream is added, a raid takes its raider's place, a removed stream's events stop, the
address follows the set through Back, and the page keeps one WebSocket throughout.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shared.events import channel_name
from tests.e2e.full_stack import ChannelListener, subscriptions_enabled, twitch_control
from tests.e2e.pages import (
    EVENT_DEADLINE_MS,
    audited,
    connected,
    ended,
    follow,
    log_in,
    page_wait_until,
    publish,
    went_live,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
APP = "Streamer Event Viewer"
BRAND = "rgb(100, 65, 165)"
PIPELINE_MS = 10_000


def stream(page, login: str):
    """The player and status line of ``login`` on a page playing several streams."""
    return page.get_by_test_id("stream").and_(page.locator(f'[data-login="{login}"]'))


def feed_items(page, login: str | None = None):
    items = page.get_by_test_id("feed").locator("li[data-type]")
    return items.and_(page.locator(f'[data-streamer="{login}"]')) if login else items


def watching_channels(page, *logins: str) -> None:
    """The page is subscribed to exactly these streamers' channels, in this order."""
    indicator = page.get_by_test_id("connection")
    expect(indicator).to_have_attribute(
        "data-channel", " ".join(channel_name(login) for login in logins), timeout=10_000
    )
    expect(indicator).to_have_attribute("data-state", "connected")


def test_two_streams_side_by_side_with_one_feed_and_one_socket(stack, open_page, artifacts):
    page, log = open_page(1280, 900)
    base = f"http://localhost:{stack.web_port}"
    log_in(page, base)
    with page.expect_response(re.compile(r"/api/watch$")) as asked:
        page.goto(base + "/watch/cool_user,speedy_sam")
    assert asked.value.request.post_data_json == {"streamers": ["cool_user", "speedy_sam"]}

    # Both players, each with its own status line, in the order of the address.
    expect(page.get_by_test_id("stream")).to_have_count(2)
    for login, name, badge in (
        ("cool_user", "Cool_User", "Offline"),
        ("speedy_sam", "SpeedySam", "LIVE"),
    ):
        expect(stream(page, login).get_by_test_id("video")).to_have_attribute(
            "src", f"https://player.twitch.tv/?channel={login}&parent=localhost"
        )
        expect(stream(page, login).get_by_test_id("streamer-name")).to_have_text(name)
        expect(stream(page, login).get_by_test_id("live-badge")).to_have_text(badge)
    expect(page.get_by_test_id("stream").first).to_have_attribute("data-login", "cool_user")
    watching_channels(page, "cool_user", "speedy_sam")
    for login in ("cool_user", "speedy_sam"):
        page_wait_until(
            page,
            lambda login=login: subscriptions_enabled(stack, login),
            timeout=30,
            message=f"{login}'s subscriptions were never enabled",
        )

    # One chat, a tab per streamer, only the chosen one's chat loaded.
    tabs = page.get_by_role("tablist").get_by_role("tab")
    expect(tabs).to_have_text(["Cool_User", "SpeedySam"])
    expect(tabs.first).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("chat")).to_have_count(1)
    expect(page.get_by_test_id("chat")).to_have_attribute(
        "src", "https://www.twitch.tv/embed/cool_user/chat?parent=localhost"
    )
    page.get_by_role("tab", name="SpeedySam").click()
    expect(page.get_by_role("tab", name="SpeedySam")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("chat")).to_have_attribute(
        "src", "https://www.twitch.tv/embed/speedy_sam/chat?parent=localhost"
    )
    expect(page.get_by_role("tabpanel")).to_have_accessible_name("SpeedySam")

    # Both streams' events in one feed, each with its streamer's badge.
    twitch_control(stack, "go-live", login="cool_user", title="Two at once", category="Celeste")
    twitch_control(stack, "update", login="speedy_sam", title="Side by side", category="Chess")
    cool_live = feed_items(page, "cool_user").filter(has_text="Cool_User went live")
    expect(cool_live).to_have_count(1, timeout=PIPELINE_MS)
    expect(cool_live.get_by_test_id("event-streamer")).to_have_text("Cool_User")
    sam_update = feed_items(page, "speedy_sam").filter(has_text="SpeedySam updated the stream")
    expect(sam_update).to_have_count(1, timeout=PIPELINE_MS)
    expect(sam_update.get_by_test_id("event-streamer")).to_have_text("SpeedySam")
    expect(stream(page, "cool_user").get_by_test_id("live-badge")).to_have_text("LIVE")
    expect(stream(page, "speedy_sam").get_by_test_id("status-title")).to_have_text("Side by side")
    expect(page).to_have_title(f"● LIVE Cool_User, SpeedySam — {APP}")

    # The filter shows one streamer's events, then all again.
    sam_items = feed_items(page, "speedy_sam").count()
    page.get_by_test_id("feed-filter").get_by_role("button", name="SpeedySam").click()
    expect(
        page.get_by_test_id("feed-filter").get_by_role("button", name="SpeedySam")
    ).to_have_attribute("aria-pressed", "true")
    expect(feed_items(page)).to_have_count(sam_items)
    expect(feed_items(page, "cool_user")).to_have_count(0)
    page.get_by_test_id("feed-filter").get_by_role("button", name="All").click()
    expect(cool_live).to_have_count(1)

    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=str(artifacts / "multi-stream-1280.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 780})
    expect(stream(page, "speedy_sam").get_by_test_id("video")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "wider than a phone"
    boxes = [stream(page, login).bounding_box() for login in ("cool_user", "speedy_sam")]
    assert boxes[0]["y"] + boxes[0]["height"] <= boxes[1]["y"], boxes  # stacked
    page.screenshot(path=str(artifacts / "multi-stream-360.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Remove SpeedySam: one stream again, as the page always shows one.
    listener = ChannelListener(stack, "speedy_sam")
    try:
        page.get_by_role("button", name="Remove SpeedySam").click()
        expect(page).to_have_url(base + "/watch/cool_user")
        expect(page.get_by_test_id("stream")).to_have_count(0)
        expect(page.get_by_test_id("streamer-name")).to_have_text("Cool_User")
        expect(page.get_by_role("heading", level=1)).to_have_text("Cool_User")
        expect(page.get_by_role("tablist")).to_have_count(0)
        watching_channels(page, "cool_user")

        # Its events no longer reach the feed; the other stream's still do.
        twitch_control(stack, "go-offline", login="speedy_sam")
        page_wait_until(
            page,
            lambda: listener.received(lambda name, _: name == "stream.offline"),
            timeout=PIPELINE_MS / 1000,
            message="speedy_sam's go-offline was never sent",
        )
        twitch_control(stack, "go-offline", login="cool_user")
        expect(
            feed_items(page, "cool_user").filter(has_text="Cool_User ended the stream")
        ).to_have_count(1, timeout=PIPELINE_MS)
        page.wait_for_timeout(1000)
        expect(feed_items(page, "speedy_sam")).to_have_count(0)
        expect(page.get_by_test_id("feed")).not_to_contain_text("SpeedySam ended the stream")
        expect(page.get_by_test_id("live-badge")).to_have_text("Offline")
    finally:
        listener.stop()

    # Back restores the pair; Add puts a third beside them (a 2×2 grid).
    page.go_back()
    expect(page).to_have_url(base + "/watch/cool_user,speedy_sam")
    expect(page.get_by_test_id("stream")).to_have_count(2)
    watching_channels(page, "cool_user", "speedy_sam")
    page.get_by_label("Streamer").fill("night_owl")
    with page.expect_response(re.compile(r"/api/watch$")) as added:
        page.get_by_role("button", name="Add", exact=True).click()
    assert added.value.request.post_data_json == {"streamer": "night_owl"}
    expect(page).to_have_url(base + "/watch/cool_user,speedy_sam,night_owl")
    expect(page.get_by_test_id("stream")).to_have_count(3)
    watching_channels(page, "cool_user", "speedy_sam", "night_owl")
    first, third = (stream(page, login).bounding_box() for login in ("cool_user", "night_owl"))
    assert third["y"] > first["y"] and abs(third["x"] - first["x"]) < 2, (first, third)
    page.screenshot(path=str(artifacts / "multi-stream-three-1280.png"), full_page=True)

    # Following a raid puts the raided channel in the raider's place.
    page_wait_until(
        page,
        lambda: subscriptions_enabled(stack, "night_owl"),
        timeout=30,
        message="night_owl's subscriptions were never enabled",
    )
    twitch_control(stack, "raid", **{"from": "night_owl", "to": "chill_chess", "viewers": 12})
    raid = feed_items(page, "night_owl").and_(page.locator('[data-type="channel.raid"]'))
    raid.get_by_role("button", name="Follow the raid to ChillChess").click(timeout=PIPELINE_MS)
    expect(page).to_have_url(base + "/watch/cool_user,speedy_sam,chill_chess")
    expect(stream(page, "chill_chess").get_by_test_id("streamer-name")).to_have_text("ChillChess")
    watching_channels(page, "cool_user", "speedy_sam", "chill_chess")
    expect(feed_items(page, "night_owl")).to_have_count(0)

    assert len(log.sockets) == 1, log.sockets
    log.assert_clean()


def test_a_deep_link_leaves_out_a_refused_name_and_a_bad_list_says_why(open_page, app_url):
    page, log = open_page()
    log_in(page, app_url)
    page.goto(app_url + "/watch/cool_user,nobody_here")
    expect(page.get_by_role("alert")).to_have_text("no Twitch channel named nobody_here")
    expect(page.get_by_test_id("streamer-name")).to_have_text("Cool_User")
    expect(page).to_have_url(app_url + "/watch/cool_user")
    connected(page, "cool_user")

    response = page.goto(app_url + "/watch/cool_user,speedy_sam,night_owl,chill_chess,viewer_vic")
    assert response.status == 404
    expect(page.get_by_role("alert")).to_have_text("at most 4 streams play at once")
    expect(page.get_by_test_id("welcome")).to_be_visible()
    log.errors = [e for e in log.errors if "status of 404" not in e]
    log.assert_clean()


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_the_multi_stream_page_is_accessible_and_its_chat_tabs_follow_the_keys(
    open_checked_page, app_url, pusher_client, artifacts, mode
):
    page, log = open_checked_page(color_scheme=mode)
    log_in(page, app_url)
    page.goto(app_url + "/watch/cool_user,speedy_sam,night_owl")
    watching_channels(page, "cool_user", "speedy_sam", "night_owl")
    # The page's content lines up with the top bar's name; a current follow is the brand's.
    brand = page.locator(".navbar-brand").bounding_box()
    content = page.get_by_label("Streamer").bounding_box()
    assert abs(brand["x"] - content["x"]) <= 1, (brand, content)
    current = follow(page, "speedy_sam")
    expect(current).to_have_attribute("aria-current", "true")
    expect(current).to_have_css("background-color", BRAND)
    for login, name in (("cool_user", "Cool_User"), ("night_owl", "Night_Owl")):
        publish(pusher_client, went_live(login, name, "Together", "Chess"))
    expect(feed_items(page)).to_have_count(2, timeout=EVENT_DEADLINE_MS)
    expect(page).to_have_title(f"● LIVE Cool_User, SpeedySam, Night_Owl — {APP}")
    publish(pusher_client, ended("speedy_sam", "SpeedySam"))
    expect(page).to_have_title(
        f"● LIVE Cool_User, Night_Owl · SpeedySam — {APP}", timeout=EVENT_DEADLINE_MS
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Watching Cool_User, SpeedySam, Night_Owl"
    )
    remove = page.get_by_role("button", name="Remove Night_Owl")
    expect(remove).to_have_text("Remove")
    violations = audited(page)
    assert violations == [], violations
    page.screenshot(path=str(artifacts / f"multi-stream-three-1280-{mode}.png"), full_page=True)

    # The tab list: arrows move the choice (and the focus), Home and End go to the ends.
    first = page.get_by_role("tab", name="Cool_User")
    first.focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="SpeedySam")).to_be_focused()
    expect(page.get_by_role("tab", name="SpeedySam")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("chat")).to_have_attribute(
        "src", re.compile(r"^https://www\.twitch\.tv/embed/speedy_sam/chat\?")
    )
    page.keyboard.press("End")
    expect(page.get_by_role("tab", name="Night_Owl")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(first).to_be_focused()
    expect(first).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tab", selected=False)).to_have_count(2)
    assert [tab.get_attribute("tabindex") for tab in page.get_by_role("tab").all()] == [
        "0",
        "-1",
        "-1",
    ]
    expect(page.get_by_test_id("chat")).to_have_count(1)

    # The keyboard reaches the filter and each Remove, with the site's focus outline.
    page.get_by_test_id("feed-filter").get_by_role("button", name="All").focus()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid", outline
    remove.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(app_url + "/watch/cool_user,speedy_sam")
    expect(page.get_by_test_id("stream")).to_have_count(2)
    log.assert_clean()
