"""The viewer's page in headless Chromium: login, the embeds, live events, text-only
rendering, switching streamer, errors, logout, and screenshots at two sizes.

Streamers come from the Twitch emulator's roster (see ``tests.e2e.pages``).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from shared.events import channel_name
from shared.store import add_recent_event
from tests.e2e.pages import (
    EVENT_DEADLINE_MS,
    account_menu,
    connected,
    ended,
    event,
    feed,
    follow,
    left_channel,
    log_in,
    occupied,
    open_watch_page,
    publish,
    updated,
    went_live,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
XSS = "<img src=x onerror=alert(1)>"
VIEWERS = re.compile(r"\d[\d,]* viewers")


def test_logged_in_viewer_sees_the_page_and_live_follows(open_page, app_url):
    page, log = open_page()
    log_in(page, app_url)
    expect(page.get_by_test_id("user")).to_have_text("ViewerVic")
    expect(page.get_by_label("Streamer")).to_be_visible()
    expect(page.get_by_role("button", name="Stream")).to_be_visible()
    expect(page.get_by_test_id("welcome")).to_be_visible()
    expect(follow(page, "speedy_sam")).to_contain_text("SpeedySam")
    expect(follow(page, "speedy_sam")).to_contain_text("Super Mario 64")
    expect(follow(page, "speedy_sam")).to_contain_text(VIEWERS)
    expect(follow(page, "chill_chess")).to_contain_text("ChillChess")
    expect(follow(page, "cool_user")).to_have_count(0)
    assert page.locator("iframe").count() == 0
    log.assert_clean()


def test_deep_link_plays_the_embeds_and_shows_events_as_they_happen(
    open_page, app_url, pusher_client, redis_client
):
    earlier = updated("cool_user", "Cool_User", "Best Stream Ever", "Fortnite")
    add_recent_event(redis_client, earlier, 3600)
    page, log = open_page()
    log_in(page, app_url)
    page.goto(app_url + "/watch/cool_user")
    expect(page.get_by_test_id("streamer-name")).to_have_text("Cool_User")
    video = page.get_by_test_id("video")
    chat = page.get_by_test_id("chat")
    expect(video).to_have_attribute(
        "src", "https://player.twitch.tv/?channel=cool_user&parent=localhost"
    )
    expect(chat).to_have_attribute(
        "src", "https://www.twitch.tv/embed/cool_user/chat?parent=localhost"
    )
    box = video.bounding_box()
    assert box["width"] >= 400 and box["height"] >= 300, box
    expect(page.get_by_test_id("live-badge")).to_have_text("Offline")
    expect(page.get_by_test_id("status-title")).to_have_text("Best Stream Ever")
    expect(page.get_by_test_id("status-details")).to_have_text("Fortnite")
    expect(feed(page)).to_have_text([earlier["message"]])
    connected(page, "cool_user")

    message = "Cool_User went live: Speedrun night (Celeste)"
    started = time.monotonic()
    publish(
        pusher_client,
        went_live(
            "cool_user", "Cool_User", "Speedrun night", "Celeste", started_at="2026-11-27T18:00:00Z"
        ),
    )
    expect(feed(page).first).to_have_text(message, timeout=EVENT_DEADLINE_MS)
    assert time.monotonic() - started < EVENT_DEADLINE_MS / 1000
    item = page.get_by_test_id("feed").locator("li").first
    expect(item).to_have_attribute("data-type", "stream.online")
    expect(item.locator(".badge")).to_have_text("Live")
    expect(item.locator("time")).to_have_text(re.compile(r"^\d{2}:\d{2}:\d{2}$"))
    expect(page.get_by_test_id("live-badge")).to_have_text("LIVE")
    expect(page.get_by_test_id("status-title")).to_have_text("Speedrun night")
    expect(page.get_by_test_id("status-details")).to_contain_text("Celeste")
    expect(page.get_by_test_id("status-details")).to_contain_text("live for")

    publish(pusher_client, updated("cool_user", "Cool_User", "Finals", "Chess"))
    expect(page.get_by_test_id("status-title")).to_have_text("Finals", timeout=EVENT_DEADLINE_MS)
    expect(page.get_by_test_id("status-details")).to_contain_text("Chess")
    publish(pusher_client, ended("cool_user", "Cool_User"))
    expect(page.get_by_test_id("live-badge")).to_have_text("Offline", timeout=EVENT_DEADLINE_MS)
    # What Pusher's dashboard sends shows too: any event with a message.
    pusher_client.trigger(
        channel_name("cool_user"), "my-event", {"message": "hello from the dashboard"}
    )
    expect(feed(page).first).to_have_text("hello from the dashboard", timeout=EVENT_DEADLINE_MS)
    pusher_client.trigger(channel_name("cool_user"), "no-message", {"text": "not for the feed"})
    pusher_client.trigger(
        channel_name("cool_user"), "my-event", {"message": "after the one without"}
    )
    expect(feed(page).first).to_have_text("after the one without", timeout=EVENT_DEADLINE_MS)
    expect(feed(page)).to_have_count(6)
    log.assert_clean()


def test_text_from_twitch_is_shown_literally_and_runs_nothing(
    open_page, app_url, pusher_client, redis_client, twitch_emulator
):
    twitch_emulator.control("update", login="speedy_sam", title=XSS, category="Just Chatting")
    add_recent_event(
        redis_client,
        event(
            "channel.update",
            "speedy_sam",
            "SpeedySam",
            f"SpeedySam updated the stream: {XSS} (Just Chatting)",
        ),
        3600,
    )
    page, log = open_page()
    log_in(page, app_url)
    expect(follow(page, "speedy_sam")).to_contain_text(XSS)
    page.get_by_label("Streamer").fill("speedy_sam")
    page.get_by_role("button", name="Stream").click()
    expect(page.get_by_test_id("status-title")).to_have_text(XSS)
    expect(feed(page).first).to_have_text(f"SpeedySam updated the stream: {XSS} (Just Chatting)")
    connected(page, "speedy_sam")
    message = f"SpeedySam updated the stream: {XSS} <script>alert(2)</script>"
    publish(
        pusher_client,
        event(
            "channel.update",
            "speedy_sam",
            "SpeedySam",
            message,
            title=f"{XSS} <b>bold</b>",
            category_name="<i>Chatting</i>",
        ),
    )
    expect(feed(page).first).to_have_text(message, timeout=EVENT_DEADLINE_MS)
    expect(page.get_by_test_id("status-title")).to_have_text(f"{XSS} <b>bold</b>")
    expect(page.get_by_test_id("status-details")).to_contain_text("<i>Chatting</i>")
    page.wait_for_timeout(300)
    assert page.locator('img[src="x"], #app script, #app b, #app i').count() == 0
    log.assert_clean()


def test_switching_streamer_leaves_the_old_channel(open_page, app_url, pusher_client):
    page, log = open_page()
    log_in(page, app_url)
    page.get_by_label("Streamer").fill("cool_user")
    page.keyboard.press("Enter")
    page.wait_for_url(app_url + "/watch/cool_user")
    connected(page, "cool_user")
    assert occupied(pusher_client, "cool_user")

    follow(page, "speedy_sam").click()
    page.wait_for_url(app_url + "/watch/speedy_sam")
    expect(page.get_by_test_id("streamer-name")).to_have_text("SpeedySam")
    expect(page.get_by_test_id("video")).to_have_attribute(
        "src", "https://player.twitch.tv/?channel=speedy_sam&parent=localhost"
    )
    expect(page.get_by_test_id("live-badge")).to_have_text("LIVE")
    expect(page.get_by_test_id("status-details")).to_contain_text(VIEWERS)
    expect(page.get_by_test_id("status-details")).to_contain_text("live for")
    expect(page.get_by_label("Streamer")).to_have_value("speedy_sam")
    expect(follow(page, "speedy_sam")).to_have_attribute("aria-current", "true")
    connected(page, "speedy_sam")
    left_channel(page, pusher_client, "cool_user", timeout=5)
    assert occupied(pusher_client, "speedy_sam")

    publish(
        pusher_client,
        event("channel.update", "cool_user", "Cool_User", "old channel: must not show"),
    )
    publish(pusher_client, event("channel.update", "speedy_sam", "SpeedySam", "new channel: shows"))
    expect(feed(page).first).to_have_text("new channel: shows", timeout=EVENT_DEADLINE_MS)
    page.wait_for_timeout(500)
    expect(feed(page)).to_have_text(["new channel: shows"])
    assert len(log.sockets) == 1, log.sockets

    page.go_back()
    page.wait_for_url(app_url + "/watch/cool_user")
    expect(page.get_by_test_id("streamer-name")).to_have_text("Cool_User")
    assert len(log.sockets) == 1, log.sockets
    log.assert_clean()


def test_bad_names_are_explained_and_keep_the_current_stream(open_page, app_url):
    page, log = open_page()
    log_in(page, app_url)
    page.goto(app_url + "/watch/cool_user")
    expect(page.get_by_test_id("streamer-name")).to_have_text("Cool_User")
    name = page.get_by_label("Streamer")
    name.fill("ab")
    page.get_by_role("button", name="Stream").click()
    expect(page.get_by_role("alert")).to_have_text(
        "a Twitch name is 4 to 25 letters, digits or underscores"
    )
    name.fill("nobody_here")
    page.get_by_role("button", name="Stream").click()
    expect(page.get_by_role("alert")).to_have_text("no Twitch channel named nobody_here")
    expect(page.get_by_test_id("streamer-name")).to_have_text("Cool_User")
    assert page.url == app_url + "/watch/cool_user"
    log.errors = [e for e in log.errors if "status of 400" not in e and "status of 404" not in e]
    log.assert_clean()


TRY_CHANNEL = """async ([port, channel]) => {
  // A socket of its own: join the channel with a made-up signature, then ask the app to sign.
  const socket = new WebSocket(`ws://127.0.0.1:${port}/app/local-key?protocol=7&client=js`)
  const frames = []
  const next = () => new Promise(resolve => {
    socket.onmessage = message => resolve(JSON.parse(message.data))
  })
  const socketId = JSON.parse((await next()).data).socket_id
  socket.send(JSON.stringify({event: 'pusher:subscribe',
                              data: {channel, auth: 'local-key:' + '0'.repeat(64)}}))
  frames.push((await next()).event)
  const answer = await fetch('/api/pusher/auth', {method: 'POST',
    body: new URLSearchParams({socket_id: socketId, channel_name: channel})})
  socket.close()
  return {forged: frames[0], status: answer.status}
}"""


def test_streamer_channels_are_private_and_signed_only_for_what_the_viewer_watches(
    open_page, app_url, pusher_server, pusher_client
):
    page, log = open_page()
    open_watch_page(page, app_url)
    publish(
        pusher_client,
        event("stream.online", "cool_user", "Cool_User", "Cool_User went live: Private (Chess)"),
    )
    expect(feed(page).first).to_have_text(
        "Cool_User went live: Private (Chess)", timeout=EVENT_DEADLINE_MS
    )
    for channel, status in ((channel_name("cool_user"), 200), (channel_name("speedy_sam"), 403)):
        tried = page.evaluate(TRY_CHANNEL, [pusher_server.port, channel])
        assert tried == {"forged": "pusher:error", "status": status}, (channel, tried)
    page_sockets = [url for url in log.sockets if "version=" in url]  # not the test's own
    assert len(page_sockets) == 1, log.sockets
    log.errors = [e for e in log.errors if "status of 403" not in e]
    log.assert_clean()


def test_log_out_ends_the_session(open_page, app_url):
    page, log = open_page()
    log_in(page, app_url)
    account_menu(page).get_by_role("button", name="Log out", exact=True).click()
    page.wait_for_url(app_url + "/?message=logged-out")
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    page.goto(app_url + "/watch/cool_user")
    # Back to the login page, which returns there after the next login.
    page.wait_for_url(
        re.compile(re.escape(app_url) + r"/\?message=login&next=(/|%2F)watch(/|%2F)cool_user$")
    )
    log.assert_clean()


def test_log_out_everywhere_ends_the_viewers_other_browser_too(open_page, app_url):
    desktop, desktop_log = open_page()
    phone, phone_log = open_page(360, 740)
    log_in(desktop, app_url)
    log_in(phone, app_url)
    account_menu(desktop).get_by_role("button", name="Log out everywhere").click()
    desktop.wait_for_url(app_url + "/?message=logged-out-everywhere")
    expect(desktop.get_by_role("status")).to_have_text("You are logged out on every device.")
    phone.goto(app_url + "/watch/cool_user")
    phone.wait_for_url(re.compile(re.escape(app_url) + r"/\?message=(login|ended)&next="))
    desktop_log.assert_clean()
    phone_log.assert_clean()


@pytest.mark.parametrize(
    ("width", "height", "name"), [(1280, 900, "watch.png"), (360, 780, "watch-360.png")]
)
def test_screenshot_of_the_watch_page(
    open_page, app_url, pusher_client, artifacts, width, height, name
):
    page, log = open_page(width, height)
    open_watch_page(page, app_url)
    publish(
        pusher_client,
        went_live(
            "cool_user",
            "Cool_User",
            "Best Stream Ever",
            "Fortnite",
            started_at=datetime.now(UTC).isoformat(),
        ),
    )
    expect(page.get_by_test_id("live-badge")).to_have_text("LIVE", timeout=EVENT_DEADLINE_MS)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(artifacts / name), full_page=True)
    assert (artifacts / name).stat().st_size > 10_000
    log.assert_clean()


def test_connection_indicator_follows_the_pusher_connection(
    open_page, app_url, pusher_client, pusher_server
):
    page, log = open_page()
    open_watch_page(page, app_url)
    indicator = page.get_by_test_id("connection")
    expect(indicator).to_have_text("Connected")
    pusher_server.stop()
    try:
        expect(indicator).to_have_attribute("data-state", "reconnecting")
        expect(indicator).to_have_text("Reconnecting…")
        expect(indicator).to_have_attribute("data-channel", "")
    finally:
        pusher_server.start()
    # Back on the channel without a reload: events arrive again.
    connected(page, "cool_user", timeout=30_000)
    pusher_client.trigger(channel_name("cool_user"), "my-event", {"message": "after the reconnect"})
    expect(feed(page).first).to_have_text("after the reconnect", timeout=EVENT_DEADLINE_MS)
    log.errors = [e for e in log.errors if "WebSocket" not in e]
    log.assert_clean()


BRAND = "rgb(100, 65, 165)"
# Whether the streamer box's placeholder (shown while it is empty) fits its width.
PLACEHOLDER_FITS = """(input) => {
  const style = getComputedStyle(input)
  const context = document.createElement('canvas').getContext('2d')
  context.font = `${style.fontSize} ${style.fontFamily}`
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)
  return context.measureText(input.placeholder).width <= room
}"""


def fully_inside(box: dict, frame: dict) -> bool:
    return (
        box["y"] >= frame["y"] - 0.5
        and box["y"] + box["height"] <= frame["y"] + frame["height"] + 0.5
    )


@pytest.mark.parametrize(("width", "height", "mode"), [(1280, 900, "light"), (360, 800, "dark")])
def test_the_page_gives_the_feed_room_and_reads_right_on_a_phone(
    open_page, app_url, pusher_client, width, height, mode
):
    page, log = open_page(width, height, color_scheme=mode)
    # Twitch's pictures do not load: the status line shows the streamer's initial instead.
    page.route("https://static-cdn.jtvnw.net/**", lambda route: route.abort())
    log_in(page, app_url)
    header = page.locator("header").bounding_box()
    assert header["height"] <= 64, f"the top bar wraps: {header}"
    expect(page.get_by_label("Streamer")).to_have_attribute("placeholder", re.compile("."))
    assert page.get_by_label("Streamer").evaluate(PLACEHOLDER_FITS), "the placeholder is cut"
    expect(page.get_by_test_id("welcome")).not_to_contain_text("beside it")
    page.goto(app_url + "/watch/cool_user")
    connected(page, "cool_user")
    assert page.get_by_label("Streamer").evaluate(PLACEHOLDER_FITS), "cut beside Add"
    expect(page.get_by_test_id("avatar-initial")).to_have_text("C")
    expect(page.get_by_test_id("avatar").locator("img")).to_have_count(0)

    # Five older title changes, then a go-live and its title change: the pair stamped at
    # the same instant arrives update first, an earlier pair (update stamped just before)
    # go-live first. Each go-live reads above its update; the channel has no category.
    moment = datetime.now(UTC)
    stamp = lambda seconds: (moment + timedelta(seconds=seconds)).strftime(  # noqa: E731
        "%Y-%m-%dT%H:%M:%S.%f000Z"
    )
    for n in range(5):
        older = updated("cool_user", "Cool_User", f"Warm-up {n}", "Chess")
        publish(pusher_client, {**older, "occurred_at": stamp(n - 60)})
    pairs = []
    for at, title, update_first in ((-30.00005, "Early", False), (-1, "Best Stream Ever", True)):
        went = went_live("cool_user", "Cool_User", title, "", started_at=stamp(-1))
        went = {**went, "message": f"Cool_User went live: {title}", "occurred_at": stamp(at)}
        change = updated("cool_user", "Cool_User", title, "")
        change = {**change, "message": f"Cool_User updated the stream: {title}"}
        change["occurred_at"] = stamp(at - 0.00005 if not update_first else at)
        for sent in (change, went) if update_first else (went, change):
            publish(pusher_client, sent)
        pairs = [went["message"], change["message"], *pairs]
    expect(feed(page)).to_have_count(9, timeout=EVENT_DEADLINE_MS)
    expect(feed(page)).to_have_text(
        [*pairs, *[f"Cool_User updated the stream: Warm-up {n} (Chess)" for n in range(4, -1, -1)]]
    )
    pusher_client.trigger(
        channel_name("cool_user"),
        "stream.viewers",
        {
            "type": "stream.viewers",
            "id": "viewers-1",
            "occurred_at": stamp(0),
            "viewers": 2707,
            "started_at": stamp(-1),
        },
    )
    details = page.get_by_test_id("status-details")
    expect(details).to_contain_text("2,707 viewers", timeout=EVENT_DEADLINE_MS)
    assert re.fullmatch(r"2,707 viewers · live for under a minute", details.inner_text()), (
        details.inner_text()
    )

    items = page.get_by_test_id("feed").locator("li")
    frame = page.get_by_test_id("feed").bounding_box()
    window = {"y": 0, "height": height}
    in_view = [
        box
        for box in (item.bounding_box() for item in items.all())
        if fully_inside(box, frame) and fully_inside(box, window)
    ]
    chat = page.get_by_test_id("chat")
    if width >= 992:
        assert len(in_view) >= 5, f"{len(in_view)} events in view: {frame}"
        expect(chat).to_be_visible()
        box = chat.bounding_box()
        assert box["y"] + box["height"] <= height, f"the chat runs below the window: {box}"
    else:
        # The chat waits behind a button instead of an empty box at the bottom.
        expect(chat).to_have_count(0)
        toggle = page.get_by_test_id("chat-toggle")
        expect(toggle).to_have_text("Show chat")
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(chat).to_have_attribute(
            "src", re.compile(r"^https://www\.twitch\.tv/embed/cool_user/chat\?")
        )
        toggle.click()
        expect(chat).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    # The account menu says what each button does, and the colour mode has its label.
    menu = account_menu(page)
    expect(menu.get_by_label("Colour mode")).to_be_visible()
    expect(menu.get_by_role("button", name="Log out everywhere")).to_be_visible()
    expect(page.get_by_role("button", name="Everywhere", exact=True)).to_have_count(0)
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(page.get_by_test_id("account")).to_be_focused()
    log.errors = [e for e in log.errors if "ERR_FAILED" not in e]
    log.assert_clean()
