"""The lease registry: our hold on each watched streamer's subscriptions, in Redis.

A lease (:class:`Lease`) is a plain dict::

    {"broadcaster_id": "1337", "login": "cool_user", "name": "Cool_User",
     "subscriptions": {"stream.online": {"id": ..., "status": ...}, ...},
     "reasons": ["watch", "alert"],
     "expires_at": epoch seconds, "last_seen": epoch seconds (a viewer was there)}

A lease is held for reasons, each needing some of the streamer's subscriptions
(``REASON_TYPES``): ``watch`` all four, renewed while viewers watch and let go once it
expires unwatched; ``alert`` only ``stream.online``, while a viewer wants go-live
alerts of the streamer. The lease is released when no reason is left.
"""

from __future__ import annotations

import json
import time
from typing import NotRequired, TypedDict, cast

import redis
from redis.lock import Lock

from shared.events import Broadcaster
from shared.eventsub import ENABLED, HEALTHY, SUBSCRIPTION_VERSIONS

LEASES = "sev:leases"  # sorted set: broadcaster id by expiry
LOGINS = "sev:lease-logins"  # hash: login -> broadcaster id
WEBSUB = "websub"
WATCH, ALERT = "watch", "alert"
LOCK_SECONDS = 60  # the longest a lease's lock is held, and waited for by default
# The subscription types each reason needs (WebSub: its one topic, whatever the reason).
REASON_TYPES = {WATCH: tuple(SUBSCRIPTION_VERSIONS), ALERT: ("stream.online",)}


class HeldSubscription(TypedDict):
    """One subscription a lease holds: Twitch's id (a WebSub topic) and its status."""

    id: str
    status: str
    expires_at: NotRequired[float]  # WebSub: when the hub's lease (or our request) ends


class Lease(TypedDict):
    """Our hold on one streamer's subscriptions, as stored (JSON) in Redis."""

    broadcaster_id: str
    login: str
    name: str
    subscriptions: dict[str, HeldSubscription]  # by subscription type
    transport: NotRequired[str]  # "eventsub" or "websub"; older leases have none
    reasons: NotRequired[list[str]]  # why we hold it (REASON_TYPES); older leases: watch
    expires_at: float
    last_seen: float


def lease_key(broadcaster_id: str) -> str:
    """Key of one lease."""
    return f"sev:lease:{broadcaster_id}"


def lease_lock(client: redis.Redis, broadcaster_id: str, wait: float = LOCK_SECONDS) -> Lock:
    """The lock that serializes every change to one streamer's lease; acquiring it
    waits up to ``wait`` seconds, then raises :class:`redis.exceptions.LockError`."""
    return cast(
        Lock,
        client.lock(
            f"sev:lock:lease:{broadcaster_id}", timeout=LOCK_SECONDS, blocking_timeout=wait
        ),
    )


def new_lease(broadcaster: Broadcaster, transport: str = "eventsub", reason: str = WATCH) -> Lease:
    """An empty lease for a broadcaster (``id``, ``login``, ``name``), held for ``reason``."""
    return {
        "broadcaster_id": broadcaster["id"],
        "login": broadcaster["login"],
        "name": broadcaster.get("name") or broadcaster["login"],
        "subscriptions": {},
        "transport": transport,
        "reasons": [reason],
        "expires_at": 0.0,
        "last_seen": 0.0,
    }


def lease_reasons(lease: Lease) -> list[str]:
    """Why we hold a lease: some of ``REASON_TYPES`` (a lease from before reasons: watch)."""
    return lease.get("reasons", [WATCH])


def wanted_subscriptions(lease: Lease, reasons: list[str] | None = None) -> list[tuple[str, str]]:
    """The (type, version) pairs the lease needs for ``reasons`` (default: its own)."""
    reasons = lease_reasons(lease) if reasons is None else reasons
    if lease.get("transport") == WEBSUB:
        return [(WEBSUB, "")] if reasons else []
    types = {kind for reason in reasons for kind in REASON_TYPES[reason]}
    return [(kind, version) for kind, version in SUBSCRIPTION_VERSIONS.items() if kind in types]


def get_lease(client: redis.Redis, broadcaster_id: str) -> Lease | None:
    """The lease on a broadcaster, or None."""
    raw = client.get(lease_key(broadcaster_id))
    return json.loads(raw) if raw else None


def lease_for_login(client: redis.Redis, login: str) -> Lease | None:
    """The lease on the streamer whose channel is ``login``, or None."""
    broadcaster_id = cast(str | None, client.hget(LOGINS, login.lower()))
    return get_lease(client, broadcaster_id) if broadcaster_id else None


def save_lease(client: redis.Redis, lease: Lease) -> None:
    """Store a lease and index it by expiry and login."""
    with client.pipeline() as pipe:
        pipe.set(lease_key(lease["broadcaster_id"]), json.dumps(lease))
        pipe.zadd(LEASES, {lease["broadcaster_id"]: lease["expires_at"]})
        pipe.hset(LOGINS, lease["login"], lease["broadcaster_id"])
        pipe.execute()


def forget_lease(client: redis.Redis, lease: Lease) -> None:
    """Remove a lease and its index entries."""
    with client.pipeline() as pipe:
        pipe.delete(lease_key(lease["broadcaster_id"]))
        pipe.zrem(LEASES, lease["broadcaster_id"])
        pipe.hdel(LOGINS, lease["login"])
        pipe.execute()


def all_leases(client: redis.Redis) -> list[Lease]:
    """Every lease, soonest to expire first."""
    ids = cast(list[str], client.zrange(LEASES, 0, -1))
    raw = client.mget([lease_key(i) for i in ids]) if ids else []
    return [json.loads(item) for item in raw if item]


def extend(lease: Lease, grace: float, now: float | None = None) -> Lease:
    """Mark a viewer as seen now and hold the lease for ``grace`` seconds more."""
    now = time.time() if now is None else now
    lease["last_seen"] = now
    lease["expires_at"] = max(lease["expires_at"], now + grace)
    return lease


def missing_subscriptions(
    lease: Lease,
    renew_before: float = 0,
    now: float | None = None,
    reasons: list[str] | None = None,
) -> list[tuple[str, str]]:
    """The (type, version) pairs ``reasons`` (default: the lease's own) want that the
    lease does not hold in good health, holds at the WebSub hub for less than
    ``renew_before`` seconds more, or asked the hub for in a request that lapsed
    unverified."""
    now = time.time() if now is None else now
    held = lease["subscriptions"]
    return [
        (kind, version)
        for kind, version in wanted_subscriptions(lease, reasons)
        if kind not in held
        or held[kind].get("status") not in HEALTHY
        or runs_out(held[kind], renew_before, now)
    ]


def runs_out(held: HeldSubscription, renew_before: float, now: float) -> bool:
    """True when a WebSub subscription must be asked for again: the hub's lease ends
    within ``renew_before`` seconds, or our request (still pending) has lapsed."""
    if "expires_at" not in held:
        return False
    margin = renew_before if held["status"] == ENABLED else 0
    return held["expires_at"] - now <= margin


def serves(lease: Lease | None, reason: str) -> bool:
    """True when the lease is held for ``reason`` and holds all it needs in good health."""
    if lease is None or reason not in lease_reasons(lease):
        return False
    return not missing_subscriptions(lease, reasons=[reason])


def leases_for_logins(client: redis.Redis, logins: list[str]) -> list[Lease | None]:
    """The lease on each of ``logins``' streamers, None where there is none."""
    ids = cast(list[str | None], client.hmget(LOGINS, logins)) if logins else []
    found = [i for i in ids if i]
    stored = cast(list[str | None], client.mget([lease_key(i) for i in found]) if found else [])
    by_id = {i: json.loads(raw) for i, raw in zip(found, stored, strict=True) if raw}
    return [by_id.get(i) if i else None for i in ids]


def touch_lease(client: redis.Redis, login: str, grace: float) -> Lease | None:
    """A viewer is on ``login``'s channel: hold its lease ``grace`` seconds more."""
    lease = lease_for_login(client, login)
    if lease:
        save_lease(client, extend(lease, grace))
    return lease
