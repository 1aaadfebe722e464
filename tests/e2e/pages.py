"""What the browser tests do on the viewer's page: log in through the Twitch emulator,
open a streamer's page, wait for its Pusher channel, find the feed and the follows, make
and send events as the worker publishes them, and check a page with axe-core.

Streamers come from the Twitch emulator's roster: ``viewer_vic`` follows
``cool_user`` (offline, "Best Stream Ever", Fortnite), ``speedy_sam`` and
``chill_chess`` (both live).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from playwright.sync_api import expect

from shared.events import channel_name
from tests.support import wait_until

VIEWER = "viewer_vic"
EVENT_DEADLINE_MS = 2000
FAILING_IMPACTS = {"serious", "critical"}
# Twitch's embeds are Twitch's pages (stand-ins here): axe checks our frames' titles, not them.
# It runs once the colour transitions under way have ended (a button just clicked is still
# hovered, and half-way between two colours axe measures neither).
RUN_AXE = """() => Promise.all(document.getAnimations()
    .filter(animation => animation instanceof CSSTransition)
    .map(animation => animation.finished.catch(() => null)))
  .then(() => axe.run(document, {iframes: false, resultTypes: ['violations']}))
  .then(result => result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(node => node.target.join(' '))})))"""


def log_in(page, app_url: str, login: str = VIEWER) -> None:
    """Log in through the Twitch emulator's consent page; ends on ``/watch``."""
    page.goto(app_url + "/")
    page.get_by_role("link", name="Log in with Twitch").click()
    page.locator(f'a[data-login="{login}"]').click()
    page.wait_for_url(app_url + "/watch")


def open_watch_page(page, app_url: str, login: str = "cool_user") -> None:
    """Log in and open ``/watch/<login>``; returns once ``login``'s events will arrive."""
    log_in(page, app_url)
    page.goto(f"{app_url}/watch/{login}")
    connected(page, login)


def event(kind: str, login: str, name: str, message: str, **fields) -> dict:
    """An event as the worker publishes it (and keeps among the recent ones)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
    return {
        "id": str(uuid.uuid4()),
        "type": kind,
        "message": message,
        "broadcaster": {"id": "1", "login": login, "name": name},
        "occurred_at": now,
        **fields,
    }


def went_live(login: str, name: str, title: str, category: str, **fields) -> dict:
    """A stream.online event: "<name> went live: <title> (<category>)"."""
    return event(
        "stream.online",
        login,
        name,
        f"{name} went live: {title} ({category})",
        title=title,
        category_name=category,
        **fields,
    )


def updated(login: str, name: str, title: str, category: str) -> dict:
    """A channel.update event: "<name> updated the stream: <title> (<category>)"."""
    return event(
        "channel.update",
        login,
        name,
        f"{name} updated the stream: {title} ({category})",
        title=title,
        category_name=category,
    )


def ended(login: str, name: str) -> dict:
    """A stream.offline event: "<name> ended the stream"."""
    return event("stream.offline", login, name, f"{name} ended the stream")


def publish(pusher_client, published: dict) -> dict:
    """Trigger ``published`` on its streamer's channel, as the worker does; returns it."""
    login = published["broadcaster"]["login"]
    pusher_client.trigger(channel_name(login), published["type"], published)
    return published


def page_wait_until(page, condition, timeout: float = 10.0, message: str = ""):
    """``wait_until`` for a condition outside the page (Pusher, Redis, the stack) that
    the page itself may need requests to meet. Every request of the page passes through
    the context's route handler, which the sync Playwright API runs only while the test
    is inside a Playwright call: so the wait keeps calling into Playwright."""
    return wait_until(
        lambda: condition() or page.wait_for_timeout(50), timeout=timeout, message=message
    )


def occupied(pusher_client, login: str) -> bool:
    """Whether any client listens on ``login``'s channel, as Pusher's HTTP API says."""
    return pusher_client.channel_info(channel_name(login))["occupied"]


def left_channel(page, pusher_client, login: str, timeout: float = 10.0) -> None:
    """Wait until no client (the page had been one) listens on ``login``'s channel."""
    page_wait_until(
        page,
        lambda: not occupied(pusher_client, login),
        timeout=timeout,
        message=f"the page stayed on {login}'s channel",
    )


def connected(page, login: str, timeout: float = 5000) -> None:
    """Wait until the page is subscribed to ``login``'s channel (its events will arrive)."""
    indicator = page.get_by_test_id("connection")
    expect(indicator).to_have_attribute("data-channel", channel_name(login), timeout=timeout)
    expect(indicator).to_have_attribute("data-state", "connected")


def feed(page):
    """The messages in the page's feed, newest first."""
    return page.get_by_test_id("feed").get_by_test_id("message")


def account_menu(page):
    """The watch page's account menu (colour mode, Log out, Log out everywhere), opened."""
    button = page.get_by_test_id("account")
    if button.get_attribute("aria-expanded") != "true":
        button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    return page.get_by_test_id("account-menu")


def follow(page, login: str):
    """``login``'s card in the page's list of live follows."""
    return page.get_by_test_id("follows").locator(f'[data-login="{login}"]')


def audited(page) -> list[dict]:
    """axe's serious and critical violations on ``page`` (opened with the
    ``open_checked_page`` fixture), each printed with its nodes."""
    violations = [v for v in page.evaluate(RUN_AXE) if v["impact"] in FAILING_IMPACTS]
    for violation in violations:
        print(
            f"axe {violation['impact']}: {violation['id']} ({violation['help']}) at "
            + ", ".join(violation["targets"])
        )
    return violations
