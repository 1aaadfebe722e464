"""A streamer's status from events and Twitch's API answers: the newer source wins part by
part, events on a tie, and an answer still listing a stream an event ended is stale."""

from __future__ import annotations

from shared.store import HELIX_STALE_SECONDS, helix_order_key
from web.viewer.status import combined_status, liveness, newest_title

NOW = 1_800_000_000.0


def event_key(at: float) -> str:
    """The ordering key of an event Twitch sent at ``at`` (epoch seconds)."""
    return helix_order_key(at + HELIX_STALE_SECONDS)


def live_state(at: float, stream_id: str = "s1", **more) -> dict:
    return {
        "live": "1",
        "stream_id": stream_id,
        "started_at": "2027-01-15T08:00:00Z",
        "stream_order_key": event_key(at),
        **more,
    }


def stream(stream_id: str = "s1", **more) -> dict:
    return {"id": stream_id, "started_at": "2027-01-15T08:00:01Z", "viewer_count": 42, **more}


def test_an_event_newer_than_the_api_answer_says_live_without_a_viewer_count():
    live, as_of = liveness(live_state(NOW), None, NOW - 60)
    assert live == {"stream_id": "s1", "started_at": "2027-01-15T08:00:00Z", "viewers": None}
    assert as_of == event_key(NOW)


def test_the_api_answer_gives_the_viewer_count_of_the_stream_the_events_know():
    live, _ = liveness(live_state(NOW), stream("s1"), NOW - 60)
    assert live is not None and live["viewers"] == 42
    other, _ = liveness(live_state(NOW), stream("s2"), NOW - 60)
    assert other is not None and other["stream_id"] == "s1" and other["viewers"] is None


def test_an_api_answer_newer_than_the_events_wins():
    offline, as_of = liveness(live_state(NOW - 3600), None, NOW)
    assert offline is None and as_of == helix_order_key(NOW)
    live, _ = liveness({"live": "0", "stream_order_key": event_key(NOW - 3600)}, stream(), NOW)
    assert live == {"stream_id": "s1", "started_at": "2027-01-15T08:00:01Z", "viewers": 42}


def test_an_answer_listing_the_stream_an_event_ended_is_stale_whatever_its_time():
    ended = {"live": "0", "stream_id": "s1", "stream_order_key": event_key(NOW - 3600)}
    assert liveness(ended, stream("s1"), NOW) == (None, event_key(NOW - 3600))
    # A new stream listed after the end is believed.
    live, _ = liveness(ended, stream("s2"), NOW)
    assert live is not None and live["stream_id"] == "s2"


def test_without_events_the_api_answer_alone_says():
    assert liveness({}, None, NOW) == (None, helix_order_key(NOW))
    live, _ = liveness({}, stream(), NOW)
    assert live is not None and live["viewers"] == 42


def test_the_newest_title_wins_and_events_win_a_tie():
    """An API answer counts as of HELIX_STALE_SECONDS before it was asked."""
    state = {"order_key": event_key(NOW), "title": "from events", "category_name": "Chess"}
    answer = stream(title="from the API", game_name="Art")
    later = NOW + HELIX_STALE_SECONDS
    assert newest_title(state, answer, later + 1, None, 0.0)[:2] == ("from the API", "Art")
    assert newest_title(state, answer, later - 1, None, 0.0)[:2] == ("from events", "Chess")
    assert newest_title(state, answer, NOW + 1, None, 0.0)[:2] == ("from events", "Chess")
    assert newest_title(state, answer, later, None, 0.0) == (
        "from events",
        "Chess",
        state["order_key"],
    )


def test_a_stream_answer_wins_a_tie_with_a_channel_answer():
    channel = {"title": "channel title", "game_name": "Music"}
    title = newest_title({}, stream(title="stream title", game_name="Art"), NOW, channel, NOW)
    assert title == ("stream title", "Art", helix_order_key(NOW))
    assert newest_title({}, None, 0.0, channel, NOW) == (
        "channel title",
        "Music",
        helix_order_key(NOW),
    )


def test_nothing_known_is_an_empty_title():
    assert newest_title({}, None, 0.0, None, 0.0) == ("", "", "")
    assert combined_status({}, None, 0.0) == {
        "live": None,
        "title": "",
        "category": "",
        "status_as_of": helix_order_key(0.0),
    }


def test_the_combined_status_is_as_of_its_newest_part_and_puts_the_title_on_the_stream():
    state = live_state(NOW - 600, order_key=event_key(NOW - 600), title="old", category_name="A")
    channel = {"title": "new", "game_name": "B"}
    status = combined_status(state, None, NOW - 900, channel, NOW)
    assert status["live"] is not None
    assert status["live"]["title"] == status["title"] == "new"
    assert status["live"]["category"] == status["category"] == "B"
    assert status["status_as_of"] == helix_order_key(NOW)
