"""The viewer's moments (issue 8, items 5 to 8 and the page's side of 1 and 2), in headless
Chromium: the tab's title and go-live notifications, the newest event on the first screen
of a desktop and of a phone, what the streamer box accepts, a deep link kept through the
login, one consistent state after a revocation, 127.0.0.1 sent to PUBLIC_URL's host, and
the follows list kept up to date by push on the page's one Pusher connection.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from shared.events import channel_name
from shared.leases import new_lease, save_lease
from tests.e2e.full_stack import stack_pusher, twitch_control, watch_streamer
from tests.e2e.pages import (
    EVENT_DEADLINE_MS,
    connected,
    ended,
    feed,
    follow,
    left_channel,
    log_in,
    occupied,
    open_watch_page,
    page_wait_until,
    publish,
    updated,
    went_live,
)
from tests.support import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
APP = "Streamer Event Viewer"
NAME_RULE = "a Twitch name is 4 to 25 letters, digits or underscores"
NOT_A_CHANNEL = (
    "that link is not a Twitch channel; paste one like https://www.twitch.tv/name, or type the name"
)
# Records what the page asks of the Notification API, before any of its code runs.
NOTIFICATION_SPY = """
(() => {
  if (!('Notification' in window)) return
  const Real = window.Notification
  const spy = { asked: 0, shown: [] }
  window.__notifications = spy
  const ask = Real.requestPermission.bind(Real)
  Real.requestPermission = (...args) => { spy.asked += 1; return ask(...args) }
  window.Notification = new Proxy(Real, {
    construct(target, args) {
      spy.shown.push({ title: args[0], body: (args[1] || {}).body })
      return Reflect.construct(target, args)
    },
  })
})()
"""


def at_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def set_visibility(page, state: str) -> None:
    """Make the page see its tab as ``hidden`` or ``visible``, as switching tabs does."""
    page.evaluate(
        """(state) => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state })
        Object.defineProperty(document, 'hidden',
                              { configurable: true, get: () => state === 'hidden' })
        document.dispatchEvent(new Event('visibilitychange'))
    }""",
        state,
    )


def go_live(pusher_client, title: str = "Speedrun night", category: str = "Celeste") -> dict:
    """Cool_User goes live with ``title`` and ``category``, as the worker publishes it."""
    return publish(
        pusher_client, went_live("cool_user", "Cool_User", title, category, started_at=at_now())
    )


# Item 5: going live is easy to miss.


def test_tab_title_marks_live_and_counts_events_that_arrive_unseen(
    open_page, app_url, pusher_client
):
    page, log = open_page()
    open_watch_page(page, app_url)
    expect(page).to_have_title(f"Cool_User — {APP}")
    live_event = go_live(pusher_client)
    expect(page).to_have_title(f"● LIVE · Cool_User — {APP}", timeout=EVENT_DEADLINE_MS)

    set_visibility(page, "hidden")
    update = publish(pusher_client, updated("cool_user", "Cool_User", "Finals", "Chess"))
    expect(page).to_have_title(f"(1) ● LIVE · Cool_User — {APP}", timeout=EVENT_DEADLINE_MS)
    pusher_client.trigger(channel_name("cool_user"), "my-event", {"message": "from the dashboard"})
    expect(page).to_have_title(f"(2) ● LIVE · Cool_User — {APP}", timeout=EVENT_DEADLINE_MS)
    # A repeat is no new event.
    publish(pusher_client, live_event)
    publish(pusher_client, update)
    page.wait_for_timeout(500)
    expect(page).to_have_title(f"(2) ● LIVE · Cool_User — {APP}")

    set_visibility(page, "visible")
    expect(page).to_have_title(f"● LIVE · Cool_User — {APP}")
    publish(pusher_client, ended("cool_user", "Cool_User"))
    expect(page).to_have_title(f"Cool_User — {APP}", timeout=EVENT_DEADLINE_MS)
    page.get_by_label("Streamer").fill("speedy_sam")
    page.get_by_role("button", name="Stream").click()
    expect(page).to_have_title(f"● LIVE · SpeedySam — {APP}")
    log.assert_clean()


# Notify me is the page's own notification, for a server that sends no go-live alerts by
# Web Push (where it does, their bell takes its place: test_alerts.py).
@pytest.mark.parametrize("app_url", [{"web_push": False}], indirect=True, ids=["no-web-push"])
def test_go_live_notification_is_asked_for_on_a_click_never_on_load(
    open_page, app_url, pusher_client
):
    page, log = open_page()
    page.context.add_init_script(NOTIFICATION_SPY)
    open_watch_page(page, app_url)
    button = page.get_by_test_id("notify")
    expect(button).to_have_text(re.compile("Notify me"))
    expect(button).to_have_attribute("aria-pressed", "false")
    assert page.evaluate("Notification.permission") == "default"
    go_live(pusher_client, title="Unnoticed")
    expect(page.get_by_test_id("live-badge")).to_have_text("LIVE", timeout=EVENT_DEADLINE_MS)
    page.wait_for_timeout(300)
    assert page.evaluate("window.__notifications") == {"asked": 0, "shown": []}

    # The viewer clicks, the browser asks, the viewer allows.
    page.context.grant_permissions(["notifications"], origin=app_url)
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_have_text(re.compile("Notifying"))
    assert page.evaluate("window.__notifications.asked") == 1

    publish(pusher_client, ended("cool_user", "Cool_User"))
    expect(page.get_by_test_id("live-badge")).to_have_text("Offline", timeout=EVENT_DEADLINE_MS)
    set_visibility(page, "hidden")
    go_live(pusher_client, title="Back on air")
    wait_until(
        lambda: page.evaluate("window.__notifications.shown.length") == 1,
        timeout=5,
        message="no notification for the go-live",
    )
    assert page.evaluate("window.__notifications.shown") == [
        {"title": "Cool_User is live", "body": "Back on air"}
    ]

    # Another visit: still on, and nothing asked.
    page.reload()
    connected(page, "cool_user")
    expect(page.get_by_test_id("notify")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.__notifications.asked") == 0
    log.assert_clean()


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (360, 740)])
def test_the_newest_event_is_on_the_first_screen(
    open_page, app_url, pusher_client, artifacts, width, height
):
    page, log = open_page(width, height)
    open_watch_page(page, app_url)
    expect(follow(page, "speedy_sam")).to_be_visible()
    for n in range(3):
        publish(pusher_client, updated("cool_user", "Cool_User", f"Warm-up {n}", "Chess"))
    expect(feed(page)).to_have_count(3, timeout=EVENT_DEADLINE_MS)
    go_live(pusher_client, title="Best Stream Ever", category="Fortnite")
    newest = page.get_by_test_id("feed").locator("li").first
    expect(newest).to_contain_text(
        "Cool_User went live: Best Stream Ever (Fortnite)", timeout=EVENT_DEADLINE_MS
    )
    assert page.evaluate("window.scrollY") == 0
    box = newest.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, (box, height)
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, (box, width)
    badge = page.get_by_test_id("live-badge").bounding_box()
    assert badge["y"] + badge["height"] <= height
    video = page.get_by_test_id("video").bounding_box()
    chat = page.get_by_test_id("chat-box").bounding_box()
    follows = page.get_by_test_id("follows").bounding_box()
    if width >= 992:
        # Beside the player, above the chat; the follows under the player.
        assert box["x"] >= video["x"] + video["width"], (box, video)
        assert box["y"] < video["y"] + video["height"]
        assert chat["y"] > box["y"]
        assert follows["y"] > video["y"] + video["height"], (video, follows)
    else:
        # One column: player, feed, the chat behind its button, follows.
        assert video["y"] < box["y"] < chat["y"] < follows["y"], (video, box, chat, follows)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    name = f"watch-first-screen-{width}x{height}.png"
    page.screenshot(path=str(artifacts / name))
    log.assert_clean()


# Item 6: accept what viewers paste and keep their place.


def test_the_streamer_box_takes_links_and_at_names_as_pasted(open_page, app_url):
    page, log = open_page()
    log_in(page, app_url)
    box = page.get_by_label("Streamer")
    assert box.get_attribute("maxlength") is None
    stream = page.get_by_role("button", name="Stream")
    link = "https://www.twitch.tv/speedy_sam?referrer=raid#chat-" + "x" * 60
    box.fill(link)
    expect(box).to_have_value(link)
    stream.click()
    page.wait_for_url(app_url + "/watch/speedy_sam")
    expect(page.get_by_test_id("streamer-name")).to_have_text("SpeedySam")
    expect(box).to_have_value("speedy_sam")

    box.fill("  @Cool_User  ")
    page.keyboard.press("Enter")
    page.wait_for_url(app_url + "/watch/cool_user")
    expect(page.get_by_test_id("streamer-name")).to_have_text("Cool_User")

    box.fill("twitch.tv/chill_chess/videos")
    stream.click()
    page.wait_for_url(app_url + "/watch/chill_chess")
    expect(page.get_by_test_id("streamer-name")).to_have_text("ChillChess")

    for pasted, reason in (
        ("https://clips.twitch.tv/SomeClip", NOT_A_CHANNEL),
        ("@ab", NAME_RULE),
        ("speedy sam", NAME_RULE),
    ):
        box.fill(pasted)
        stream.click()
        expect(page.get_by_role("alert")).to_have_text(reason)
        expect(box).to_have_value(pasted)
        assert page.url == app_url + "/watch/chill_chess"
        expect(page.get_by_test_id("streamer-name")).to_have_text("ChillChess")
    log.assert_clean()


def test_a_deep_link_opened_logged_out_lands_there_after_login(open_page, app_url):
    page, log = open_page()
    page.goto(app_url + "/watch/speedy_sam")
    page.wait_for_url(re.compile(r"/\?message=login&next="))
    expect(page.get_by_role("status")).to_have_text("Please log in with Twitch first.")
    page.get_by_role("link", name="Log in with Twitch").click()
    page.locator('a[data-login="viewer_vic"]').click()
    page.wait_for_url(app_url + "/watch/speedy_sam")
    expect(page.get_by_test_id("streamer-name")).to_have_text("SpeedySam")
    connected(page, "speedy_sam")
    log.assert_clean()


def test_an_unknown_streamer_keeps_its_name_in_the_box(open_page, app_url):
    page, log = open_page()
    log_in(page, app_url)
    page.goto(app_url + "/watch/nobody_here")
    expect(page.get_by_role("alert")).to_have_text("no Twitch channel named nobody_here")
    expect(page.get_by_label("Streamer")).to_have_value("nobody_here")
    expect(page.get_by_test_id("welcome")).to_be_visible()
    log.errors = [e for e in log.errors if "status of 404" not in e]
    log.assert_clean()


# Item 7: signals that disagree.


def test_after_a_revocation_the_page_shows_one_state_and_stream_retries_visibly(
    open_page, app_url, pusher_client, artifacts
):
    page, log = open_page()
    open_watch_page(page, app_url)
    badge = page.get_by_test_id("live-badge")
    indicator = page.get_by_test_id("connection")
    go_live(pusher_client)
    expect(badge).to_have_text("LIVE", timeout=EVENT_DEADLINE_MS)

    publish(
        pusher_client,
        {
            "id": f"unavailable-{uuid.uuid4()}",
            "type": "streamer.unavailable",
            "broadcaster": {"id": "1", "login": "cool_user", "name": "Cool_User"},
            "occurred_at": at_now(),
            "reason": "authorization_revoked",
            "message": "Cool_User can no longer be followed here",
        },
    )
    expect(feed(page).first).to_have_text(
        "Cool_User can no longer be followed here", timeout=EVENT_DEADLINE_MS
    )
    expect(badge).to_have_text("Unavailable")
    expect(indicator).to_have_text("Events stopped")
    expect(page.get_by_test_id("status-details")).not_to_contain_text("live for")
    notice = page.get_by_test_id("unavailable")
    expect(notice).to_contain_text("no longer sends this streamer's events")
    expect(page).to_have_title(f"Cool_User — {APP}")
    assert "LIVE" not in page.locator("main").inner_text()

    # Stream again: the notice stays, saying it is asking, until the server answers.
    held = []
    page.route("**/api/watch", lambda route: held.append(route))
    page.get_by_role("button", name="Stream").click()
    expect(page.get_by_test_id("retrying")).to_have_text("Asking Twitch again…")
    wait_until(
        lambda: held or page.wait_for_timeout(50), timeout=5, message="the page did not ask again"
    )
    page.wait_for_timeout(300)
    expect(notice).to_be_visible()
    expect(badge).to_have_text("Unavailable")
    expect(page.get_by_role("button", name="Stream")).to_be_disabled()
    page.screenshot(path=str(artifacts / "watch-unavailable-retrying.png"))
    held[0].fulfill(
        status=503,
        content_type="application/json",
        body=json.dumps({"error": "Twitch is not answering right now; try again shortly"}),
    )
    expect(page.get_by_role("alert")).to_have_text(
        "Twitch is not answering right now; try again shortly"
    )
    expect(notice).to_contain_text("Press Stream to ask again.")
    expect(badge).to_have_text("Unavailable")

    # This time the server answers: it holds the streamer's events again.
    page.unroute("**/api/watch")
    page.get_by_role("button", name="Stream").click()
    expect(notice).to_have_count(0)
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(indicator).to_have_text("Connected")
    expect(badge).not_to_have_text("Unavailable")
    expect(feed(page).first).to_have_text("Cool_User can no longer be followed here")
    log.errors = [e for e in log.errors if "status of 503" not in e]
    log.assert_clean()


# Item 8: opening http://127.0.0.1:<port> ends the login with "not started here".


def test_the_ip_address_is_sent_to_public_urls_host_and_the_login_works(open_page, app_url):
    page, log = open_page()
    port = urlsplit(app_url).port
    page.goto(f"http://127.0.0.1:{port}/watch/cool_user?from=ip")
    page.wait_for_url(re.compile(rf"^http://localhost:{port}/\?message=login"))
    page.get_by_role("link", name="Log in with Twitch").click()
    page.locator('a[data-login="viewer_vic"]').click()
    page.wait_for_url(f"{app_url}/watch/cool_user?from=ip")
    expect(page.get_by_test_id("streamer-name")).to_have_text("Cool_User")
    log.assert_clean()


# Items 1 and 2, the page's side: refresh really refreshes, follows update by push.


def test_watched_follows_update_the_list_by_push_on_the_one_connection(
    open_page, app_url, pusher_client, redis_client
):
    page, log = open_page()
    asked = []
    # The app holds both follows' events (someone else watches them): the page may listen.
    for broadcaster_id, login in (("122699689", "speedy_sam"), ("197110752", "chill_chess")):
        save_lease(redis_client, new_lease({"id": broadcaster_id, "login": login}))

    def follows_answer(route):
        asked.append(route.request.url)
        route.continue_()

    page.route(re.compile(r"/api/follows/live"), follows_answer)
    log_in(page, app_url)
    expect(follow(page, "speedy_sam")).to_be_visible()
    expect(follow(page, "chill_chess")).to_be_visible()
    page_wait_until(
        page,
        lambda: all(occupied(pusher_client, name) for name in ("speedy_sam", "chill_chess")),
        timeout=10,
        message="the page did not subscribe to its watched follows",
    )
    assert [urlsplit(url).query for url in asked] == [""]

    publish(pusher_client, updated("chill_chess", "ChillChess", "Endgames only", "Chess"))
    expect(follow(page, "chill_chess").get_by_test_id("follow-title")).to_have_text(
        "Endgames only", timeout=EVENT_DEADLINE_MS
    )
    publish(pusher_client, ended("speedy_sam", "SpeedySam"))
    expect(follow(page, "speedy_sam")).to_have_count(0, timeout=EVENT_DEADLINE_MS)
    publish(
        pusher_client,
        went_live("speedy_sam", "SpeedySam", "Back again", "Celeste", started_at=at_now()),
    )
    expect(follow(page, "speedy_sam").get_by_test_id("follow-title")).to_have_text(
        "Back again", timeout=EVENT_DEADLINE_MS
    )

    # The followed channel watched here: its card and the status line agree.
    follow(page, "chill_chess").click()
    connected(page, "chill_chess")
    publish(pusher_client, updated("chill_chess", "ChillChess", "Bullet", "Chess"))
    expect(page.get_by_test_id("status-title")).to_have_text("Bullet", timeout=EVENT_DEADLINE_MS)
    expect(follow(page, "chill_chess").get_by_test_id("follow-title")).to_have_text("Bullet")

    page.get_by_role("button", name="Refresh").click()
    wait_until(
        lambda: len(asked) == 2 or page.wait_for_timeout(50),
        timeout=5,
        message="Refresh did not ask the server",
    )
    assert urlsplit(asked[1]).query == "refresh=1"
    expect(follow(page, "speedy_sam")).to_be_visible()
    page.wait_for_timeout(1000)
    assert len(asked) == 2, f"the follows were polled: {asked}"
    assert len(log.sockets) == 1, log.sockets
    log.assert_clean()


@pytest.mark.timeout(180)
def test_a_followed_channel_the_app_watches_updates_the_list_through_the_pipeline(stack, open_page):
    """The whole product: Twitch's go-offline and go-live of a followed channel whose events
    the app holds reach the follows list as they happen."""
    page, log = open_page()
    watch_streamer(page, stack, "speedy_sam")
    page.get_by_label("Streamer").fill("cool_user")
    page.get_by_role("button", name="Stream").click()
    connected(page, "cool_user")
    channels = stack_pusher(stack)
    left_channel(page, channels, "speedy_sam")

    with page.expect_response(re.compile(r"/api/follows/live")) as refreshed:
        page.get_by_role("button", name="Refresh").click()
    assert urlsplit(refreshed.value.url).query == "refresh=1"
    cards = {card["login"]: card for card in refreshed.value.json()["data"]}
    assert cards["speedy_sam"]["watched"] is True, cards
    page_wait_until(
        page,
        lambda: occupied(channels, "speedy_sam"),
        timeout=10,
        message="the page did not listen to the watched follow's channel",
    )

    twitch_control(stack, "go-offline", login="speedy_sam")
    expect(follow(page, "speedy_sam")).to_have_count(0, timeout=5000)
    twitch_control(
        stack, "go-live", login="speedy_sam", title="Back with a new run", category="Celeste"
    )
    expect(follow(page, "speedy_sam").get_by_test_id("follow-title")).to_have_text(
        "Back with a new run", timeout=5000
    )
    expect(follow(page, "speedy_sam").get_by_test_id("follow-category")).to_have_text("Celeste")
    assert len(log.sockets) == 1, log.sockets
    log.assert_clean()
