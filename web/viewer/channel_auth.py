"""Who may join a streamer's Pusher channel, and the endpoint pusher-js asks.

Streamer channels are private: Pusher lets a socket in only with a signature from
us, and a channel with sockets in it holds the streamer's lease (see
:mod:`web.intake.pusher_webhooks`). So only a signed-in viewer joins, and only a channel
that viewer asked for at ``/api/watch`` (at most ``VIEWER_STREAMER_LIMIT`` of them a
day), or a followed channel whose lease someone holds already (the follows list
listens to those, and cannot start a lease by it).
"""

from __future__ import annotations

import re
import time

import redis
from flask import Blueprint, current_app, request

from shared.events import login_of_channel
from shared.leases import LOGINS
from shared.lua import LuaScript
from web.clients import get_pusher, get_redis
from web.errors import json_error
from web.viewer.auth import from_our_site, login_required
from web.viewer.signed_in import current_user

bp = Blueprint("channel_auth", __name__)
ASKED_FOR_SECONDS = 24 * 3600  # how long asking for a streamer lets one join its channel
FOLLOWS_SECONDS = 7 * 24 * 3600
SOCKET_ID = re.compile(r"[0-9]{1,20}\.[0-9]{1,20}")  # ASCII digits only, as Pusher writes


def asked_key(user_id: str) -> str:
    """Sorted set of the streamers a viewer asked for: login -> when, last."""
    return f"sev:viewer:{user_id}:asked"


def follows_key(user_id: str) -> str:
    """Set of the logins in the viewer's last follows list."""
    return f"sev:viewer:{user_id}:follows"


# Forget the viewer's asks older than the window (ARGV[2] seconds before ARGV[1], now);
# then, unless ARGV[4] was asked for already, refuse when ARGV[3] others were: return
# the oldest ask's time. Else note the ask. One step, so parallel asks cannot all pass.
_ASK_FOR_STREAMER = LuaScript("""
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if not redis.call('ZSCORE', KEYS[1], ARGV[4]) and
   redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], window)
return false
""")


def ask_for_streamer(
    client: redis.Redis, user_id: str, login: str, limit: int, now: float | None = None
) -> float | None:
    """Note that the viewer asked for ``login``; None when it may, else the seconds to
    wait because it asked for ``limit`` other streamers in the last day."""
    now = time.time() if now is None else now
    oldest = _ASK_FOR_STREAMER(
        [asked_key(user_id)], [repr(now), ASKED_FOR_SECONDS, limit, login], client=client
    )
    if oldest is None:
        return None
    return max(1.0, float(oldest) + ASKED_FOR_SECONDS - now)


def remember_follows(client: redis.Redis, user_id: str, logins: list[str]) -> None:
    """Keep the logins of the viewer's follows list, the channels it may listen to."""
    key = follows_key(user_id)
    with client.pipeline() as pipe:
        pipe.delete(key)
        if logins:
            pipe.sadd(key, *logins)
            pipe.expire(key, FOLLOWS_SECONDS)
        pipe.execute()


def may_join(client: redis.Redis, user_id: str, login: str, now: float | None = None) -> bool:
    """True when the viewer asked for ``login`` in the last day, or follows it and its
    lease is held."""
    now = time.time() if now is None else now
    with client.pipeline() as pipe:
        pipe.zscore(asked_key(user_id), login)
        pipe.sismember(follows_key(user_id), login)
        pipe.hexists(LOGINS, login)
        asked_at, follows, held = pipe.execute()
    if asked_at is not None and asked_at > now - ASKED_FOR_SECONDS:
        return True
    return bool(follows and held)


@bp.post("/api/pusher/auth")
@login_required
def authorize_channel():
    """pusher-js asks to join a streamer's channel: sign the request, or refuse it."""
    if not from_our_site():
        return json_error(403, "requests must come from this site")
    socket_id = request.form.get("socket_id", "")
    channel = request.form.get("channel_name", "")
    login = login_of_channel(channel)
    if not SOCKET_ID.fullmatch(socket_id) or login is None:
        return json_error(400, "socket_id and a streamer's channel_name are required")
    user = current_user()
    if not may_join(get_redis(), user["id"], login):
        current_app.logger.info("refused %s the channel of %s: not asked for", user["login"], login)
        return json_error(403, f"watch {login} first")
    return get_pusher().authenticate(channel=channel, socket_id=socket_id)
