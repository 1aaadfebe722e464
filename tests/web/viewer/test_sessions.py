"""Sessions: their lifetimes and cookie, unreadable documents, and a user's sessions ended
together."""

from __future__ import annotations

import json
import time

import pytest
from flask import request

from tests.web.support import (
    FROM_OUR_PAGE,
    VIEWER,
    assert_message,
    change_stored,
    kill_token,
    log_in,
    session_id,
    stored,
    validates,
)
from web.viewer.sessions import (
    COOKIE_NAME,
    PENDING_TTL,
    SESSION_MAX_AGE,
    SESSION_TTL,
    session_key,
    user_sessions_key,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def app(twitch_app):
    return twitch_app


@pytest.fixture
def devices(app, twitch_emulator, redis_client):
    """The same viewer logged in on a phone and a desktop, and another viewer elsewhere."""
    phone, desktop, other = app.test_client(), app.test_client(), app.test_client()
    log_in(phone, twitch_emulator)
    log_in(desktop, twitch_emulator)
    log_in(other, twitch_emulator, login="speedy_sam")
    return phone, desktop, other


def test_login_records_its_time(client, twitch_emulator, redis_client):
    log_in(client, twitch_emulator)
    assert abs(stored(redis_client, client)["logged_in_at"] - time.time()) < 30


def test_a_session_ends_thirty_days_after_its_login_even_if_used_daily(
    client, twitch_emulator, redis_client
):
    log_in(client, twitch_emulator)
    sid = session_id(client)
    change_stored(
        redis_client,
        client,
        logged_in_at=time.time() - SESSION_MAX_AGE - 60,
        validated_at=time.time() - 600,
    )

    response = client.get("/test/page")
    assert_message(client, response, "ended", "Your Twitch session has ended", "/test/page")
    assert not redis_client.exists(session_key(sid))
    assert session_id(client) is None


def test_a_session_from_before_login_times_gets_thirty_days_from_now(
    client, twitch_emulator, redis_client
):
    log_in(client, twitch_emulator)
    data = stored(redis_client, client)
    del data["logged_in_at"]
    redis_client.set(
        session_key(session_id(client)),
        client.application.session_interface.serializer.encode(data),
        ex=SESSION_TTL,
    )
    assert client.get("/test/page").status_code == 200
    assert abs(stored(redis_client, client)["logged_in_at"] - time.time()) < 30


def test_redis_forgets_a_session_at_its_absolute_end(client, twitch_emulator, redis_client):
    log_in(client, twitch_emulator)
    change_stored(redis_client, client, logged_in_at=time.time() - SESSION_MAX_AGE + 3600)
    assert client.get("/test/page").status_code == 200
    assert 0 < redis_client.ttl(session_key(session_id(client))) <= 3600


def test_a_new_login_keeps_the_viewers_other_sessions(devices, twitch_emulator, redis_client):
    phone, desktop, _ = devices
    assert session_id(phone) != session_id(desktop)
    for device in (phone, desktop):
        assert device.get("/api/test/me").json["login"] == VIEWER
    user_id = stored(redis_client, phone)["user"]["id"]
    assert set(redis_client.zrange(user_sessions_key(user_id), 0, -1)) == {
        session_id(phone),
        session_id(desktop),
    }

    log_in(phone, twitch_emulator)
    assert set(redis_client.zrange(user_sessions_key(user_id), 0, -1)) == {
        session_id(phone),
        session_id(desktop),
    }


def test_plain_logout_ends_only_this_session(devices, twitch_emulator, redis_client):
    phone, desktop, _ = devices
    user_id = stored(redis_client, phone)["user"]["id"]
    assert phone.post("/logout", headers=FROM_OUR_PAGE).status_code == 303
    assert phone.get("/api/test/me").status_code == 401
    assert desktop.get("/api/test/me").status_code == 200
    assert redis_client.zrange(user_sessions_key(user_id), 0, -1) == [session_id(desktop)]


def test_logout_everywhere_ends_every_session_of_the_viewer(devices, twitch_emulator, redis_client):
    phone, desktop, other = devices
    user_id = stored(redis_client, phone)["user"]["id"]
    tokens = [stored(redis_client, device)["twitch"]["access_token"] for device in (phone, desktop)]
    other_token = stored(redis_client, other)["twitch"]["access_token"]

    response = phone.post("/logout", data={"everywhere": "1"}, headers=FROM_OUR_PAGE)
    assert response.status_code == 303
    assert response.headers["Location"] == "/?message=logged-out-everywhere"
    assert "You are logged out on every device." in phone.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    for device in (phone, desktop):
        assert device.get("/api/test/me").status_code == 401
    assert not any(validates(twitch_emulator, token) for token in tokens)
    assert not redis_client.exists(user_sessions_key(user_id))
    assert redis_client.keys("sev:session:*") == [session_key(session_id(other))]
    assert other.get("/api/test/me").json["login"] == "speedy_sam"
    assert validates(twitch_emulator, other_token)


def test_a_dead_token_ends_every_session_of_the_viewer(
    devices, twitch_emulator, redis_client, settings
):
    phone, desktop, other = devices
    desktop_sid = session_id(desktop)
    kill_token(phone, twitch_emulator, redis_client, settings)

    assert phone.get("/api/test/me").status_code == 401
    assert not redis_client.exists(session_key(desktop_sid))
    assert desktop.get("/api/test/me").status_code == 401
    assert other.get("/api/test/me").status_code == 200


def test_a_request_in_flight_does_not_bring_back_an_ended_session(app, devices, redis_client):
    phone, desktop, _ = devices
    user_id = stored(redis_client, phone)["user"]["id"]
    interface = app.session_interface
    with app.test_request_context("/", headers={"Cookie": f"sev_session={session_id(desktop)}"}):
        in_flight = interface.open_session(app, request)
        phone.post("/logout", data={"everywhere": "1"}, headers=FROM_OUR_PAGE)
        in_flight["validated_at"] = time.time()
        interface.save_session(app, in_flight, app.response_class())
    assert not redis_client.exists(session_key(session_id(desktop)))
    assert not redis_client.exists(user_sessions_key(user_id)), "nor lists it again"
    assert desktop.get("/api/test/me").status_code == 401


def test_an_unchanged_session_is_kept_alive_not_rewritten(app, devices, redis_client):
    _, desktop, _ = devices
    key = session_key(session_id(desktop))
    interface = app.session_interface
    with app.test_request_context("/", headers={"Cookie": f"sev_session={session_id(desktop)}"}):
        in_flight = interface.open_session(app, request)
        change_stored(redis_client, desktop, validated_at=12345.0)
        redis_client.expire(key, 60)
        interface.save_session(app, in_flight, app.response_class())
    assert stored(redis_client, desktop)["validated_at"] == 12345.0
    assert redis_client.ttl(key) > SESSION_TTL - 60


def test_a_signed_in_session_lives_a_week_after_its_last_use(viewer, redis_client):
    key = session_key(session_id(viewer))
    redis_client.expire(key, 60)
    assert viewer.get("/test/page").status_code == 200
    assert SESSION_TTL - 60 < redis_client.ttl(key) <= SESSION_TTL


def test_the_cookie_expires_with_the_session(client, twitch_emulator, redis_client):
    def seconds_left():
        return client.get_cookie(COOKIE_NAME).expires.timestamp() - time.time()

    client.get("/login")
    assert PENDING_TTL - 60 < seconds_left() <= PENDING_TTL
    log_in(client, twitch_emulator)
    assert SESSION_TTL - 60 < seconds_left() <= SESSION_TTL
    change_stored(redis_client, client, logged_in_at=time.time() - SESSION_MAX_AGE + 3600)
    assert client.get("/test/page").status_code == 200
    assert 3600 - 60 < seconds_left() <= 3600


def test_an_anonymous_page_view_stores_no_session(client, redis_client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert session_id(client) is None
    assert redis_client.keys("sev:session:*") == []


def test_a_session_stored_without_the_permanent_field_is_still_read(
    client, twitch_emulator, redis_client
):
    """As sessions were stored before Flask-Session kept them: they stay signed in."""
    log_in(client, twitch_emulator)
    data = stored(redis_client, client)
    del data["_permanent"]
    redis_client.set(session_key(session_id(client)), json.dumps(data), ex=3600)
    assert client.get("/api/test/me").json["login"] == VIEWER


@pytest.mark.parametrize("document", ["not a session", "[1, 2]", "5", '{"user": '])
def test_an_unreadable_session_is_no_session(client, redis_client, document):
    sid = "x" * 43
    redis_client.set(session_key(sid), document, ex=3600)
    client.set_cookie(COOKIE_NAME, sid)
    assert client.get("/api/test/me").status_code == 401
    page = client.get("/")
    assert page.status_code == 200 and "Log in with Twitch" in page.get_data(as_text=True)
    assert session_id(client) is None


def test_a_session_from_before_the_lists_is_listed_when_used_and_ended_everywhere(
    devices, redis_client
):
    phone, desktop, _ = devices
    user_id = stored(redis_client, phone)["user"]["id"]
    redis_client.zrem(user_sessions_key(user_id), session_id(desktop))  # as if made before
    assert desktop.get("/api/test/me").status_code == 200
    assert redis_client.zscore(user_sessions_key(user_id), session_id(desktop)) is not None

    phone.post("/logout", data={"everywhere": "1"}, headers=FROM_OUR_PAGE)
    assert desktop.get("/api/test/me").status_code == 401
