"""The signed-in user against the Twitch emulator and the test Redis: a session's token
kept valid while it is used, by one request at a time; Twitch out of reach; every session
of a user ended at once."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from scripts.processes import free_port
from tests.web.support import (
    VIEWER,
    change_stored,
    log_in,
    session_id,
    stored,
    validates,
)
from web import create_app
from web.viewer.sessions import COOKIE_NAME, session_key
from web.viewer.signed_in import current_user, end_all_sessions, revoke_tokens

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def app(twitch_app):
    return twitch_app


@pytest.fixture
def app_without_twitch(twitch_settings, redis_client):
    """The app with the same Redis and secret key, its Twitch at a port nothing listens on."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = dataclasses.replace(
        twitch_settings, twitch_api_url=f"{nowhere}/helix", twitch_auth_url=f"{nowhere}/oauth2"
    )
    app = create_app(settings)
    app.config.update(TESTING=True)

    @app.get("/api/test/me")
    def me():
        return current_user() or {"user": None}

    return app


def tab_of(app, client):
    """Another test client on ``client``'s session, as another tab of the same browser."""
    tab = app.test_client()
    tab.set_cookie(COOKIE_NAME, session_id(client))
    return tab


def expire_session_token(twitch_emulator, redis_client, client) -> dict:
    """Let Twitch and the session both take the session's access token as expired; its
    tokens before."""
    tokens = stored(redis_client, client)["twitch"]
    twitch_emulator.control("expire-token", token=tokens["access_token"])
    change_stored(redis_client, client, twitch={**tokens, "expires_at": int(time.time()) - 5})
    return tokens


def test_tabs_asking_at_once_refresh_the_token_once_and_all_stay_signed_in(
    app, client, twitch_emulator, redis_client
):
    """Twitch takes a refresh token once: without the session's lock, all but one of the
    tabs would be refused and end the session everywhere."""
    log_in(client, twitch_emulator)
    before = expire_session_token(twitch_emulator, redis_client, client)
    tabs = [tab_of(app, client) for _ in range(4)]
    together = threading.Barrier(len(tabs))

    def ask(tab):
        together.wait()
        return tab.get("/api/test/me")

    with ThreadPoolExecutor(len(tabs)) as pool:
        answers = list(pool.map(ask, tabs))

    assert [answer.status_code for answer in answers] == [200] * len(tabs)
    assert {answer.json["login"] for answer in answers} == {VIEWER}
    after = stored(redis_client, client)["twitch"]
    assert after["refresh_token"] != before["refresh_token"]
    assert validates(twitch_emulator, after["access_token"])
    assert client.get("/api/test/me").status_code == 200


def test_a_token_that_names_another_user_ends_the_session(
    app, client, twitch_emulator, redis_client
):
    log_in(client, twitch_emulator)
    other = app.test_client()
    log_in(other, twitch_emulator, login="speedy_sam")
    sid = session_id(client)
    change_stored(
        redis_client,
        client,
        twitch=stored(redis_client, other)["twitch"],
        validated_at=time.time() - 3700,
    )

    assert client.get("/api/test/me").status_code == 401
    assert not redis_client.exists(session_key(sid))
    assert other.get("/api/test/me").json["login"] == "speedy_sam"


def test_while_twitch_is_out_of_reach_a_session_lasts_as_long_as_its_token(
    client, app_without_twitch, twitch_emulator, redis_client, caplog
):
    caplog.set_level(logging.WARNING, logger="web.viewer.signed_in")
    log_in(client, twitch_emulator)
    change_stored(redis_client, client, validated_at=time.time() - 3700)
    tab = tab_of(app_without_twitch, client)

    answer = tab.get("/api/test/me")
    assert answer.status_code == 200 and answer.json["login"] == VIEWER
    assert "could not check a Twitch session" in caplog.text

    tokens = stored(redis_client, client)["twitch"]
    change_stored(redis_client, client, twitch={**tokens, "expires_at": int(time.time()) - 5})
    assert tab.get("/api/test/me").status_code == 503
    # The session is kept for when Twitch answers again.
    assert stored(redis_client, client)["user"]["login"] == VIEWER


def test_ending_all_sessions_of_a_user_revokes_each_token_and_spares_other_users(
    app, twitch_emulator, redis_client
):
    phone, desktop, other = app.test_client(), app.test_client(), app.test_client()
    for device in (phone, desktop):
        log_in(device, twitch_emulator)
    log_in(other, twitch_emulator, login="speedy_sam")
    tokens = [stored(redis_client, device)["twitch"]["access_token"] for device in (phone, desktop)]
    user_id = stored(redis_client, phone)["user"]["id"]

    with app.test_request_context():
        end_all_sessions(user_id)

    assert phone.get("/api/test/me").status_code == 401
    assert desktop.get("/api/test/me").status_code == 401
    assert not any(validates(twitch_emulator, token) for token in tokens)
    assert other.get("/api/test/me").json["login"] == "speedy_sam"


def test_a_token_twitch_cannot_be_reached_to_revoke_is_logged_not_raised(
    app_without_twitch, caplog
):
    caplog.set_level(logging.WARNING, logger="web.viewer.signed_in")
    with app_without_twitch.test_request_context():
        revoke_tokens({"access_token": "a" * 30})
    assert "could not revoke a Twitch token" in caplog.text
