"""Go-live alerts in Redis: each viewer's streamers, and their devices' push subscriptions.

- ``sev:alerts:<viewer id>``: hash, login -> ``{"id", "login", "name"}`` of a streamer;
- ``sev:alerting:<broadcaster id>``: set of the viewers alerted when that streamer goes live;
- ``sev:alerted``: hash, broadcaster id -> streamer, of those some viewer is alerted of
  (what the alert leases should be: beat heals them from it);
- ``sev:push-subscriptions:<viewer id>``: hash, subscription id -> ``{"endpoint", "keys"}``
  (a browser's ``PushSubscription.toJSON()``) with when it was stored;
- ``sev:push-endpoint:<subscription id>``: the viewer whose device that is (a browser's
  subscription belongs to the last viewer who signed it up).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import cast

import redis

from shared.events import Broadcaster
from shared.lua import LuaScript

ALERTED = "sev:alerted"
DEVICES_PER_VIEWER = 10  # the newest are kept
# Add an alert (ARGV[1] login, ARGV[2] streamer JSON, ARGV[4] viewer id, ARGV[5]
# broadcaster id) to a viewer's list KEYS[1], the streamer's set KEYS[2] and the hash of
# alerted streamers KEYS[3], unless the list has ARGV[3] already: 1 added, 0 there
# already, -1 full.
_ADD_ALERT = LuaScript("""
local known = redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1
if not known and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('HSET', KEYS[3], ARGV[5], ARGV[2])
if known then return 0 end
return 1
""")
# Remove viewer ARGV[2] from the streamer's set KEYS[2] (and login ARGV[1] from the
# viewer's list KEYS[1]); the streamer (ARGV[3]) leaves the alerted hash KEYS[3] with
# its last viewer.
_REMOVE_ALERT = LuaScript("""
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
if redis.call('SCARD', KEYS[2]) == 0 then redis.call('HDEL', KEYS[3], ARGV[3]) end
""")


def alerts_key(viewer_id: str) -> str:
    """Key of a viewer's alerts."""
    return f"sev:alerts:{viewer_id}"


def alerting_key(broadcaster_id: str) -> str:
    """Key of the set of viewers alerted when a streamer goes live."""
    return f"sev:alerting:{broadcaster_id}"


def devices_key(viewer_id: str) -> str:
    """Key of a viewer's push subscriptions."""
    return f"sev:push-subscriptions:{viewer_id}"


def device_owner_key(subscription_id: str) -> str:
    """Key of the viewer a push subscription belongs to."""
    return f"sev:push-endpoint:{subscription_id}"


def subscription_id(endpoint: str) -> str:
    """A push subscription's id: a digest of its endpoint (which is a capability)."""
    return hashlib.sha256(endpoint.encode()).hexdigest()[:32]


def viewer_alerts(client: redis.Redis, viewer_id: str) -> list[Broadcaster]:
    """The streamers a viewer is alerted of, by name."""
    stored = cast(dict[str, str], client.hgetall(alerts_key(viewer_id)))
    streamers = [json.loads(raw) for raw in stored.values()]
    return sorted(streamers, key=lambda streamer: streamer["name"].lower())


def add_alert(client: redis.Redis, viewer_id: str, streamer: Broadcaster, limit: int) -> int:
    """Alert a viewer of ``streamer`` (id, login, name): 1 added, 0 had it, -1 at ``limit``."""
    return cast(
        int,
        _ADD_ALERT(
            [alerts_key(viewer_id), alerting_key(streamer["id"]), ALERTED],
            [streamer["login"], json.dumps(streamer), limit, viewer_id, streamer["id"]],
            client=client,
        ),
    )


def remove_alert(client: redis.Redis, viewer_id: str, login: str) -> Broadcaster | None:
    """No more alerts of ``login`` for a viewer; the streamer, if they had it."""
    raw = cast(str | None, client.hget(alerts_key(viewer_id), login))
    if raw is None:
        return None
    streamer: Broadcaster = json.loads(raw)
    keys = (alerts_key(viewer_id), alerting_key(streamer["id"]), ALERTED)
    _REMOVE_ALERT(keys, [login, viewer_id, streamer["id"]], client=client)
    return streamer


def alerted_streamers(client: redis.Redis) -> dict[str, Broadcaster]:
    """The streamers some viewer is alerted of, by broadcaster id."""
    stored = cast(dict[str, str], client.hgetall(ALERTED))
    return {broadcaster_id: json.loads(raw) for broadcaster_id, raw in stored.items()}


def has_alerting_viewers(client: redis.Redis, broadcaster_id: str) -> bool:
    """True while some viewer wants go-live alerts of the streamer."""
    return bool(client.scard(alerting_key(broadcaster_id)))


def store_device(client: redis.Redis, viewer_id: str, subscription: dict) -> str:
    """Keep (or refresh) a device's push subscription for a viewer, taking it from any
    other viewer; a viewer keeps their newest DEVICES_PER_VIEWER. Its id."""
    device = subscription_id(subscription["endpoint"])
    previous = cast(str | None, client.getset(device_owner_key(device), viewer_id))
    stored = {**subscription, "stored_at": time.time()}
    with client.pipeline() as pipe:
        if previous and previous != viewer_id:
            pipe.hdel(devices_key(previous), device)
        pipe.hset(devices_key(viewer_id), device, json.dumps(stored))
        pipe.execute()
    devices = cast(dict[str, str], client.hgetall(devices_key(viewer_id)))
    by_age = sorted(devices, key=lambda key: json.loads(devices[key])["stored_at"], reverse=True)
    for extra in by_age[DEVICES_PER_VIEWER:]:
        forget_device(client, extra, viewer_id)
    return device


def forget_device(client: redis.Redis, device: str, viewer_id: str | None = None) -> bool:
    """Forget one push subscription (of ``viewer_id`` only, if given); True if it was kept."""
    owner = cast(str | None, client.get(device_owner_key(device)))
    if owner is None or (viewer_id is not None and owner != viewer_id):
        return False
    with client.pipeline() as pipe:
        pipe.hdel(devices_key(owner), device)
        pipe.delete(device_owner_key(device))
        pipe.execute()
    return True


def forget_devices(client: redis.Redis, viewer_id: str) -> int:
    """Forget every push subscription of a viewer (logged out everywhere); how many."""
    devices = cast(list[str], client.hkeys(devices_key(viewer_id)))
    return sum(forget_device(client, device, viewer_id) for device in devices)


def alert_devices(client: redis.Redis, broadcaster_id: str) -> dict[str, dict]:
    """The push subscriptions to alert when a streamer goes live, by id."""
    viewers = cast(set[str], client.smembers(alerting_key(broadcaster_id)))
    with client.pipeline(transaction=False) as pipe:
        for viewer_id in viewers:
            pipe.hgetall(devices_key(viewer_id))
        stored = cast(list[dict[str, str]], pipe.execute())
    return {device: json.loads(raw) for each in stored for device, raw in each.items()}
