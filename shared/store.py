"""Redis: the connection, and the state no single concern owns: recent events, channel
state, event claims, dead letters, revocations, occupied channels, caches and counters.

Every key the app writes starts with ``sev:`` so the app can share a Redis with others.
A concern's own keys are defined beside the code that reads them (leases in
:mod:`shared.leases`, the intake in :mod:`shared.intake`, the WebSub hub's in
:mod:`shared.websub`, Twitch's token and budgets in :mod:`shared.twitch.tokens` and
:mod:`shared.twitch.client`, sessions and viewers' keys in the web's modules, shard owners and
viewer counts in the worker's).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlsplit

import redis
import redis.asyncio
from redis.client import Pipeline

from shared.events import Event, Revocation
from shared.eventsub import format_eventsub_timestamp
from shared.lua import LuaScript
from shared.sentinel import async_sentinel_client, sentinel_client
from shared.settings import RedisSentinel

RECENT_EVENTS_KEPT = 20
DEAD_LETTERS = "sev:dead-letters"
# The newest this many dead letters are kept; older ones are dropped and counted.
DEAD_LETTERS_KEPT = 10_000
DEAD_LETTERS_DROPPED = "sev:dead-letters:dropped"
# A replay moves the dead letters here (RENAME) and takes them one by one, so letters
# added meanwhile wait for the next replay and none is replayed twice.
DEAD_LETTERS_REPLAYING = "sev:dead-letters:replaying"
REVOCATIONS = "sev:revocations"
REVOCATIONS_KEPT = 1000
UNHELD_REVOCATIONS = "sev:revocations:unheld"


def connect(
    redis_url: str, verify_tls: bool = True, sentinel: RedisSentinel | None = None
) -> redis.Redis:
    """A Redis client that answers ``str`` and gives up quickly when Redis is gone.

    With ``sentinel`` (``REDIS_SENTINELS``) the client asks the sentinels where the
    primary is, and asks again when it fails over; ``redis_url`` then gives only the
    password, database and whether to use TLS. A ``rediss://`` server's certificate
    is verified unless ``verify_tls`` is off (``REDIS_TLS_VERIFY=false``, for a host
    such as Heroku Redis whose certificate is self-signed). redis-py types its answers
    as ``bytes | str`` whatever the client decodes: the functions reading Redis
    ``cast`` them to ``str`` once.
    """
    options = client_options(redis_url, verify_tls)
    if sentinel:
        return sentinel_client(redis_url, options, sentinel)
    return redis.Redis.from_url(redis_url, **options)


def connect_async(
    redis_url: str, verify_tls: bool = True, sentinel: RedisSentinel | None = None
) -> redis.asyncio.Redis:
    """The asyncio client of :func:`connect`, with the same options (the web's event loop
    writes the intake with it)."""
    options = client_options(redis_url, verify_tls)
    if sentinel:
        return async_sentinel_client(redis_url, options, sentinel)
    return redis.asyncio.Redis.from_url(redis_url, **options)


def client_options(redis_url: str, verify_tls: bool) -> dict:
    """The options every Redis client of the app is made with."""
    tls = {} if verify_tls else {"ssl_cert_reqs": "none"}
    return dict(
        decode_responses=True,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=30,
        **(tls if urlsplit(redis_url).scheme == "rediss" else {}),
    )


def recent_events_key(login: str) -> str:
    """Key of the sorted set holding a streamer's latest events."""
    return f"sev:recent:{login}"


def add_recent_event(client: redis.Redis, event: Event, ttl: int) -> None:
    """Keep ``event`` among its streamer's last 20; storing it twice is harmless."""
    with client.pipeline() as pipe:
        queue_recent_event(pipe, event, ttl)
        pipe.execute()


def queue_recent_event(pipe: Pipeline, event: Event, ttl: int) -> None:
    """Queue on ``pipe`` the commands that keep ``event`` among its streamer's last
    20, ordered by the time Twitch gave it."""
    key = recent_events_key(event["broadcaster"]["login"])
    member = json.dumps(event, sort_keys=True, separators=(",", ":"))
    try:
        score = datetime.fromisoformat(event["occurred_at"]).timestamp()
    except (KeyError, TypeError, ValueError):
        score = time.time()
    pipe.zadd(key, {member: score}, nx=True)
    pipe.zremrangebyrank(key, 0, -RECENT_EVENTS_KEPT - 1)
    pipe.expire(key, ttl)


def recent_events(client: redis.Redis, login: str) -> list[dict]:
    """A streamer's last events, newest first."""
    kept = cast(list[str], client.zrevrange(recent_events_key(login), 0, -1))
    return [json.loads(item) for item in kept]


def channel_state_key(broadcaster_id: str) -> str:
    """Key of the hash with a broadcaster's last known state, each part with the Twitch
    time it is known as of (an ordering key, :func:`shared.eventsub.ordering_key`):
    ``title`` and ``category_name`` as of ``order_key``; ``live`` ("1" or "0"),
    ``stream_id`` (the current or last stream) and ``started_at`` as of
    ``stream_order_key``. Events write it; an older one never overwrites a newer part."""
    return f"sev:channel:{broadcaster_id}"


# Twitch's API answers come from Twitch's own caches: a stream shows there, ends there, or
# changes its title there up to a few minutes after its EventSub notification. So an answer
# counts as true this long before it was asked, and never overrides a newer event.
HELIX_STALE_SECONDS = 180


def helix_order_key(asked_at: float) -> str:
    """The ordering key of a Helix answer asked at ``asked_at`` (epoch seconds)."""
    moment = datetime.fromtimestamp(asked_at - HELIX_STALE_SECONDS, UTC)
    return format_eventsub_timestamp(moment)


# Records a channel's title and category unless a newer state (by Twitch's time) is known.
_RECORD_STATE = """
local function record_state(key, order_key, title, category, ttl)
  local known = redis.call('HGET', key, 'order_key')
  if not known or known < order_key then
    redis.call('HSET', key, 'order_key', order_key, 'title', title, 'category_name', category)
    redis.call('EXPIRE', key, ttl)
  end
end
"""
_REMEMBER_STATE = LuaScript(
    _RECORD_STATE + "record_state(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])"
)
# Records whether a broadcaster is live, and its stream, unless a newer state is known. An
# offline event names no stream: the last stream id stays (the stream that ended).
# KEYS: channel state. ARGV: ordering key, "1" or "0", stream id, started at, ttl.
_RECORD_STREAM = LuaScript("""
local known = redis.call('HGET', KEYS[1], 'stream_order_key')
if not known or known < ARGV[1] then
  redis.call('HSET', KEYS[1], 'stream_order_key', ARGV[1], 'live', ARGV[2], 'started_at', ARGV[4])
  if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'stream_id', ARGV[3]) end
  redis.call('EXPIRE', KEYS[1], ARGV[5])
end
""")
# Claims an event for its intake entry and, for a channel.update, records the state.
# KEYS: message claim, stream claim (or the message claim again), channel state.
# ARGV: owner, claim ttl, ordering key, title, category, state ttl, "1" to record.
# Answers 1 (new), 0 (message seen by another entry), 2 (stream already online).
_CLAIM_EVENT = LuaScript(
    _RECORD_STATE
    + """
local function claim(key)
  if redis.call('SET', key, ARGV[1], 'NX', 'EX', ARGV[2]) then return true end
  return redis.call('GET', key) == ARGV[1]
end
if not claim(KEYS[1]) then return 0 end
if not claim(KEYS[2]) then return 2 end
if ARGV[7] == '1' then record_state(KEYS[3], ARGV[3], ARGV[4], ARGV[5], ARGV[6]) end
return 1
"""
)
CLAIMED, DUPLICATE_MESSAGE, DUPLICATE_STREAM = 1, 0, 2


def claim_event(
    pipe: Pipeline,
    message_key: str,
    stream_key: str | None,
    owner: str,
    state: tuple[str, str, str, str] | None,
    state_ttl: int,
    claim_ttl: int,
) -> None:
    """Queue on ``pipe`` the claim of one event (see ``_CLAIM_EVENT``).

    ``state`` is ``(broadcaster id, ordering key, title, category)`` for an
    event that changes the channel, else None. The pipeline's answer for it is
    CLAIMED, DUPLICATE_MESSAGE or DUPLICATE_STREAM.
    """
    broadcaster_id, order_key, title, category = state or ("", "", "", "")
    _CLAIM_EVENT(
        [message_key, stream_key or message_key, channel_state_key(broadcaster_id)],
        [
            owner,
            claim_ttl,
            order_key,
            title or "",
            category or "",
            state_ttl,
            "1" if state else "0",
        ],
        client=pipe,
    )


def remember_channel_state(
    client: redis.Redis,
    broadcaster_id: str,
    title: str,
    category_name: str,
    ttl: int,
    order_key: str = "",
) -> None:
    """Record a channel's title and category unless a newer state is known.

    ``order_key`` is the state's time as :func:`shared.eventsub.ordering_key`
    gives it; a Helix lookup passes the time it asked.
    """
    _REMEMBER_STATE(
        [channel_state_key(broadcaster_id)],
        [order_key, title or "", category_name or "", ttl],
        client=client,
    )


def queue_stream_state(
    pipe: Pipeline,
    broadcaster_id: str,
    order_key: str,
    live: bool,
    stream_id: str,
    started_at: str,
    ttl: int,
) -> None:
    """Queue on ``pipe`` the record of a broadcaster going live (``stream_id``,
    ``started_at``) or offline, unless a newer state is known."""
    _RECORD_STREAM(
        [channel_state_key(broadcaster_id)],
        [order_key, "1" if live else "0", stream_id or "", started_at or "", ttl],
        client=pipe,
    )


def channel_state(client: redis.Redis, broadcaster_id: str) -> dict:
    """The last known title and category of a broadcaster (empty if unknown)."""
    state = client.hgetall(channel_state_key(broadcaster_id))
    return {name: state[name] for name in ("title", "category_name") if name in state}


def broadcaster_states(client: redis.Redis, broadcaster_ids: list[str]) -> list[dict]:
    """The whole state of each broadcaster (see :func:`channel_state_key`), in one round
    trip; an empty dict where nothing is known."""
    with client.pipeline(transaction=False) as pipe:
        for broadcaster_id in broadcaster_ids:
            pipe.hgetall(channel_state_key(broadcaster_id))
        return pipe.execute() if broadcaster_ids else []


# KEYS: dead letters, dropped counter; ARGV: how many to keep, then entries to append.
_ADD_DEAD_LETTERS = LuaScript("""
local length = redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))
local over = length - tonumber(ARGV[1])
if over > 0 then
  redis.call('LTRIM', KEYS[1], over, -1)
  redis.call('INCRBY', KEYS[2], over)
end
return length
""")
# KEYS: dead letters, replaying, dropped counter; ARGV: how many to keep. Puts what a
# replay has not taken back before the letters added meanwhile (they are older).
_RESTORE_DEAD_LETTERS = LuaScript("""
local items = redis.call('LRANGE', KEYS[2], 0, -1)
for index = #items, 1, -1 do redis.call('LPUSH', KEYS[1], items[index]) end
redis.call('DEL', KEYS[2])
local over = redis.call('LLEN', KEYS[1]) - tonumber(ARGV[1])
if over > 0 then
  redis.call('LTRIM', KEYS[1], over, -1)
  redis.call('INCRBY', KEYS[3], over)
end
return #items
""")
# KEYS: dead letters, replaying. Starts a replay: the current dead letters become the
# snapshot, unless an interrupted replay's letters wait there (then those are finished).
_SNAPSHOT_DEAD_LETTERS = LuaScript("""
if redis.call('EXISTS', KEYS[2]) == 1 then return {1, redis.call('LLEN', KEYS[2])} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0} end
redis.call('RENAME', KEYS[1], KEYS[2])
return {0, redis.call('LLEN', KEYS[2])}
""")


def add_dead_letter(
    client: redis.Redis,
    kind: str,
    payload: Mapping[str, Any],
    reason: str,
    kept: int = DEAD_LETTERS_KEPT,
) -> None:
    """Keep what could not be delivered, with why, for an operator to replay.

    At most ``kept`` are kept: adding one beyond drops the oldest, counted in
    :data:`DEAD_LETTERS_DROPPED` (one atomic script, so concurrent workers never
    trim each other's count wrong).
    """
    entry = {"kind": kind, "payload": payload, "reason": reason, "failed_at": time.time()}
    _ADD_DEAD_LETTERS(
        [DEAD_LETTERS, DEAD_LETTERS_DROPPED], [kept, json.dumps(entry)], client=client
    )


def dead_letters_dropped(client: redis.Redis) -> int:
    """How many dead letters were dropped, the oldest first, to keep the newest."""
    return int(client.get(DEAD_LETTERS_DROPPED) or 0)


def snapshot_dead_letters(client: redis.Redis) -> tuple[int, bool]:
    """Move every dead letter to :data:`DEAD_LETTERS_REPLAYING` at once; returns how many
    wait there and whether they are those of an interrupted replay."""
    resumed, count = _SNAPSHOT_DEAD_LETTERS([DEAD_LETTERS, DEAD_LETTERS_REPLAYING], client=client)
    return int(count), bool(resumed)


def take_replaying(client: redis.Redis) -> str | None:
    """The oldest letter of the replay's snapshot, as stored, taken out; None when done."""
    return cast(str | None, client.lpop(DEAD_LETTERS_REPLAYING))


def give_back_replaying(
    client: redis.Redis, stored: str | None, kept: int = DEAD_LETTERS_KEPT
) -> int:
    """End a replay early: ``stored`` (the letter it could not queue) and the rest of
    the snapshot go back to the dead letters, before those added meanwhile. Returns
    how many went back."""
    if stored is not None:
        client.lpush(DEAD_LETTERS_REPLAYING, stored)
    return int(
        _RESTORE_DEAD_LETTERS(
            [DEAD_LETTERS, DEAD_LETTERS_REPLAYING, DEAD_LETTERS_DROPPED], [kept], client=client
        )
    )


def replaying_count(client: redis.Redis) -> int:
    """Letters of an interrupted replay, not yet replayed."""
    return int(client.llen(DEAD_LETTERS_REPLAYING))


def dead_letters(client: redis.Redis) -> list[dict]:
    """Every dead letter, oldest first."""
    return [json.loads(item) for item in client.lrange(DEAD_LETTERS, 0, -1)]


def dead_letter_items(client: redis.Redis) -> list[tuple[str, dict]]:
    """Every dead letter, oldest first, each as stored (for :func:`remove_dead_letter`)
    and parsed."""
    kept = cast(list[str], client.lrange(DEAD_LETTERS, 0, -1))
    return [(item, json.loads(item)) for item in kept]


def remove_dead_letter(client: redis.Redis, stored: str) -> bool:
    """Remove one dead letter, as :func:`dead_letter_items` gave it; False if it was gone."""
    return bool(client.lrem(DEAD_LETTERS, 1, stored))


def record_revocation(client: redis.Redis, revocation: Revocation) -> None:
    """Append a revocation to the kept history (the newest 1000)."""
    with client.pipeline() as pipe:
        pipe.lpush(REVOCATIONS, json.dumps(revocation))
        pipe.ltrim(REVOCATIONS, 0, REVOCATIONS_KEPT - 1)
        pipe.execute()


def revocations(client: redis.Redis) -> list[dict]:
    """Recorded revocations, newest first."""
    return [json.loads(item) for item in cast(list[str], client.lrange(REVOCATIONS, 0, -1))]


def count_unheld_revocation(client: redis.Redis) -> None:
    """Count one revocation of a subscription we do not hold (it was ignored)."""
    client.incr(UNHELD_REVOCATIONS)


def unheld_revocations(client: redis.Redis) -> int:
    """How many revocations of subscriptions we do not hold were ignored."""
    return int(client.get(UNHELD_REVOCATIONS) or 0)


def published_key(event_id: str) -> str:
    """Key that marks an event as delivered to Pusher."""
    return f"sev:published:{event_id}"


def seen_message_key(message_id: str) -> str:
    """Key that claims an EventSub message id for one intake entry (the claim's owner is
    the entry's id, so the entry read again is told from a duplicate message)."""
    return f"sev:seen:message:{message_id}"


def seen_stream_key(stream_id: str) -> str:
    """Key that claims a stream's ``stream.online`` for one intake entry."""
    return f"sev:seen:stream:{stream_id}"


OCCUPIED_CHANNELS = "sev:occupied-channels"


def record_channel_occupancy(client: redis.Redis, channel: str, occupied: bool) -> None:
    """Track which streamer channels have viewers, as Pusher reports them."""
    if occupied:
        client.zadd(OCCUPIED_CHANNELS, {channel: time.time()})
    else:
        client.zrem(OCCUPIED_CHANNELS, channel)


def occupied_channels(client: redis.Redis) -> list[str]:
    """Channels Pusher last reported as having subscribers."""
    return cast(list[str], client.zrange(OCCUPIED_CHANNELS, 0, -1))


def cached_with_time(
    client: redis.Redis, key: str, ttl: int, fetch: Callable[[], Any], refresh: bool = False
) -> tuple:
    """``(answer, asked_at)``: ``fetch()``'s answer, kept in Redis for ``ttl`` seconds, and
    when it was asked (epoch seconds); ``refresh`` asks again whatever is kept."""
    hit = None if refresh else client.get(key)
    if hit is not None:
        kept = json.loads(hit)
        return kept["answer"], kept["asked_at"]
    asked_at = time.time()
    answer = fetch()
    client.set(key, json.dumps({"asked_at": asked_at, "answer": answer}), ex=ttl)
    return answer, asked_at


def cached(client: redis.Redis, key: str, ttl: int, fetch: Callable[[], Any]) -> Any:
    """``fetch()``'s answer, kept in Redis for ``ttl`` seconds (None is kept too), so
    a crowd asking the same question costs one call."""
    hit = client.get(key)
    if hit is not None:
        return json.loads(hit)
    value = fetch()
    client.set(key, json.dumps(value), ex=ttl)
    return value


def over_rate_limit(client: redis.Redis, key: str, limit: int, period: int) -> bool:
    """Count one more call under ``key``; True once more than ``limit`` fall in a ``period``."""
    with client.pipeline() as pipe:
        pipe.set(key, 0, ex=period, nx=True)
        pipe.incr(key)
        _, count = pipe.execute()
    return cast(int, count) > limit
