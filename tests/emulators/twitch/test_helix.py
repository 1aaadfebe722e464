"""Helix: authentication, users, streams, channels, followed channels and rate limits."""

from __future__ import annotations

import time

import pytest

from .support import wait_until

pytestmark = pytest.mark.timeout(60)

COOL_ID, SAM_ID = "958187706", "122699689"


def test_calls_need_a_token_and_the_matching_client_id(twitch, app_token):
    missing = twitch.helix("GET", "/users", None, params={"login": "cool_user"})
    assert missing.status_code == 401
    assert missing.json() == {
        "error": "Unauthorized",
        "status": 401,
        "message": "OAuth token is missing",
    }
    bogus = twitch.helix("GET", "/users", "bogus", params={"login": "cool_user"})
    assert bogus.status_code == 401 and bogus.json()["message"] == "Invalid OAuth token"
    other = twitch.helix(
        "GET", "/users", app_token, client_id="other-client", params={"login": "cool_user"}
    )
    assert other.status_code == 401
    assert other.json()["message"] == "Client ID and OAuth token do not match"
    no_client = twitch.helix(
        "GET", "/users", app_token, client_id=None, params={"login": "cool_user"}
    )
    assert no_client.status_code == 401


def test_users_by_login_and_id(twitch, app_token):
    answer = twitch.helix(
        "GET",
        "/users",
        app_token,
        params=[("login", "cool_user"), ("login", "NIGHT_OWL"), ("id", SAM_ID)],
    )
    assert answer.status_code == 200
    users = {u["login"]: u for u in answer.json()["data"]}
    assert set(users) == {"cool_user", "night_owl", "speedy_sam"}
    assert users["cool_user"]["id"] == COOL_ID
    assert users["cool_user"]["display_name"] == "Cool_User"


def test_unknown_user_gives_empty_data(twitch, app_token):
    answer = twitch.helix("GET", "/users", app_token, params={"login": "nobody_here"})
    assert answer.status_code == 200 and answer.json() == {"data": []}


def test_users_without_parameters_is_the_token_user(twitch, app_token):
    token = twitch.user_token("viewer_vic")["access_token"]
    assert [u["login"] for u in twitch.helix("GET", "/users", token).json()["data"]] == [
        "viewer_vic"
    ]
    assert twitch.helix("GET", "/users", app_token).status_code == 400


def test_streams_lists_live_streamers_only(twitch, app_token):
    answer = twitch.helix(
        "GET",
        "/streams",
        app_token,
        params=[("user_login", "cool_user"), ("user_login", "speedy_sam")],
    )
    assert answer.status_code == 200
    data = answer.json()["data"]
    assert [s["user_login"] for s in data] == ["speedy_sam"]
    stream = data[0]
    assert {
        "id",
        "user_id",
        "user_login",
        "user_name",
        "game_id",
        "game_name",
        "type",
        "title",
        "viewer_count",
        "started_at",
        "language",
        "thumbnail_url",
        "tags",
        "is_mature",
    } <= set(stream)
    assert stream["type"] == "live" and stream["user_id"] == SAM_ID
    assert stream["game_name"] == "Super Mario 64"
    twitch.control("go-live", login="cool_user")
    by_id = twitch.helix("GET", "/streams", app_token, params={"user_id": COOL_ID}).json()
    assert by_id["data"][0]["title"] == "Best Stream Ever"
    assert by_id["data"][0]["game_name"] == "Fortnite"


def test_the_viewers_control_changes_a_live_streams_count(twitch, app_token):
    def count():
        answer = twitch.helix("GET", "/streams", app_token, params={"user_id": SAM_ID}).json()
        return answer["data"][0]["viewer_count"]

    derived = count()
    assert (
        twitch.control("viewers", login="speedy_sam", viewers=derived + 1234)["viewers"]
        == derived + 1234
    )
    assert count() == derived + 1234
    twitch.control("viewers", expect=409, login="cool_user", viewers=5)
    twitch.control("viewers", expect=400, login="speedy_sam", viewers=-1)
    twitch.control("viewers", expect=400, login="speedy_sam", viewers="12")
    twitch.control("viewers", expect=404, login="nobody_here", viewers=5)
    twitch.control("go-offline", login="speedy_sam")
    twitch.control("go-live", login="speedy_sam")
    assert count() == derived, "a new stream starts from the derived count"


def test_channels_by_broadcaster_id(twitch, app_token):
    answer = twitch.helix(
        "GET", "/channels", app_token, params=[("broadcaster_id", COOL_ID), ("broadcaster_id", "1")]
    )
    assert answer.status_code == 200
    [channel] = answer.json()["data"]
    assert channel["broadcaster_login"] == "cool_user"
    assert channel["title"] == "Best Stream Ever" and channel["game_name"] == "Fortnite"
    assert twitch.helix("GET", "/channels", app_token).status_code == 400


def test_followed_channels_need_the_users_own_token_with_scope(twitch, app_token):
    vic = twitch.user_token("viewer_vic")
    vic_id = twitch.helix("GET", "/users", vic["access_token"]).json()["data"][0]["id"]
    answer = twitch.helix(
        "GET", "/channels/followed", vic["access_token"], params={"user_id": vic_id}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["total"] == 3
    assert {f["broadcaster_login"] for f in body["data"]} == {
        "cool_user",
        "speedy_sam",
        "chill_chess",
    }
    other_user = twitch.helix(
        "GET", "/channels/followed", vic["access_token"], params={"user_id": COOL_ID}
    )
    assert other_user.status_code == 401
    no_scope = twitch.user_token("cool_user", scope="")["access_token"]
    assert (
        twitch.helix("GET", "/channels/followed", no_scope, params={"user_id": COOL_ID}).status_code
        == 401
    )
    assert (
        twitch.helix("GET", "/channels/followed", app_token, params={"user_id": vic_id}).status_code
        == 401
    )


def test_followed_channels_paginate(twitch):
    vic = twitch.user_token("viewer_vic")["access_token"]
    first = twitch.helix(
        "GET", "/channels/followed", vic, params={"user_id": "660213104", "first": 2}
    ).json()
    assert len(first["data"]) == 2 and first["pagination"]["cursor"]
    rest = twitch.helix(
        "GET",
        "/channels/followed",
        vic,
        params={"user_id": "660213104", "first": 2, "after": first["pagination"]["cursor"]},
    ).json()
    assert len(rest["data"]) == 1 and rest["pagination"] == {}


def test_every_helix_answer_carries_rate_limit_headers(twitch, app_token):
    ok = twitch.helix("GET", "/streams", app_token)
    refused = twitch.helix("GET", "/streams", "bogus")
    for answer in (ok, refused):
        assert int(answer.headers["Ratelimit-Limit"]) == 800
        assert 0 <= int(answer.headers["Ratelimit-Remaining"]) < 800
        assert int(answer.headers["Ratelimit-Reset"]) >= int(time.time())
    after = twitch.helix("GET", "/streams", app_token)
    assert int(after.headers["Ratelimit-Remaining"]) < int(ok.headers["Ratelimit-Remaining"])


def test_past_the_budget_answers_429_until_the_reset(twitch_factory):
    small = twitch_factory(TWITCH_EMULATOR_RATE_LIMIT="3", TWITCH_EMULATOR_RATE_WINDOW="1")
    token = small.app_token()
    answers = [small.helix("GET", "/streams", token) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["Ratelimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[3].json()["status"] == 429
    reset = int(answers[3].headers["Ratelimit-Reset"])
    assert reset >= time.time() - 1
    wait_until(
        lambda: small.helix("GET", "/streams", token).status_code == 200,
        timeout=5,
        message="the budget to refill",
    )
    assert time.time() >= reset - 1
