"""Helix rate limits: a budget of points per client id per window, with Twitch's headers."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from aiohttp import web


@dataclass
class Bucket:
    """One client's budget: what is left and when it fills up again."""

    limit: int
    remaining: int
    reset_at: float

    def headers(self) -> dict[str, str]:
        """The ``Ratelimit-*`` headers Twitch sends with every Helix answer."""
        return {
            "Ratelimit-Limit": str(self.limit),
            "Ratelimit-Remaining": str(self.remaining),
            "Ratelimit-Reset": str(math.ceil(self.reset_at)),
        }


class RateLimiter:
    """Fixed windows: ``limit`` points, refilled ``window`` seconds after the first use."""

    def __init__(self, limit: int, window: float):
        self.limit, self.window = limit, window
        self.buckets: dict[str, Bucket] = {}

    def take(self, key: str, points: int = 1) -> tuple[bool, Bucket]:
        """Spend ``points`` from ``key``'s bucket; False when it cannot pay."""
        now = time.time()
        bucket = self.buckets.get(key)
        if bucket is None or bucket.reset_at <= now:
            bucket = self.buckets[key] = Bucket(self.limit, self.limit, now + self.window)
        if bucket.remaining < points:
            return False, bucket
        bucket.remaining -= points
        return True, bucket

    def reset(self) -> None:
        """Refill every bucket."""
        self.buckets.clear()


LIMITER = web.AppKey("limiter", RateLimiter)


@web.middleware
async def rate_limit(request: web.Request, handler):
    """Charge Helix calls to the caller's Client-Id; past the budget answer 429."""
    if not request.path.startswith("/helix/"):
        return await handler(request)
    allowed, bucket = request.app[LIMITER].take(request.headers.get("Client-Id", ""))
    headers = bucket.headers()
    if not allowed:
        return web.json_response(
            {"error": "Too Many Requests", "status": 429, "message": "Too Many Requests"},
            status=429,
            headers=headers,
        )
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(headers)
        raise
    response.headers.update(headers)
    return response
