"""Going live with a new title, twenty times, through the whole product.

``go-live --title T --category C`` at the Twitch emulator sends channel.update and
stream.online at the same moment. A stream.online carries no title: the worker
describes it with the channel's last known one, so each "went live" message must
name the title the channel.update just set, however the two race through the
pipeline. Web and worker run with the benchmark's concurrency (their defaults).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.full_stack import running_stack, twitch_control, watch_streamer
from tests.e2e.pages import feed

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

RUNS = 20
CATEGORIES = ("Celeste", "Chess")
EVENT_DEADLINE_MS = 5000


@pytest.fixture
def stack(tmp_path, frontend_build):
    """The whole product with the web's and the worker's default concurrency."""
    with running_stack(tmp_path) as running:
        yield running


def went_live(page):
    """The feed's "went live" lines, newest first."""
    return (
        page.get_by_test_id("feed")
        .locator('li[data-type="stream.online"]')
        .get_by_test_id("message")
    )


def test_every_go_live_names_its_new_title(stack, open_page, artifacts):
    page, log = open_page()
    watch_streamer(page, stack, "cool_user")
    badge = page.get_by_test_id("live-badge")
    wrong = []
    for run in range(1, RUNS + 1):
        title, category = f"Run {run}", CATEGORIES[run % 2]
        twitch_control(stack, "go-live", login="cool_user", title=title, category=category)
        expect(went_live(page)).to_have_count(run, timeout=EVENT_DEADLINE_MS)
        message = went_live(page).first.inner_text()
        if message != f"Cool_User went live: {title} ({category})":
            wrong.append(f"run {run}: feed says {message!r}")
        expect(badge).to_have_text("LIVE", timeout=EVENT_DEADLINE_MS)
        expect(page.get_by_test_id("status-title")).to_have_text(title, timeout=EVENT_DEADLINE_MS)
        expect(page.get_by_test_id("status-details")).to_contain_text(category)

        twitch_control(stack, "go-offline", login="cool_user")
        expect(badge).to_have_text("Offline", timeout=EVENT_DEADLINE_MS)
        expect(page.get_by_test_id("status-title")).to_have_text(title)
    page.screenshot(path=str(artifacts / "watch-go-live-twenty-times.png"), full_page=True)
    assert not wrong, (
        f"{len(wrong)} of {RUNS} went-live messages named another title:\n" + "\n".join(wrong)
    )
    expect(feed(page)).to_have_count(3 * RUNS)
    log.assert_clean()
