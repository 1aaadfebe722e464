"""The Twitch client against real servers on loopback: the Twitch emulator, and a small
scripted stand-in for what the emulator cannot be made to do (5xx, odd answers)."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from shared import twitch, twitch_auth
from shared.twitch import (
    SubscriptionExists,
    TooManySubscriptions,
    TwitchAuthError,
    TwitchClient,
    TwitchError,
    TwitchNotFound,
    TwitchRateLimited,
    TwitchUnavailable,
    eventsub_cost,
)
from tests.support import free_port, wait_until

pytestmark = pytest.mark.timeout(60)

COOL_USER_ID = "958187706"
SECRET = "webhook-secret-for-tests"


@pytest.fixture
def pauses():
    """The pauses (seconds) the test's clients asked for, in order."""
    return []


@pytest.fixture
def clients(redis_client, pauses):
    """Build clients that are closed after the test. Their pauses (backoff, rate limit)
    are recorded in ``pauses`` and not slept, unless built with ``sleep=True`` (for a
    server whose clock must really move on)."""
    made = []

    def build(settings, sleep=False):
        def pause(seconds):
            pauses.append(seconds)
            if sleep:
                time.sleep(seconds)

        client = TwitchClient(settings, redis_client, pause=pause)
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


@pytest.fixture
def client(clients, twitch_settings):
    """A client of the session's emulator."""
    return clients(twitch_settings)


# -- small real servers --------------------------------------------------------------------


class Server:
    """A threaded HTTP server on a free loopback port, answering with ``handle``."""

    def __init__(self, handle):
        class Handler(BaseHTTPRequestHandler):
            def do_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                status, body, headers = handle(self, self.rfile.read(length))
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, str(value))
                self.send_header("Content-Length", str(len(raw)) if status != 204 else "0")
                self.end_headers()
                if status != 204:
                    self.wfile.write(raw)

            do_GET = do_POST = do_DELETE = do_any

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def echo_challenges(request, body):
    """A callback that passes Twitch's verification."""
    if request.headers.get("Twitch-Eventsub-Message-Type") == "webhook_callback_verification":
        return 200, json.loads(body)["challenge"].encode(), {"Content-Type": "text/plain"}
    return 204, b"", {}


@dataclass
class Seen:
    """One request the stand-in received."""

    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    at: float


@dataclass
class StandIn:
    """Twitch played from a script: ``answers[(method, path)]`` are given in turn, the last
    one repeatedly; ``/oauth2/token`` issues ``token-1``, ``token-2``, ..."""

    answers: dict = field(default_factory=dict)
    seen: list = field(default_factory=list)
    issued: int = 0

    def __post_init__(self):
        self.server = Server(self.handle)
        self.url = self.server.url

    def handle(self, request, body):
        parts = urlsplit(request.path)
        self.seen.append(
            Seen(
                request.command,
                parts.path,
                parse_qs(parts.query),
                dict(request.headers),
                body,
                time.time(),
            )
        )
        if parts.path == "/oauth2/token":
            self.issued += 1
            return (
                200,
                {
                    "access_token": f"token-{self.issued}",
                    "expires_in": 5_000_000,
                    "token_type": "bearer",
                },
                {},
            )
        queue = self.answers.get((request.command, parts.path))
        if not queue:
            return 404, {"error": "Not Found", "status": 404, "message": "no script"}, {}
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return answer() if callable(answer) else answer

    def helix(self, method=None):
        """Helix requests received, optionally of one method."""
        return [
            s
            for s in self.seen
            if s.path.startswith("/helix") and (method is None or s.method == method)
        ]

    def settings_for(self, settings):
        return dataclasses.replace(
            settings, twitch_api_url=f"{self.url}/helix", twitch_auth_url=f"{self.url}/oauth2"
        )


# The pauses urllib3 asks for between RETRIES attempts: none before the first retry,
# then BACKOFF doubling.
BACKOFFS = [twitch.BACKOFF * 2**n for n in range(1, twitch.RETRIES)]


def problem(status, message):
    return status, {"error": "Error", "status": status, "message": message}, {}


def users(*logins):
    return 200, {"data": [{"id": str(n), "login": login} for n, login in enumerate(logins)]}, {}


@pytest.fixture
def stand_in():
    server = StandIn()
    yield server
    server.server.close()


@pytest.fixture
def callback_server():
    server = Server(echo_challenges)
    yield server
    server.close()


def subscribe(client, callback, kind="stream.online", user_id=COOL_USER_ID):
    version = "2" if kind == "channel.update" else "1"
    return client.create_eventsub_subscription(
        kind, version, {"broadcaster_user_id": user_id}, callback, SECRET
    )


# -- app access token ----------------------------------------------------------------------


def test_app_token_is_fetched_once_and_shared_through_redis(
    clients, twitch_settings, twitch_emulator, redis_client
):
    first, second = clients(twitch_settings), clients(twitch_settings)
    assert first.user_by_login("cool_user")["id"] == COOL_USER_ID
    assert second.user_by_login("cool_user")["id"] == COOL_USER_ID
    issued = twitch_emulator.app_tokens()
    assert len(issued) == 1
    cached = redis_client.hgetall(twitch_auth.APP_TOKEN)
    assert cached["token"] == issued[0]
    assert cached["client_id"] == twitch_settings.twitch_client_id
    assert int(cached["expires_at"]) > time.time() + 30 * 24 * 3600
    assert 0 < redis_client.ttl(twitch_auth.APP_TOKEN) <= 5_000_000 - twitch_auth.RENEW_BEFORE


def test_concurrent_processes_fetch_a_single_token(clients, twitch_settings, twitch_emulator):
    workers = [clients(twitch_settings) for _ in range(8)]
    start, results = threading.Barrier(len(workers)), []

    def work(client):
        start.wait()
        results.append(client.user_by_login("cool_user")["id"])

    threads = [threading.Thread(target=work, args=(c,)) for c in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [COOL_USER_ID] * len(workers)
    assert len(twitch_emulator.app_tokens()) == 1


def test_a_refused_token_is_replaced_and_the_call_repeated_once(
    client, twitch_emulator, redis_client
):
    client.user_by_login("cool_user")
    old = redis_client.hget(twitch_auth.APP_TOKEN, "token")
    twitch_emulator.control("expire-token", token=old)
    assert client.user_by_login("cool_user")["id"] == COOL_USER_ID
    new = redis_client.hget(twitch_auth.APP_TOKEN, "token")
    assert new != old
    assert sorted(twitch_emulator.app_tokens()) == sorted([old, new])


def test_a_second_refusal_is_an_auth_error_without_the_token(clients, settings, stand_in):
    stand_in.answers[("GET", "/helix/users")] = [
        lambda: problem(401, f"Invalid OAuth token {stand_in.seen[-1].headers['Authorization']}")
    ]
    client = clients(stand_in.settings_for(settings))
    with pytest.raises(TwitchAuthError) as caught:
        client.user_by_login("cool_user")
    assert caught.value.status == 401
    assert len(stand_in.helix()) == 2, "one repeat with a new token, no more"
    assert [s.headers["Authorization"] for s in stand_in.helix()] == [
        "Bearer token-1",
        "Bearer token-2",
    ]
    text = f"{caught.value} {caught.value!r} {caught.value.message} {caught.value.args}"
    assert "Invalid OAuth token" in text
    assert "token-1" not in text and "token-2" not in text


def test_helix_calls_carry_the_bearer_token_and_client_id(clients, settings, stand_in):
    stand_in.answers[("GET", "/helix/users")] = [users("cool_user")]
    client = clients(stand_in.settings_for(settings))
    client.user_by_login("cool_user")
    grant, call = stand_in.seen
    assert grant.method == "POST" and grant.path == "/oauth2/token"
    assert parse_qs(grant.body.decode()) == {
        "client_id": [settings.twitch_client_id],
        "client_secret": [settings.twitch_client_secret],
        "grant_type": ["client_credentials"],
    }
    assert grant.query == {}, "credentials never go in the URL"
    assert call.headers["Authorization"] == "Bearer token-1"
    assert call.headers["Client-Id"] == settings.twitch_client_id
    assert call.query == {"login": ["cool_user"]}


def test_validation_keeps_a_good_token(client, twitch_emulator, redis_client):
    client.user_by_login("cool_user")
    token = redis_client.hget(twitch_auth.APP_TOKEN, "token")
    assert client.validate_app_token() is False
    assert redis_client.hget(twitch_auth.APP_TOKEN, "token") == token
    assert twitch_emulator.app_tokens() == [token]


def test_validation_replaces_a_refused_token(client, twitch_emulator, redis_client):
    client.user_by_login("cool_user")
    old = redis_client.hget(twitch_auth.APP_TOKEN, "token")
    twitch_emulator.control("expire-token", token=old)
    assert client.validate_app_token() is True
    new = redis_client.hget(twitch_auth.APP_TOKEN, "token")
    assert new not in (None, old)
    assert len(twitch_emulator.app_tokens()) == 2


def test_validation_replaces_a_token_ending_within_a_day(
    clients, settings, twitch_emulator_factory, redis_client
):
    emulator = twitch_emulator_factory(TWITCH_EMULATOR_APP_TOKEN_TTL="7200")
    client = clients(emulator.settings_for(settings))
    client.user_by_login("cool_user")
    old = redis_client.hget(twitch_auth.APP_TOKEN, "token")
    assert client.validate_app_token() is True
    assert redis_client.hget(twitch_auth.APP_TOKEN, "token") != old


def test_a_refused_client_secret_is_an_auth_error_without_the_secret(
    clients, twitch_settings, twitch_emulator
):
    secret = "a-wrong-client-secret-value"
    client = clients(dataclasses.replace(twitch_settings, twitch_client_secret=secret))
    with pytest.raises(TwitchAuthError) as caught:
        client.user_by_login("cool_user")
    assert caught.value.status == 403
    assert secret not in f"{caught.value} {caught.value!r}"


# -- users and streams ---------------------------------------------------------------------


def test_users_by_login_and_id(client, twitch_emulator):
    assert client.user_by_login("cool_user")["id"] == COOL_USER_ID
    assert client.user_by_login("Cool_User")["login"] == "cool_user"
    assert client.user_by_login("nobody_by_this_name") is None
    found = client.users_by_login(["cool_user", "night_owl", "nobody_by_this_name"])
    assert sorted(u["login"] for u in found) == ["cool_user", "night_owl"]
    assert [u["login"] for u in client.users_by_id([COOL_USER_ID, "1"])] == ["cool_user"]
    assert client.users_by_login([]) == []


def test_more_than_a_hundred_logins_are_asked_in_chunks(client, twitch_emulator):
    logins = [f"unknown_{n}" for n in range(150)] + ["cool_user", "speedy_sam"]
    found = client.users_by_login(logins)
    assert sorted(u["login"] for u in found) == ["cool_user", "speedy_sam"]


def test_streams_list_only_live_streamers(client, twitch_emulator):
    users = client.users_by_login(["cool_user", "speedy_sam", "chill_chess", "night_owl"])
    assert sorted(s["user_login"] for s in client.streams_by_id([u["id"] for u in users])) == [
        "chill_chess",
        "speedy_sam",
    ]
    twitch_emulator.control("go-live", login="cool_user", title="Testing")
    live = {s["user_login"]: s for s in client.streams_by_id([COOL_USER_ID, "122699689"])}
    assert sorted(live) == ["cool_user", "speedy_sam"]
    assert live["cool_user"]["title"] == "Testing"


# -- EventSub subscriptions ----------------------------------------------------------------


def test_subscriptions_are_created_listed_filtered_and_deleted(
    client, twitch_emulator, callback_server, redis_client
):
    created = subscribe(client, f"{callback_server.url}/callback")
    assert created["type"] == "stream.online"
    assert created["condition"] == {"broadcaster_user_id": COOL_USER_ID}
    assert (created["total"], created["total_cost"], created["max_total_cost"]) == (1, 1, 10000)
    failing = subscribe(
        client,
        f"http://127.0.0.1:{free_port()}/callback",
        kind="channel.update",
        user_id="122699689",
    )

    def status_of(sub_id):
        return client.eventsub_subscriptions(subscription_id=sub_id)["data"][0]["status"]

    wait_until(lambda: status_of(created["id"]) == "enabled", message="verification")
    wait_until(
        lambda: status_of(failing["id"]) == "webhook_callback_verification_failed",
        message="failed verification",
    )
    everything = client.eventsub_subscriptions()
    assert sorted(s["id"] for s in everything["data"]) == sorted([created["id"], failing["id"]])
    assert everything["total"] == 2 and everything["max_total_cost"] == 10000

    def ids(**only):
        return [s["id"] for s in client.eventsub_subscriptions(**only)["data"]]

    assert ids(status="enabled") == [created["id"]]
    assert ids(type="channel.update") == [failing["id"]]
    assert ids(user_id=COOL_USER_ID) == [created["id"]]
    assert ids(subscription_id=failing["id"]) == [failing["id"]]
    assert ids(status="authorization_revoked") == []

    client.delete_eventsub_subscription(created["id"])
    assert ids() == [failing["id"]]
    with pytest.raises(TwitchNotFound):
        client.delete_eventsub_subscription(created["id"])


def test_budget_figures_are_kept_in_redis(client, twitch_emulator, callback_server, redis_client):
    assert eventsub_cost(redis_client) == {}
    subscribe(client, f"{callback_server.url}/callback")
    subscribe(client, f"{callback_server.url}/callback", kind="stream.offline")
    figures = eventsub_cost(redis_client)
    assert (figures["total"], figures["total_cost"], figures["max_total_cost"]) == (2, 2, 10000)
    assert figures["updated_at"] <= time.time()
    client.delete_eventsub_subscription(client.eventsub_subscriptions()["data"][0]["id"])
    client.eventsub_subscriptions(type="stream.online")
    assert eventsub_cost(redis_client)["total_cost"] == 1


def test_an_existing_subscription_is_reported(client, twitch_emulator, callback_server):
    subscribe(client, f"{callback_server.url}/callback")
    with pytest.raises(SubscriptionExists) as caught:
        subscribe(client, f"{callback_server.url}/callback")
    assert caught.value.status == 409
    assert "already exists" in caught.value.message


def test_too_many_alike_subscriptions_are_reported(client, twitch_emulator, callback_server):
    for n in range(3):
        subscribe(client, f"{callback_server.url}/callback{n}")
    with pytest.raises(TooManySubscriptions) as caught:
        subscribe(client, f"{callback_server.url}/callback3")
    assert caught.value.status == 429 and "too many" in caught.value.message


def test_every_page_is_followed(clients, settings, stand_in):
    pages = {None: (["a", "b"], "c1"), "c1": (["c", "d"], "c2"), "c2": (["e"], None)}

    def page():
        after = stand_in.seen[-1].query.get("after", [None])[0]
        data, cursor = pages[after]
        return (
            200,
            {
                "data": [{"id": i, "status": "enabled"} for i in data],
                "total": 5,
                "total_cost": 5,
                "max_total_cost": 10000,
                "pagination": {"cursor": cursor} if cursor else {},
            },
            {},
        )

    stand_in.answers[("GET", "/helix/eventsub/subscriptions")] = [page]
    listing = clients(stand_in.settings_for(settings)).eventsub_subscriptions(status="enabled")
    assert [s["id"] for s in listing["data"]] == ["a", "b", "c", "d", "e"]
    assert (listing["total"], listing["total_cost"], listing["max_total_cost"]) == (5, 5, 10000)
    assert [s.query for s in stand_in.helix()] == [
        {"status": ["enabled"]},
        {"status": ["enabled"], "after": ["c1"]},
        {"status": ["enabled"], "after": ["c2"]},
    ]


def test_two_filters_at_once_are_refused_before_any_call(clients, settings, stand_in):
    client = clients(stand_in.settings_for(settings))
    with pytest.raises(ValueError):
        client.eventsub_subscriptions(status="enabled", type="stream.online")
    with pytest.raises(ValueError):
        client.eventsub_subscriptions(user_id="1", subscription_id="x")
    assert stand_in.seen == []


def test_a_create_retried_after_a_server_error_reports_the_subscription_exists(
    clients, settings, stand_in
):
    stand_in.answers[("POST", "/helix/eventsub/subscriptions")] = [
        problem(500, "Internal Server Error"),
        problem(409, "subscription already exists"),
    ]
    client = clients(stand_in.settings_for(settings))
    with pytest.raises(SubscriptionExists):
        subscribe(client, "https://example.org/callback")
    assert len(stand_in.helix("POST")) == 2


def test_the_webhook_secret_never_shows_in_errors(clients, settings, stand_in):
    stand_in.answers[("POST", "/helix/eventsub/subscriptions")] = [
        lambda: problem(400, f"bad request: {stand_in.seen[-1].body.decode()}")
    ]
    client = clients(stand_in.settings_for(settings))
    with pytest.raises(TwitchError) as caught:
        subscribe(client, "https://example.org/callback")
    assert caught.value.status == 400
    assert "bad request" in str(caught.value)
    assert SECRET not in f"{caught.value} {caught.value!r}"


# -- failures, retries and rate limits -----------------------------------------------------


def test_server_errors_are_retried_with_backoff(clients, settings, stand_in, pauses):
    stand_in.answers[("GET", "/helix/users")] = [
        problem(503, "Service Unavailable"),
        problem(502, "Bad Gateway"),
        users("cool_user"),
    ]
    client = clients(stand_in.settings_for(settings))
    assert client.user_by_login("cool_user")["login"] == "cool_user"
    assert len(stand_in.helix()) == 3
    # urllib3 retries the first failure at once, then backs off exponentially.
    assert pauses == [twitch.BACKOFF * 2]


def test_lasting_server_errors_are_twitch_unavailable(clients, settings, stand_in, pauses):
    stand_in.answers[("GET", "/helix/streams")] = [problem(503, "Service Unavailable")]
    client = clients(stand_in.settings_for(settings))
    with pytest.raises(TwitchUnavailable) as caught:
        client.streams_by_id([COOL_USER_ID])
    assert caught.value.status == 503 and caught.value.message == "Service Unavailable"
    assert len(stand_in.helix()) == 1 + twitch.RETRIES
    assert pauses == BACKOFFS


def test_connection_refused_is_twitch_unavailable(
    clients, twitch_settings, twitch_emulator, redis_client, pauses
):
    dead = f"http://127.0.0.1:{free_port()}"
    client = clients(dataclasses.replace(twitch_settings, twitch_api_url=f"{dead}/helix"))
    with pytest.raises(TwitchUnavailable) as caught:
        client.user_by_login("cool_user")
    assert caught.value.status is None and "connection failed" in str(caught.value)
    assert pauses == BACKOFFS
    client = clients(dataclasses.replace(twitch_settings, twitch_auth_url=f"{dead}/oauth2"))
    redis_client.delete(twitch_auth.APP_TOKEN)
    with pytest.raises(TwitchUnavailable):
        client.user_by_login("cool_user")
    assert pauses == BACKOFFS * 2


def test_a_slow_answer_times_out(clients, settings, stand_in, monkeypatch, pauses):
    def slow():
        time.sleep(1)
        return users("cool_user")

    stand_in.answers[("GET", "/helix/users")] = [slow]
    monkeypatch.setattr(twitch, "TIMEOUT", (1, 0.2))
    client = clients(stand_in.settings_for(settings))
    with pytest.raises(TwitchUnavailable) as caught:
        client.user_by_login("cool_user")
    assert caught.value.status is None and "timed out" in str(caught.value)
    assert len(stand_in.helix()) == 1 + twitch.RETRIES
    assert pauses == BACKOFFS


def test_a_429_is_waited_out_until_the_reset(clients, settings, stand_in, redis_client, pauses):
    reset = int(time.time()) + 2

    def empty_bucket():
        return (
            429,
            {"error": "Too Many Requests", "status": 429, "message": "Too Many Requests"},
            {"Ratelimit-Limit": 800, "Ratelimit-Remaining": 0, "Ratelimit-Reset": reset},
        )

    stand_in.answers[("GET", "/helix/users")] = [empty_bucket, users("cool_user")]
    client = clients(stand_in.settings_for(settings))
    assert client.user_by_login("cool_user")["login"] == "cool_user"
    first, second = stand_in.helix()
    # The 429 asks for a pause until the reset; as no time passed (the pause was only
    # recorded), the budget check before the repeat asks for the same pause again.
    assert len(pauses) == 2
    for pause in pauses:
        assert reset - second.at + twitch.HEADROOM <= pause <= reset - first.at + twitch.HEADROOM


def test_the_emulators_rate_limit_is_waited_out(clients, settings, twitch_emulator_factory, pauses):
    emulator = twitch_emulator_factory(
        TWITCH_EMULATOR_RATE_LIMIT="3", TWITCH_EMULATOR_RATE_WINDOW="2"
    )
    client = clients(emulator.settings_for(settings), sleep=True)
    for _ in range(3):
        requests.get(
            f"{emulator.url}/helix/users",
            timeout=5,
            headers={"Client-Id": settings.twitch_client_id},
        )
    assert client.user_by_login("cool_user")["id"] == COOL_USER_ID
    # The window is 2 s; Twitch's reset time is in whole seconds.
    assert pauses and all(0 < pause <= 2 + 1 + twitch.HEADROOM for pause in pauses)


def test_rate_limited_after_the_allowed_waits(clients, settings, twitch_emulator_factory):
    emulator = twitch_emulator_factory(
        TWITCH_EMULATOR_RATE_LIMIT="3", TWITCH_EMULATOR_RATE_WINDOW="30"
    )
    client = clients(emulator.settings_for(settings))
    client.rate_limit_retries = 0
    for _ in range(3):
        requests.get(
            f"{emulator.url}/helix/users",
            timeout=5,
            headers={"Client-Id": settings.twitch_client_id},
        )
    with pytest.raises(TwitchRateLimited) as caught:
        client.user_by_login("cool_user")
    assert caught.value.status == 429


def test_a_nearly_spent_budget_pauses_until_the_reset(
    clients, settings, twitch_emulator_factory, redis_client, pauses
):
    emulator = twitch_emulator_factory(
        TWITCH_EMULATOR_RATE_LIMIT="5", TWITCH_EMULATOR_RATE_WINDOW="2"
    )
    client = clients(emulator.settings_for(settings), sleep=True)
    client.rate_limit_retries = 0
    for _ in range(5):
        client.user_by_login("cool_user")
    budget = redis_client.hgetall(twitch.RATE_LIMIT)
    assert (budget["limit"], budget["remaining"]) == ("5", "0")
    assert client.user_by_login("cool_user")["id"] == COOL_USER_ID, "paused instead of a 429"
    assert time.time() >= int(budget["reset"])
    assert len(pauses) == 1


def test_a_client_that_does_not_wait_fails_fast_on_an_empty_bucket(
    clients, settings, stand_in, redis_client
):
    reset = int(time.time()) + 30

    def empty_bucket():
        return (
            429,
            {"error": "Too Many Requests", "status": 429, "message": "Too Many Requests"},
            {"Ratelimit-Limit": 800, "Ratelimit-Remaining": 0, "Ratelimit-Reset": reset},
        )

    stand_in.answers[("GET", "/helix/users")] = [empty_bucket, users("cool_user")]
    client = TwitchClient(stand_in.settings_for(settings), redis_client, wait_on_rate_limit=False)
    started = time.monotonic()
    with pytest.raises(TwitchRateLimited) as caught:
        client.user_by_login("cool_user")
    assert time.monotonic() - started < 2
    assert caught.value.reset_at == reset and 28 <= caught.value.retry_after() <= 30
    assert len(stand_in.helix()) == 1
    # The budget Twitch reported is now spent: the next call does not even ask.
    with pytest.raises(TwitchRateLimited) as caught:
        client.user_by_login("cool_user")
    assert len(stand_in.helix()) == 1 and caught.value.reset_at == reset
    client.close()
