"""Live viewer counts: the rule for a noticeable change, the rounds against the Twitch
emulator (batches of 100, which streams are asked for, the rate-limit reserve) and what
reaches a streamer's private channel on the Pusher emulator."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from datetime import datetime
from urllib.parse import urlsplit

import pytest

from scripts.processes import wait_until
from shared.leases import new_lease, save_lease
from shared.store import queue_stream_state, recent_events
from shared.twitch.client import RATE_LIMIT, TwitchClient
from tests.worker.support import Watcher

pytestmark = pytest.mark.timeout(60)

SAM = {"id": "122699689", "login": "speedy_sam", "name": "SpeedySam"}
CHESS = {"id": "197110752", "login": "chill_chess", "name": "ChillChess"}
COOL = {"id": "958187706", "login": "cool_user", "name": "Cool_User"}


@pytest.mark.parametrize(
    "previous, current, noticeable",
    [
        (None, 0, True),
        (None, 5000, True),
        (40, 40, False),
        (40, 41, True),
        (99, 100, True),
        (120, 95, True),
        (5, 0, True),
        (100, 109, False),
        (100, 110, True),
        (150, 140, True),
        (150, 141, False),
        (1000, 1049, False),
        (1000, 1050, True),
        (1000, 951, False),
        (1000, 950, True),
        (20000, 20999, False),
        (20000, 21000, True),
        (20000, 19000, True),
    ],
)
def test_a_change_is_noticeable_from_10_viewers_and_5_percent_or_any_below_100(
    worker_environment, previous, current, noticeable
):
    from worker.viewer_counts import noticeable_change

    assert noticeable_change(previous, current) is noticeable


def test_beat_refreshes_the_counts_on_the_maintenance_queue(worker_environment):
    from worker import celery_app
    from worker.schedule import beat_schedule

    entry = beat_schedule(dataclasses.replace(worker_environment, viewer_count_interval=90))[
        "refresh-viewer-counts"
    ]
    assert entry["task"] == "viewer_counts.refresh_viewer_counts"
    assert entry["schedule"] == 90.0 and entry["options"]["expires"] == 90.0
    assert entry["task"] in celery_app.tasks
    assert celery_app.amqp.router.route({}, entry["task"])["queue"].name == "maintenance"


class RecordingTwitch(TwitchClient):
    """The worker's Twitch client, keeping the ``user_id`` values of each ``GET /streams``."""

    def __init__(self, settings, redis_client):
        super().__init__(settings, redis_client)
        self.stream_calls: list[list[str]] = []
        send = self.session.request

        def request(method, url, params=None, **options):
            if urlsplit(url).path.endswith("/streams"):
                self.stream_calls.append([v for k, v in params if k == "user_id"])
            return send(method, url, params=params, **options)

        self.session.request = request


@pytest.fixture
def twitch(worker_environment, twitch_emulator, redis_client):
    client = RecordingTwitch(twitch_emulator.settings_for(worker_environment), redis_client)
    yield client
    client.close()


def hold(redis_client, *broadcasters):
    for broadcaster in broadcasters:
        save_lease(redis_client, new_lease(broadcaster))


def record_stream(redis_client, broadcaster, live, stream_id="1"):
    with redis_client.pipeline() as pipe:
        queue_stream_state(
            pipe,
            broadcaster["id"],
            "2026-01-01T12:00:00.000000000Z",
            live,
            stream_id,
            "2026-01-01T12:00:00Z",
            3600,
        )
        pipe.execute()


def refresh_round(twitch, redis_client, watched):
    from worker.context import pusher_client
    from worker.viewer_counts import refresh

    return refresh(twitch, redis_client, pusher_client(), watched)


def test_more_than_100_streams_are_asked_for_100_at_a_time(
    worker_environment, twitch_emulator_factory, pusher_emulator, redis_client, tmp_path
):
    streamers = [
        {"id": str(700000 + n), "login": f"streamer_{n:03d}", "name": f"Streamer{n:03d}"}
        for n in range(230)
    ]
    roster = tmp_path / "roster.json"
    roster.write_text(
        json.dumps(
            [{**s, "display_name": s["name"], "live": n % 3 != 0} for n, s in enumerate(streamers)]
        )
    )
    emulator = twitch_emulator_factory(TWITCH_EMULATOR_ROSTER=str(roster))
    twitch = RecordingTwitch(emulator.settings_for(worker_environment), redis_client)
    hold(redis_client, *streamers)

    report = refresh_round(twitch, redis_client, {s["login"] for s in streamers})
    assert [len(ids) for ids in twitch.stream_calls] == [100, 100, 30]
    asked = [user_id for call in twitch.stream_calls for user_id in call]
    assert sorted(asked) == sorted(s["id"] for s in streamers)
    live = sum(1 for n in range(230) if n % 3 != 0)
    assert report == {
        "streamers": 230,
        "calls": 3,
        "live": live,
        "published": live,
        "skipped": False,
    }
    twitch.close()


def test_only_watched_streams_not_known_offline_are_asked_for(
    twitch, pusher_emulator, redis_client
):
    hold(redis_client, SAM, CHESS, COOL)
    record_stream(redis_client, CHESS, live=False)  # Twitch's cache may still list it
    record_stream(redis_client, COOL, live=True)  # an event said live; Twitch says not

    report = refresh_round(
        twitch, redis_client, {"speedy_sam", "chill_chess", "cool_user", "night_owl"}
    )
    assert sorted(twitch.stream_calls[0]) == sorted([SAM["id"], COOL["id"]])
    assert report["calls"] == 1 and report["live"] == 1 and report["published"] == 1

    twitch.stream_calls.clear()
    report = refresh_round(twitch, redis_client, {"chill_chess"})
    assert twitch.stream_calls == [] and report["streamers"] == 0


def test_a_count_is_published_only_when_it_changed_noticeably(
    twitch, twitch_emulator, pusher_emulator, redis_client
):
    hold(redis_client, SAM)
    watcher = Watcher(pusher_emulator.port, ["speedy_sam"])
    try:
        published = []
        for count in (1000, 1000, 1040, 1050, 1051, 60, 61, 61):
            twitch_emulator.control("viewers", login="speedy_sam", viewers=count)
            report = refresh_round(twitch, redis_client, {"speedy_sam"})
            published += [count] * report["published"]
        assert published == [1000, 1050, 60, 61]
        wait_until(
            lambda: len(watcher.events) >= 4,
            timeout=10,
            message=f"the channel heard {watcher.events}",
        )
    finally:
        watcher.close()
    assert [event["viewers"] for event in watcher.events] == [1000, 1050, 60, 61]
    event = watcher.events[0]
    stream = twitch.streams_by_id([SAM["id"]])[0]
    assert set(event) == {"id", "type", "broadcaster", "occurred_at", "viewers", "started_at"}
    assert event["type"] == "stream.viewers" and event["broadcaster"] == SAM
    assert event["started_at"] == stream["started_at"]
    fetched = datetime.fromisoformat(event["occurred_at"].replace("000Z", "+00:00"))
    assert abs(fetched.timestamp() - time.time()) < 30
    assert len({e["id"] for e in watcher.events}) == 4
    assert recent_events(redis_client, "speedy_sam") == [], "a count is not a feed item"

    twitch_emulator.control("go-offline", login="speedy_sam")
    twitch_emulator.control("go-live", login="speedy_sam")
    twitch_emulator.control("viewers", login="speedy_sam", viewers=61)
    assert refresh_round(twitch, redis_client, {"speedy_sam"})["published"] == 1, (
        "a new stream's count is news even when it equals the last stream's"
    )


def test_a_round_that_would_spend_the_rate_limit_reserve_is_skipped_and_logged_once(
    twitch, pusher_emulator, redis_client, caplog
):
    caplog.set_level(logging.INFO, logger="worker.viewer_counts")
    hold(redis_client, SAM)
    redis_client.hset(
        RATE_LIMIT, mapping={"limit": 800, "remaining": 150, "reset": int(time.time()) + 60}
    )
    for _ in range(2):
        report = refresh_round(twitch, redis_client, {"speedy_sam"})
        assert report["skipped"] and report["calls"] == 0
    assert twitch.stream_calls == []
    skipped = [r for r in caplog.records if "nearly spent" in r.getMessage()]
    assert len(skipped) == 1 and skipped[0].levelno == logging.WARNING

    redis_client.hset(RATE_LIMIT, "remaining", 700)
    report = refresh_round(twitch, redis_client, {"speedy_sam"})
    assert not report["skipped"] and report["calls"] == 1 and report["published"] == 1
    assert any("refreshed again" in r.getMessage() for r in caplog.records)


def test_the_task_tells_the_channels_pusher_says_are_watched(
    twitch, twitch_emulator, pusher_emulator, redis_client, monkeypatch
):
    from worker import viewer_counts

    monkeypatch.setattr(viewer_counts, "twitch_client", lambda: twitch)
    hold(redis_client, SAM, CHESS)
    watcher = Watcher(pusher_emulator.port, ["speedy_sam"])
    try:
        twitch_emulator.control("viewers", login="speedy_sam", viewers=4321)
        report = viewer_counts.refresh_viewer_counts()
        assert twitch.stream_calls == [[SAM["id"]]], "chill_chess's channel has no viewers"
        assert report["published"] == 1
        wait_until(lambda: watcher.events, timeout=10, message="the channel heard nothing")
        assert watcher.events[0]["viewers"] == 4321
    finally:
        watcher.close()
