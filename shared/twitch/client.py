"""The Twitch client: users, streams, channels, follows and EventSub subscriptions
through Helix, and the WebSub hub.

Every call uses the shared app access token (see :mod:`shared.twitch.tokens`),
has time-outs, is retried with backoff on connection errors and 5xx answers
(:mod:`shared.twitch.session`), keeps within Twitch's rate limit, and fails with a
:class:`~shared.twitch.errors.TwitchError`. The client's ``user_tokens`` make a
viewer's token calls on the same session.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping

import redis
import requests
from redis.typing import EncodableT

from shared.settings import Settings
from shared.twitch.errors import (
    TooManySubscriptions,
    TwitchRateLimited,
    error_for,
    message_of,
)
from shared.twitch.session import Pause, make_session, send
from shared.twitch.tokens import AppTokens, UserTokens

log = logging.getLogger(__name__)

RATE_LIMIT = "sev:twitch:ratelimit"
LOW_BUDGET = 0.05
HEADROOM = 0.5
MAX_WAIT = 60
RATE_LIMIT_RETRIES = 3
EVENTSUB_COST = "sev:twitch:eventsub-cost"
COST_FIELDS = ("total", "total_cost", "max_total_cost")
CHUNK = 100
# Query parameters of a Helix call: a mapping, or pairs (a name may repeat).
Params = Mapping[str, str | int] | list[tuple[str, str | int]]


def eventsub_cost(redis_client: redis.Redis) -> dict:
    """The EventSub budget figures from Twitch's last answer (empty before the first).

    Keys: ``total``, ``total_cost``, ``max_total_cost`` and ``updated_at`` (epoch seconds).
    """
    return {name: int(value) for name, value in redis_client.hgetall(EVENTSUB_COST).items()}


def eventsub_budget_spent(redis_client: redis.Redis) -> dict | None:
    """The budget figures when Twitch's last answer showed the cost budget spent, else None."""
    cost = eventsub_cost(redis_client)
    return cost if cost and cost["total_cost"] >= cost["max_total_cost"] else None


def rate_limit_left(redis_client: redis.Redis) -> tuple[int, int] | None:
    """``(remaining, limit)`` of Twitch's rate-limit bucket as its last answer told, or None
    when no answer told it or its window has reset since (the bucket is full again)."""
    budget = redis_client.hgetall(RATE_LIMIT)
    try:
        limit, remaining = int(budget["limit"]), int(budget["remaining"])
        reset = float(budget["reset"])
    except (KeyError, ValueError):
        return None
    return (remaining, limit) if reset > time.time() else None


class TwitchClient:
    """Helix with the app access token. Use one per process or thread.

    ``wait_on_rate_limit`` (the worker's way) sleeps until Twitch's rate-limit reset,
    up to ``MAX_WAIT`` seconds, when the bucket is empty or nearly so; without it (the
    web's way: a request thread must never sleep that long) such a call raises
    :class:`TwitchRateLimited` at once, with the reset time.

    ``pause`` waits out both the retries' backoff and the rate limit (``time.sleep``
    unless given). ``user_tokens`` (:class:`UserTokens`) makes a viewer's token calls
    on the same session.
    """

    def __init__(
        self,
        settings: Settings,
        redis_client: redis.Redis,
        wait_on_rate_limit: bool = True,
        pause: Pause = time.sleep,
    ):
        self.settings, self.redis = settings, redis_client
        self.pause = pause
        self.session = make_session(pause)
        self.tokens = AppTokens(settings, redis_client, self.session)
        self.user_tokens = UserTokens(settings, self.session)
        self.rate_limit_retries = RATE_LIMIT_RETRIES
        self.wait_on_rate_limit = wait_on_rate_limit

    def close(self) -> None:
        """Close the connections kept open."""
        self.session.close()

    def validate_app_token(self) -> bool:
        """Validate the app token (hourly); replace it when refused or ending within a day.

        Returns True when a new token was fetched.
        """
        return self.tokens.validate()

    def users_by_login(self, logins: Iterable[str]) -> list[dict]:
        """The users with these logins; unknown logins are left out."""
        return self._lookup("/users", "login", [login.lower() for login in logins])

    def user_by_login(self, login: str) -> dict | None:
        """The user with this login, or None when Twitch knows no such user."""
        users = self.users_by_login([login]) if login else []
        return users[0] if users else None

    def users_by_id(self, ids: Iterable[str]) -> list[dict]:
        """The users with these ids; unknown ids are left out."""
        return self._lookup("/users", "id", [str(i) for i in ids])

    def streams_by_id(self, ids: Iterable[str]) -> list[dict]:
        """The live streams of these streamers (by user id); offline streamers are absent."""
        return self._lookup("/streams", "user_id", [str(i) for i in ids], first=CHUNK)

    def create_eventsub_subscription(
        self, type: str, version: str, condition: dict, callback: str, secret: str
    ) -> dict:
        """Subscribe ``callback`` (a webhook) to an event; Twitch then verifies the callback.

        Returns the subscription with ``total``, ``total_cost`` and
        ``max_total_cost`` added. Raises :class:`SubscriptionExists` (409) and
        :class:`TooManySubscriptions` (429 for this type and condition, or cost).
        """
        body = {
            "type": type,
            "version": version,
            "condition": condition,
            "transport": {"method": "webhook", "callback": callback, "secret": secret},
        }
        answer = self._helix("POST", "/eventsub/subscriptions", json=body, hide=(secret,)).json()
        costs = self._note_cost(answer)
        return {**answer["data"][0], **costs}

    def eventsub_subscriptions(
        self,
        status: str | None = None,
        type: str | None = None,
        user_id: str | None = None,
        subscription_id: str | None = None,
    ) -> dict:
        """Every subscription of this app, all pages, filtered by at most one filter.

        Returns ``{"data": [...], "total", "total_cost", "max_total_cost"}``.
        """
        filters = {
            name: value
            for name, value in (
                ("status", status),
                ("type", type),
                ("user_id", user_id),
                ("subscription_id", subscription_id),
            )
            if value is not None
        }
        if len(filters) > 1:
            raise ValueError(f"Twitch takes one filter at a time, not {', '.join(filters)}")
        found: list[dict] = []
        seen: set[str] = set()
        params = dict(filters)
        while True:
            answer = self._helix("GET", "/eventsub/subscriptions", params=params).json()
            found += answer.get("data") or []
            cursor = (answer.get("pagination") or {}).get("cursor")
            if not cursor or cursor in seen:
                break
            seen.add(cursor)
            params = {**filters, "after": cursor}
        return {"data": found, **self._note_cost(answer)}

    def delete_eventsub_subscription(self, subscription_id: str) -> None:
        """Delete a subscription; :class:`TwitchNotFound` when Twitch has no such one."""
        self._helix("DELETE", "/eventsub/subscriptions", params={"id": subscription_id})

    def channel_information(self, broadcaster_id: str) -> dict | None:
        """A channel's title, category and language; None for an unknown broadcaster."""
        found = self._helix("GET", "/channels", params={"broadcaster_id": broadcaster_id})
        data = found.json().get("data") or []
        return data[0] if data else None

    def followed_channels(self, user_id: str, user_token: str, pages: int = 5) -> list[dict]:
        """The channels a user follows (their token, scope ``user:read:follows``)."""
        found: list[dict] = []
        params: dict[str, str | int] = {"user_id": user_id, "first": CHUNK}
        for _ in range(pages):
            response = self._send("GET", "/channels/followed", user_token, params, None)
            self._note_budget(response)
            if not response.ok:
                raise error_for(response, (user_token, self.settings.twitch_client_secret))
            answer = response.json()
            found += answer.get("data") or []
            cursor = (answer.get("pagination") or {}).get("cursor")
            if not cursor:
                break
            params = {**params, "after": cursor}
        return found

    def websub_hub(
        self, mode: str, topic: str, callback: str, lease_seconds: int, secret: str
    ) -> None:
        """Ask the legacy WebSub hub to (un)subscribe ``callback`` to ``topic``; it
        answers 202 and then verifies with a GET to the callback. ``secret`` (the
        subscription's own) is sent when given."""
        fields = {
            "hub.mode": mode,
            "hub.topic": topic,
            "hub.callback": callback,
            "hub.lease_seconds": str(lease_seconds),
        }
        if secret:
            fields["hub.secret"] = secret
        self._helix("POST", "/webhooks/hub", json=fields, hide=(secret,))

    def _lookup(self, path: str, name: str, values: list[str], **extra: str | int) -> list[dict]:
        values = list(dict.fromkeys(value for value in values if value))
        found: list[dict] = []
        for start in range(0, len(values), CHUNK):
            params: list[tuple[str, str | int]] = [
                (name, value) for value in values[start : start + CHUNK]
            ]
            params += list(extra.items())
            found += self._helix("GET", path, params=params).json().get("data") or []
        return found

    def _helix(
        self,
        method: str,
        path: str,
        params: Params | None = None,
        json: Mapping[str, object] | None = None,
        hide: Iterable[str] = (),
    ) -> requests.Response:
        token = self.tokens.get()
        renewed, waits = False, 0
        while True:
            self._wait_for_budget()
            response = self._send(method, path, token, params, json)
            self._note_budget(response)
            if response.status_code == 401 and not renewed:
                log.info("Twitch refused the app access token; fetching a new one")
                token, renewed = self.tokens.renew(token), True
            elif (
                response.status_code == 429
                and _bucket_empty(response)
                and self.wait_on_rate_limit
                and waits < self.rate_limit_retries
            ):
                waits += 1
                self._pause(_reset_of(response), "rate limited by Twitch")
            else:
                break
        if response.ok:
            return response
        hide = (token, self.settings.twitch_client_secret, *hide)
        if response.status_code == 429 and not _bucket_empty(response):
            raise TooManySubscriptions(429, message_of(response, hide))
        error = error_for(response, hide)
        if isinstance(error, TwitchRateLimited):
            error.reset_at = _reset_of(response)
        raise error

    def _send(
        self,
        method: str,
        path: str,
        token: str,
        params: Params | None,
        json: Mapping[str, object] | None,
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", "Client-Id": self.settings.twitch_client_id}
        url = self.settings.twitch_api_url + path
        return send(self.session, method, url, params=params, json=json, headers=headers)

    def _wait_for_budget(self) -> None:
        budget = self.redis.hgetall(RATE_LIMIT)
        try:
            limit, remaining = int(budget["limit"]), int(budget["remaining"])
            reset = float(budget["reset"])
        except (KeyError, ValueError):
            return
        if remaining < max(1, limit * LOW_BUDGET) and reset > time.time():
            why = f"{remaining} of {limit} rate-limit points left"
            if not self.wait_on_rate_limit:
                error = TwitchRateLimited(429, f"{why}; not waiting for the reset")
                error.reset_at = reset
                raise error
            self._pause(reset, why)

    def _note_budget(self, response: requests.Response) -> None:
        try:
            limit = int(response.headers["Ratelimit-Limit"])
            remaining = int(response.headers["Ratelimit-Remaining"])
            reset = int(float(response.headers["Ratelimit-Reset"]))
        except (KeyError, ValueError):
            return
        with self.redis.pipeline() as pipe:
            pipe.hset(RATE_LIMIT, mapping={"limit": limit, "remaining": remaining, "reset": reset})
            pipe.expireat(RATE_LIMIT, reset + 1)
            pipe.execute()

    def _pause(self, reset: float, why: str) -> None:
        delay = min(max(0.0, reset - time.time()) + HEADROOM, MAX_WAIT)
        log.warning("%s: waiting %.1fs for the rate-limit reset", why, delay)
        self.pause(delay)

    def _note_cost(self, answer: dict) -> dict:
        costs: dict[EncodableT, int] = {
            name: answer[name] for name in COST_FIELDS if isinstance(answer.get(name), int)
        }
        if costs:
            self.redis.hset(EVENTSUB_COST, mapping={**costs, "updated_at": int(time.time())})
        return costs


def _bucket_empty(response: requests.Response) -> bool:
    """True when a 429 means the rate-limit bucket is empty (not a subscription limit)."""
    return response.headers.get("Ratelimit-Remaining", "0").strip() == "0"


def _reset_of(response: requests.Response) -> float:
    try:
        return float(response.headers["Ratelimit-Reset"])
    except (KeyError, ValueError):
        return time.time() + 1
