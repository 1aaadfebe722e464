"""A streamer's status for the viewer page: the newest of what events told us and
what Twitch's API answered.

Events (through the pump) keep each broadcaster's state in Redis, each part
with the Twitch time it is known as of (:func:`shared.store.channel_state_key`).
Twitch's API answers are kept briefly, with when they were asked; such an
answer counts as of :data:`shared.store.HELIX_STALE_SECONDS` before that,
because Twitch serves it from its own caches. For each part the newer source
wins, events on a tie; and an API answer listing, as live, the stream an event
said had ended is stale whatever its time.
"""

from __future__ import annotations

from shared.store import helix_order_key


def combined_status(
    state: dict,
    stream: dict | None,
    stream_asked_at: float,
    channel: dict | None = None,
    channel_asked_at: float = 0.0,
) -> dict:
    """The status from the event ``state`` and Helix's ``stream`` (None: offline) and
    ``channel`` answers, with when each was asked (epoch seconds)::

        {"live": {"title", "category", "viewers", "started_at", "stream_id"} or None,
         "title", "category", "status_as_of": RFC 3339 time of the newest part}

    ``viewers`` is None when only events know the stream.
    """
    live, stream_as_of = liveness(state, stream, stream_asked_at)
    title, category, title_as_of = newest_title(
        state, stream, stream_asked_at, channel, channel_asked_at
    )
    if live is not None:
        live.update(title=title, category=category)
    return {
        "live": live,
        "title": title,
        "category": category,
        "status_as_of": max(stream_as_of, title_as_of),
    }


def liveness(state: dict, stream: dict | None, asked_at: float) -> tuple[dict | None, str]:
    """Whether the broadcaster is live (the stream's details, else None), and as of when."""
    event_as_of = state.get("stream_order_key", "")
    helix_as_of = helix_order_key(asked_at)
    ended_stream = (
        stream is not None
        and state.get("live") == "0"
        and stream.get("id") == state.get("stream_id")
    )
    if event_as_of and (event_as_of >= helix_as_of or ended_stream):
        if state.get("live") != "1":
            return None, event_as_of
        same_stream = (
            stream if stream is not None and stream.get("id") == state.get("stream_id") else None
        )
        return {
            "stream_id": state.get("stream_id", ""),
            "started_at": state.get("started_at"),
            "viewers": same_stream.get("viewer_count") if same_stream is not None else None,
        }, event_as_of
    if stream is None:
        return None, helix_as_of
    return {
        "stream_id": stream.get("id", ""),
        "started_at": stream.get("started_at"),
        "viewers": stream.get("viewer_count"),
    }, helix_as_of


def newest_title(
    state: dict,
    stream: dict | None,
    stream_asked_at: float,
    channel: dict | None,
    channel_asked_at: float,
) -> tuple[str, str, str]:
    """``(title, category, as of)`` from the newest source that tells them."""
    known = []  # (as of, tie-break: events first, title, category)
    if "order_key" in state:
        known.append(
            (state["order_key"], 2, state.get("title", ""), state.get("category_name", ""))
        )
    if stream is not None:
        known.append(
            (
                helix_order_key(stream_asked_at),
                1,
                stream.get("title", ""),
                stream.get("game_name", ""),
            )
        )
    if channel:
        known.append(
            (
                helix_order_key(channel_asked_at),
                0,
                channel.get("title", ""),
                channel.get("game_name", ""),
            )
        )
    if not known:
        return "", "", ""
    as_of, _, title, category = max(known)
    return title, category, as_of
