"""Twitch's tokens against real servers on loopback: the app access token shared through
Redis, and a viewer's user tokens (validated, refreshed and revoked on the client's
session), with the Twitch emulator and a scripted stand-in."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from shared.twitch.errors import TwitchAuthError, TwitchNotFound, TwitchUnavailable
from shared.twitch.session import RETRIES
from shared.twitch.tokens import APP_TOKEN, RENEW_BEFORE, UserTokens, token_record
from tests.shared.twitch.support import BACKOFFS, COOL_USER_ID, problem, users
from tests.support import free_port

pytestmark = pytest.mark.timeout(60)


# -- app access token ----------------------------------------------------------------------


def test_app_token_is_fetched_once_and_shared_through_redis(
    clients, twitch_settings, twitch_emulator, redis_client
):
    first, second = clients(twitch_settings), clients(twitch_settings)
    assert first.user_by_login("cool_user")["id"] == COOL_USER_ID
    assert second.user_by_login("cool_user")["id"] == COOL_USER_ID
    issued = twitch_emulator.app_tokens()
    assert len(issued) == 1
    cached = redis_client.hgetall(APP_TOKEN)
    assert cached["token"] == issued[0]
    assert cached["client_id"] == twitch_settings.twitch_client_id
    assert int(cached["expires_at"]) > time.time() + 30 * 24 * 3600
    assert 0 < redis_client.ttl(APP_TOKEN) <= 5_000_000 - RENEW_BEFORE


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
    old = redis_client.hget(APP_TOKEN, "token")
    twitch_emulator.control("expire-token", token=old)
    assert client.user_by_login("cool_user")["id"] == COOL_USER_ID
    new = redis_client.hget(APP_TOKEN, "token")
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
    token = redis_client.hget(APP_TOKEN, "token")
    assert client.validate_app_token() is False
    assert redis_client.hget(APP_TOKEN, "token") == token
    assert twitch_emulator.app_tokens() == [token]


def test_validation_replaces_a_refused_token(client, twitch_emulator, redis_client):
    client.user_by_login("cool_user")
    old = redis_client.hget(APP_TOKEN, "token")
    twitch_emulator.control("expire-token", token=old)
    assert client.validate_app_token() is True
    new = redis_client.hget(APP_TOKEN, "token")
    assert new not in (None, old)
    assert len(twitch_emulator.app_tokens()) == 2


def test_validation_replaces_a_token_ending_within_a_day(
    clients, settings, twitch_emulator_factory, redis_client
):
    emulator = twitch_emulator_factory(TWITCH_EMULATOR_APP_TOKEN_TTL="7200")
    client = clients(emulator.settings_for(settings))
    client.user_by_login("cool_user")
    old = redis_client.hget(APP_TOKEN, "token")
    assert client.validate_app_token() is True
    assert redis_client.hget(APP_TOKEN, "token") != old


def test_a_refused_client_secret_is_an_auth_error_without_the_secret(
    clients, twitch_settings, twitch_emulator
):
    secret = "a-wrong-client-secret-value"
    client = clients(dataclasses.replace(twitch_settings, twitch_client_secret=secret))
    with pytest.raises(TwitchAuthError) as caught:
        client.user_by_login("cool_user")
    assert caught.value.status == 403
    assert secret not in f"{caught.value} {caught.value!r}"


# -- user tokens ---------------------------------------------------------------------------

REDIRECT = "http://localhost:5000/auth/callback"


def user_login(settings, login="cool_user") -> dict:
    """Log ``login`` in at the emulator (consent, then the code exchange); the tokens kept."""
    consent = requests.get(
        f"{settings.twitch_auth_url}/authorize/decide",
        params={
            "client_id": settings.twitch_client_id,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": "user:read:follows",
            "login": login,
        },
        allow_redirects=False,
        timeout=10,
    )
    assert consent.status_code == 302, consent.text
    code = parse_qs(urlsplit(consent.headers["Location"]).query)["code"][0]
    answer = requests.post(
        f"{settings.twitch_auth_url}/token",
        data={
            "client_id": settings.twitch_client_id,
            "client_secret": settings.twitch_client_secret,
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return token_record(answer.json())


def test_user_tokens_go_through_the_clients_session(client):
    assert isinstance(client.user_tokens, UserTokens)
    assert client.user_tokens.session is client.session


def test_a_user_token_is_validated(client, twitch_settings, twitch_emulator):
    tokens = user_login(twitch_settings)
    answer = client.user_tokens.validate(tokens["access_token"])
    assert answer["user_id"] == COOL_USER_ID and answer["login"] == "cool_user"
    assert answer["client_id"] == twitch_settings.twitch_client_id
    assert answer["scopes"] == ["user:read:follows"] and answer["expires_in"] > 0
    assert client.user_tokens.validate("not-a-token-twitch-knows") is None
    assert client.user_tokens.validate(client.tokens.get()) is None, "an app token has no user"


def test_a_user_token_of_another_app_is_not_ours(clients, settings, stand_in):
    stand_in.answers[("GET", "/oauth2/validate")] = [
        (200, {"client_id": "another-app", "user_id": COOL_USER_ID, "login": "cool_user"}, {})
    ]
    client = clients(stand_in.settings_for(settings))
    assert client.user_tokens.validate("user-token") is None
    assert stand_in.seen[-1].headers["Authorization"] == "OAuth user-token"
    assert stand_in.seen[-1].query == {}, "the token never goes in the URL"


def test_a_failing_validation_is_an_error_without_the_token(clients, settings, stand_in, pauses):
    token = "user-token-0123456789"
    stand_in.answers[("GET", "/oauth2/validate")] = [problem(503, f"cannot check {token}")]
    client = clients(stand_in.settings_for(settings))
    with pytest.raises(TwitchUnavailable) as caught:
        client.user_tokens.validate(token)
    assert caught.value.status == 503 and "cannot check" in caught.value.message
    assert token not in f"{caught.value} {caught.value!r} {caught.value.args}"
    assert len(stand_in.seen) == 1 + RETRIES and pauses == BACKOFFS


def test_a_refresh_gives_new_tokens_once(client, twitch_settings, twitch_emulator):
    tokens = user_login(twitch_settings)
    before = int(time.time())
    fresh = client.user_tokens.refresh(tokens["refresh_token"])
    assert fresh["access_token"] != tokens["access_token"]
    assert fresh["refresh_token"] not in ("", tokens["refresh_token"])
    assert fresh["scopes"] == ["user:read:follows"] and fresh["expires_at"] > before
    assert client.user_tokens.validate(fresh["access_token"])["user_id"] == COOL_USER_ID
    assert client.user_tokens.refresh(tokens["refresh_token"]) is None, "used up"
    assert client.user_tokens.refresh("not-a-refresh-token") is None


def test_a_refresh_sends_the_grant_in_the_body(clients, settings, stand_in):
    stand_in.answers[("POST", "/oauth2/token")] = [
        (200, {"access_token": "new-access", "expires_in": 3600, "scope": ["a", "b"]}, {})
    ]
    client = clients(stand_in.settings_for(settings))
    fresh = client.user_tokens.refresh("the-refresh-token")
    assert fresh["access_token"] == "new-access"
    assert fresh["refresh_token"] == "the-refresh-token", "kept when Twitch sends none"
    assert fresh["scopes"] == ["a", "b"]
    (grant,) = stand_in.seen
    assert grant.query == {}, "credentials never go in the URL"
    assert parse_qs(grant.body.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["the-refresh-token"],
        "client_id": [settings.twitch_client_id],
        "client_secret": [settings.twitch_client_secret],
    }


def test_a_failing_refresh_is_an_error_without_the_secrets(clients, settings, stand_in, caplog):
    caplog.set_level(logging.INFO, logger="shared.twitch.tokens")
    refresh_token = "the-refresh-token-0123"
    stand_in.answers[("POST", "/oauth2/token")] = [
        problem(400, f"Invalid refresh token {refresh_token}"),
        lambda: problem(503, f"down: {stand_in.seen[-1].body.decode()}"),
    ]
    client = clients(stand_in.settings_for(settings))
    assert client.user_tokens.refresh(refresh_token) is None
    with pytest.raises(TwitchUnavailable) as caught:
        client.user_tokens.refresh(refresh_token)
    text = f"{caught.value} {caught.value!r} {caught.value.args} {caplog.text}"
    assert "Invalid refresh token" in caplog.text and "down" in text
    assert refresh_token not in text and settings.twitch_client_secret not in text


def test_a_revoked_token_is_refused_and_revoking_it_again_is_fine(
    client, twitch_settings, twitch_emulator
):
    tokens = user_login(twitch_settings)
    client.user_tokens.revoke(tokens["access_token"])
    assert client.user_tokens.validate(tokens["access_token"]) is None
    client.user_tokens.revoke(tokens["access_token"])


def test_a_failing_revoke_is_an_error_without_the_token(clients, settings, stand_in):
    token = "user-token-0123456789"
    stand_in.answers[("POST", "/oauth2/revoke")] = [
        lambda: problem(404, f"no client for {stand_in.seen[-1].body.decode()}")
    ]
    client = clients(stand_in.settings_for(settings))
    with pytest.raises(TwitchNotFound) as caught:
        client.user_tokens.revoke(token)
    assert parse_qs(stand_in.seen[-1].body.decode()) == {
        "client_id": [settings.twitch_client_id],
        "token": [token],
    }
    assert token not in f"{caught.value} {caught.value!r} {caught.value.args}"


def test_the_display_name_comes_from_helix_else_the_login(
    clients, client, settings, twitch_settings, twitch_emulator, stand_in
):
    tokens = user_login(twitch_settings)
    user = {"id": COOL_USER_ID, "login": "cool_user"}
    assert client.user_tokens.display_name(tokens["access_token"], user) == "Cool_User"
    stand_in.answers[("GET", "/helix/users")] = [problem(401, "Invalid OAuth token")]
    failing = clients(stand_in.settings_for(settings))
    assert failing.user_tokens.display_name("user-token", user) == "cool_user"
    (asked,) = stand_in.helix()
    assert asked.headers["Authorization"] == "Bearer user-token"
    assert asked.headers["Client-Id"] == settings.twitch_client_id
    assert asked.query == {"id": [COOL_USER_ID]}
    stand_in.answers[("GET", "/helix/users")] = [users()]
    assert failing.user_tokens.display_name("user-token", user) == "cool_user"


def test_unreachable_twitch_is_twitch_unavailable(clients, settings):
    dead = dataclasses.replace(
        settings,
        twitch_auth_url=f"http://127.0.0.1:{free_port()}/oauth2",
        twitch_api_url=f"http://127.0.0.1:{free_port()}/helix",
    )
    user_tokens = clients(dead).user_tokens
    with pytest.raises(TwitchUnavailable) as caught:
        user_tokens.validate("user-token")
    assert caught.value.status is None and "connection failed" in str(caught.value)
    with pytest.raises(TwitchUnavailable):
        user_tokens.refresh("refresh-token")
    with pytest.raises(TwitchUnavailable):
        user_tokens.revoke("user-token")
    user = {"id": COOL_USER_ID, "login": "cool_user"}
    assert user_tokens.display_name("user-token", user) == "cool_user"


def test_token_record_keeps_what_we_need():
    before = int(time.time())
    record = token_record(
        {"access_token": "a", "refresh_token": "r", "expires_in": 100, "scope": "x y"}
    )
    assert record["access_token"] == "a" and record["refresh_token"] == "r"
    assert record["scopes"] == ["x", "y"]
    assert before + 100 <= record["expires_at"] <= int(time.time()) + 100
    bare = token_record({"access_token": "a"}, refresh_token="kept")
    assert bare["refresh_token"] == "kept" and bare["scopes"] == []
