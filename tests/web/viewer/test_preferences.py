"""``/api/preferences``: a viewer's settings, kept per Twitch account in Redis."""

import pytest

from tests.web.support import FROM_OUR_PAGE

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def app(twitch_app):
    return twitch_app


def put(client, body, headers=FROM_OUR_PAGE, **options):
    return client.put("/api/preferences", json=body, headers=headers, **options)


def test_following_raids_is_off_until_the_viewer_turns_it_on(viewer, redis_client):
    assert viewer.get("/api/preferences").json == {"follow_raids": False}
    answer = put(viewer, {"follow_raids": True})
    assert answer.status_code == 200 and answer.json == {"follow_raids": True}
    assert viewer.get("/api/preferences").json == {"follow_raids": True}
    user_id = viewer.get("/api/test/me").json["id"]
    assert redis_client.hgetall(f"sev:viewer:{user_id}:preferences") == {"follow_raids": "1"}
    assert put(viewer, {"follow_raids": False}).json == {"follow_raids": False}
    assert viewer.get("/api/preferences").json == {"follow_raids": False}


def test_preferences_belong_to_the_account_not_the_session(app, viewer, auth):
    put(viewer, {"follow_raids": True})
    same_viewer, someone_else = app.test_client(), app.test_client()
    auth.login(client=same_viewer)
    auth.login("cool_user", client=someone_else)
    assert same_viewer.get("/api/preferences").json == {"follow_raids": True}
    assert someone_else.get("/api/preferences").json == {"follow_raids": False}


def test_logged_out_is_401_json(client, redis_client):
    for answer in (client.get("/api/preferences"), put(client, {"follow_raids": True})):
        assert answer.status_code == 401 and answer.is_json and answer.json["error"]
    assert redis_client.keys("sev:viewer:*:preferences") == []


def test_changes_come_from_our_pages_only(viewer, redis_client):
    for headers in (
        {},
        {"Origin": "https://evil.example"},
        {"Referer": "https://evil.example/watch"},
    ):
        answer = put(viewer, {"follow_raids": True}, headers)
        assert answer.status_code == 403, headers
    assert viewer.get("/api/preferences").json == {"follow_raids": False}
    referred = put(viewer, {"follow_raids": True}, {"Referer": "http://localhost:5000/watch"})
    assert referred.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "true",
        1,
        {},
        {"follow_raids": "true"},
        {"follow_raids": 1},
        {"follow_raids": None},
        {"follow_raids": [True]},
        {"follow_raids": True, "theme": "dark"},
        {"Follow_Raids": True},
    ],
)
def test_a_bad_body_is_400_and_changes_nothing(viewer, body):
    answer = put(viewer, body)
    assert answer.status_code == 400 and "follow_raids" in answer.json["error"]
    assert viewer.get("/api/preferences").json == {"follow_raids": False}


@pytest.mark.parametrize(
    "raw", [b"", b"{", b"\xff\xfe", b"[" * 20_000 + b"]" * 20_000, b"[" * 65_536]
)
def test_a_body_that_is_not_json_is_400(viewer, raw):
    answer = viewer.put(
        "/api/preferences", data=raw, headers=FROM_OUR_PAGE, content_type="application/json"
    )
    assert answer.status_code == 400


def test_answers_are_never_cached(viewer):
    assert "no-store" in viewer.get("/api/preferences").headers["Cache-Control"]


def test_a_body_not_sent_as_json_is_400(viewer):
    """As /api/watch: the body is read as JSON only when it says it is JSON."""
    answer = viewer.put(
        "/api/preferences",
        data=b'{"follow_raids": true}',
        headers=FROM_OUR_PAGE,
        content_type="text/plain",
    )
    assert answer.status_code == 400
    assert viewer.get("/api/preferences").json == {"follow_raids": False}
