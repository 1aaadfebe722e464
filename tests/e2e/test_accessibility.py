"""Accessibility and colour modes in headless Chromium: axe-core on the login and watch
pages in light and dark mode, the colour-mode choice remembered and followed by the chat
embed, keyboard-only use of the watch page, and screenshots of both modes.

axe-core (``frontend/node_modules/axe-core``, a dev dependency) is added to each page as
a Playwright init script, which the browser runs through its DevTools protocol and not
as a page script: the pages' Content-Security-Policy stays in force while axe checks them,
so what axe sees is what viewers get.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from shared.store import add_recent_event
from tests.e2e.pages import (
    EVENT_DEADLINE_MS,
    account_menu,
    audited,
    connected,
    feed,
    log_in,
    publish,
    updated,
    went_live,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
FOCUSED = """() => {
  const backgroundBehind = (element) => {
    for (let at = element.parentElement; at; at = at.parentElement) {
      const colour = getComputedStyle(at).backgroundColor
      if (colour !== 'rgba(0, 0, 0, 0)') return colour
    }
    return getComputedStyle(document.body).backgroundColor
  }
  const element = document.activeElement
  const style = getComputedStyle(element)
  return {tag: element.tagName.toLowerCase(), id: element.id,
          testid: element.dataset.testid || '', login: element.dataset.login || '',
          name: element.getAttribute('aria-label') || element.textContent.trim().slice(0, 40),
          outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth),
          outlineColor: style.outlineColor, background: backgroundBehind(element)}
}"""
# The mode a page first had, and how far it had loaded then (its stylesheets come later).
FIRST_MODE = """new MutationObserver((changes, observer) => {
  observer.disconnect()
  window.firstMode = {mode: document.documentElement.getAttribute('data-bs-theme'),
                      loading: document.readyState === 'loading',
                      stylesheets: document.querySelectorAll('link[rel=stylesheet]').length}
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-bs-theme']})"""
# (system preference, choice picked on the page or None, the mode the pages must show)
MODES = [
    pytest.param("light", None, "light", id="light-from-the-system"),
    pytest.param("dark", None, "dark", id="dark-from-the-system"),
    pytest.param("light", "dark", "dark", id="dark-by-the-toggle"),
    pytest.param("dark", "light", "light", id="light-by-the-toggle"),
]


def mode_of(page) -> str:
    return page.evaluate("document.documentElement.getAttribute('data-bs-theme')")


def watch_with_events(page, app_url, pusher_client, redis_client) -> None:
    """``/watch/cool_user`` with a recent event and two live ones in the feed."""
    add_recent_event(
        redis_client, updated("cool_user", "Cool_User", "Best Stream Ever", "Fortnite"), 3600
    )
    page.goto(app_url + "/watch/cool_user")
    connected(page, "cool_user")
    publish(
        pusher_client,
        went_live(
            "cool_user",
            "Cool_User",
            "Speedrun night",
            "Celeste",
            started_at=datetime.now(UTC).isoformat(),
        ),
    )
    publish(pusher_client, updated("cool_user", "Cool_User", "Finals", "Chess"))
    expect(feed(page)).to_have_count(3, timeout=EVENT_DEADLINE_MS)
    expect(page.get_by_test_id("live-badge")).to_have_text("LIVE")


@pytest.mark.parametrize(("system", "choice", "mode"), MODES)
def test_login_and_watch_pages_have_no_serious_axe_violations(
    open_checked_page, app_url, pusher_client, redis_client, system, choice, mode
):
    page, log = open_checked_page(color_scheme=system)
    page.goto(app_url + "/")
    if choice:
        page.get_by_label("Colour mode").select_option(choice)
    assert mode_of(page) == mode
    login_violations = audited(page)

    log_in(page, app_url)
    watch_with_events(page, app_url, pusher_client, redis_client)
    assert mode_of(page) == mode
    # The account menu open, so that axe checks what is in it too.
    expect(account_menu(page).get_by_label("Colour mode")).to_have_value(choice or "system")
    watch_violations = audited(page)

    assert login_violations == [], json.dumps(login_violations, indent=1)
    assert watch_violations == [], json.dumps(watch_violations, indent=1)
    log.assert_clean()


def test_the_choice_is_remembered_and_the_chat_follows_the_page(open_page, app_url):
    page, log = open_page(color_scheme="light")
    log_in(page, app_url)
    page.goto(app_url + "/watch/cool_user")
    chat = page.get_by_test_id("chat")
    light_chat = "https://www.twitch.tv/embed/cool_user/chat?parent=localhost"
    expect(chat).to_have_attribute("src", light_chat)
    assert mode_of(page) == "light"

    account_menu(page).get_by_label("Colour mode").select_option("dark")
    assert mode_of(page) == "dark"
    expect(chat).to_have_attribute("src", light_chat + "&darkpopout")
    page.context.add_init_script(script=FIRST_MODE)
    page.reload()
    # Dark from the first paint: set while the page was still loading, before any stylesheet.
    assert page.evaluate("window.firstMode") == {"mode": "dark", "loading": True, "stylesheets": 0}
    assert mode_of(page) == "dark"
    expect(page.get_by_label("Colour mode")).to_have_value("dark")
    expect(page.get_by_test_id("chat")).to_have_attribute("src", light_chat + "&darkpopout")

    # Back to the system's preference, which the page then follows as it changes.
    account_menu(page).get_by_label("Colour mode").select_option("system")
    assert mode_of(page) == "light"
    page.emulate_media(color_scheme="dark")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    page.goto(app_url + "/watch/cool_user")
    expect(page.get_by_label("Colour mode")).to_have_value("system")
    expect(page.get_by_test_id("chat")).to_have_attribute("src", light_chat + "&darkpopout")
    page.emulate_media(color_scheme="light")
    expect(page.get_by_test_id("chat")).to_have_attribute("src", light_chat)
    log.assert_clean()


def test_the_feed_is_a_polite_live_region_and_the_embeds_have_titles(
    open_page, app_url, pusher_client, redis_client
):
    page, log = open_page()
    log_in(page, app_url)
    watch_with_events(page, app_url, pusher_client, redis_client)
    events = page.get_by_test_id("feed")
    expect(events).to_have_attribute("aria-live", "polite")
    expect(events).to_have_attribute("aria-relevant", "additions")
    expect(events).to_have_accessible_name("Stream events")
    expect(page.get_by_test_id("video")).to_have_attribute("title", "cool_user's stream on Twitch")
    expect(page.get_by_test_id("chat")).to_have_attribute("title", "cool_user's chat on Twitch")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cool_User")
    log.assert_clean()


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_keyboard_reaches_every_part_of_the_watch_page_with_a_visible_focus(
    open_page, app_url, pusher_client, redis_client, artifacts, mode
):
    page, log = open_page(color_scheme=mode)
    log_in(page, app_url)
    watch_with_events(page, app_url, pusher_client, redis_client)
    page.locator("body").focus()
    page.evaluate("document.activeElement.blur()")
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if seen and focused == seen[0]:
            break  # around the page once: nothing held the focus
        seen.append(focused)
        if focused["login"] == "speedy_sam":
            page.locator(":focus").locator("xpath=ancestor::section[1]").screenshot(
                path=str(artifacts / f"watch-keyboard-focus-{mode}.png")
            )
    else:
        pytest.fail("Tab never came back to the first control: something holds the focus")
    seen = [focused for focused in seen if focused["tag"] != "body"]  # the browser's own stop
    names = [f["testid"] or f["id"] or f["login"] or f["name"] for f in seen]

    order = ["streamer", "Stream", "feed", "speedy_sam", "chill_chess"]
    positions = [names.index(name) for name in order if name in names]
    assert len(positions) == len(order), f"not all reached by Tab: {names}"
    assert positions == sorted(positions), f"out of order: {names}"
    assert names.index("account") < names.index("streamer"), names
    for focused in seen:
        if focused["tag"] == "iframe":
            continue  # the focus is in Twitch's page, which draws its own
        assert focused["outline"] != "none" and focused["outlineWidth"] >= 2, focused
        assert focused["outlineColor"] != focused["background"], focused
    log.assert_clean()


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize(("width", "height"), [(1280, 900), (360, 780)])
def test_screenshots_of_the_watch_page_in_both_modes(
    open_page, app_url, pusher_client, redis_client, artifacts, width, height, mode
):
    page, log = open_page(width, height, color_scheme=mode)
    log_in(page, app_url)
    watch_with_events(page, app_url, pusher_client, redis_client)
    assert mode_of(page) == mode
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    name = f"watch-{width}-{mode}.png"
    page.screenshot(path=str(artifacts / name), full_page=True)
    assert (artifacts / name).stat().st_size > 10_000
    log.assert_clean()


def test_screenshot_of_the_login_page_in_dark_mode(open_page, app_url, artifacts):
    page, log = open_page(color_scheme="dark")
    page.goto(app_url + "/")
    assert mode_of(page) == "dark"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(255, 255, 255)", background
    page.screenshot(path=str(artifacts / "login-dark.png"), full_page=True)
    log.assert_clean()
