"""The page never lets an older event overwrite newer state, and shows each event once.

Events are compared by ``occurred_at`` to the nanosecond (Twitch sends nine
fractional digits): the feed lists them newest first whatever order they arrive
in, and each part of the status line (live or offline, title, category) is that
of the newest event that speaks of it. The /api/watch answer stands for the
state 15 s before it was served (its stream lookup is cached that long): recent
events older than that are listed but do not change the status.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from shared.events import channel_name
from shared.store import add_recent_event
from tests.e2e.pages import EVENT_DEADLINE_MS, connected, feed, log_in

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
BROADCASTER = {"id": "1", "login": "cool_user", "name": "Cool_User"}


def at(moment: datetime, nanoseconds: int = 0) -> str:
    """``moment`` plus ``nanoseconds`` as Twitch writes it: nine fractional digits and Z."""
    total = moment.microsecond * 1000 + nanoseconds
    base = moment.replace(microsecond=0) + timedelta(seconds=total // 10**9)
    return base.strftime("%Y-%m-%dT%H:%M:%S.") + f"{total % 10**9:09d}Z"


def event(kind: str, occurred_at: str, message: str, event_id: str | None = None, **fields) -> dict:
    return {
        "id": event_id or str(uuid.uuid4()),
        "type": kind,
        "message": message,
        "broadcaster": BROADCASTER,
        "occurred_at": occurred_at,
        **fields,
    }


def update(occurred_at: str, title: str, category: str, **extra) -> dict:
    return event(
        "channel.update",
        occurred_at,
        f"Cool_User updated the stream: {title} ({category})",
        title=title,
        category_name=category,
        **extra,
    )


def online(occurred_at: str, title: str, category: str, **extra) -> dict:
    return event(
        "stream.online",
        occurred_at,
        f"Cool_User went live: {title} ({category})",
        title=title,
        category_name=category,
        started_at=occurred_at,
        **extra,
    )


def offline(occurred_at: str, **extra) -> dict:
    return event("stream.offline", occurred_at, "Cool_User ended the stream", **extra)


def send(pusher_client, *events: dict) -> None:
    for item in events:
        pusher_client.trigger(channel_name("cool_user"), item["type"], item)


def watching(page, app_url: str) -> None:
    log_in(page, app_url)
    page.goto(app_url + "/watch/cool_user")
    connected(page, "cool_user")


def test_events_arriving_out_of_order_leave_the_newest_state(open_page, app_url, pusher_client):
    page, log = open_page()
    watching(page, app_url)
    moment = datetime.now(UTC)
    status_title = page.get_by_test_id("status-title")
    badge = page.get_by_test_id("live-badge")

    # The same millisecond: only the nanoseconds tell the update came after the online.
    newer_update = update(at(moment, 2), "Newer title", "Chess")
    older_online = online(at(moment, 1), "Older title", "Fortnite")
    send(pusher_client, newer_update, older_online)
    expect(feed(page)).to_have_text(
        [newer_update["message"], older_online["message"]], timeout=EVENT_DEADLINE_MS
    )
    expect(badge).to_have_text("LIVE")
    expect(status_title).to_have_text("Newer title")
    expect(page.get_by_test_id("status-details")).to_contain_text("Chess")

    # A late online (a retried publish, say) older than the offline keeps the page offline;
    # a late update older than the last one keeps the last one's title.
    stream_end = offline(at(moment, 10_000_000))
    late_online = online(at(moment, 5_000_000), "Newer title", "Chess")
    last_update = update(at(moment, 6_000_000), "Final title", "Celeste")
    late_update = update(at(moment, 3_000_000), "Stale title", "Fortnite")
    send(pusher_client, stream_end, last_update, late_online, late_update)
    expect(feed(page)).to_have_text(
        [
            stream_end["message"],
            last_update["message"],
            late_online["message"],
            late_update["message"],
            newer_update["message"],
            older_online["message"],
        ],
        timeout=EVENT_DEADLINE_MS,
    )
    expect(badge).to_have_text("Offline")
    expect(status_title).to_have_text("Final title")
    expect(page.get_by_test_id("status-details")).to_have_text("Celeste")

    # Repeats (same id) change nothing, however late they come.
    send(pusher_client, newer_update, late_online, stream_end)
    pusher_client.trigger(channel_name("cool_user"), "my-event", {"message": "after the repeats"})
    expect(feed(page).first).to_have_text("after the repeats", timeout=EVENT_DEADLINE_MS)
    expect(feed(page)).to_have_count(7)
    expect(badge).to_have_text("Offline")
    expect(status_title).to_have_text("Final title")
    log.assert_clean()


def test_recent_and_live_events_show_once_and_old_ones_leave_the_answer(
    open_page, app_url, pusher_client, redis_client
):
    now = datetime.now(UTC)
    # A week-old stream whose end this app never heard of: listed, but the answer
    # (offline, "Best Stream Ever", Fortnite) is newer and wins.
    last_week = online(at(now - timedelta(days=6)), "Last week's stream", "Celeste")
    # Two seconds old: newer than the answer's (cached) state, so its title shows.
    just_now = update(at(now - timedelta(seconds=2)), "Changed just now", "Chess")
    for item in (last_week, just_now):
        add_recent_event(redis_client, item, 3600)
    page, log = open_page()
    watching(page, app_url)
    expect(feed(page)).to_have_text([just_now["message"], last_week["message"]])
    expect(page.get_by_test_id("live-badge")).to_have_text("Offline")
    expect(page.get_by_test_id("status-title")).to_have_text("Changed just now")
    expect(page.get_by_test_id("status-details")).to_have_text("Chess")

    # The same events again, live, and one new one: each is listed once.
    fresh = online(at(datetime.now(UTC)), "Fresh stream", "Celeste")
    send(pusher_client, just_now, last_week, fresh, fresh)
    expect(feed(page).first).to_have_text(fresh["message"], timeout=EVENT_DEADLINE_MS)
    expect(page.get_by_test_id("live-badge")).to_have_text("LIVE")
    page.wait_for_timeout(300)
    expect(feed(page)).to_have_text([fresh["message"], just_now["message"], last_week["message"]])

    # Watching the same streamer again merges the answer's events with those that came live.
    page.get_by_role("button", name="Stream").click()
    expect(page.get_by_role("button", name="Stream")).to_be_enabled()
    page.wait_for_timeout(300)
    expect(feed(page)).to_have_text([fresh["message"], just_now["message"], last_week["message"]])
    expect(page.get_by_test_id("live-badge")).to_have_text("LIVE")
    log.assert_clean()
