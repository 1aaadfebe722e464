"""Login with Twitch against the Twitch emulator process and the test Redis."""

from __future__ import annotations

import dataclasses
import html
import logging
import re
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.web.support import (
    FROM_OUR_PAGE,
    VIEWER,
    app_path,
    assert_message,
    change_stored,
    consent,
    consent_redirect,
    kill_token,
    log_in,
    session_id,
    start_login,
    stored,
    validates,
)
from web import create_app
from web.viewer.auth import NEXT_MAX, safe_next
from web.viewer.login_limits import LOGIN_STARTS_PER_MINUTE, MAX_PENDING_LOGINS
from web.viewer.sessions import COOKIE_NAME, PENDING_TTL, session_key

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def app(twitch_app):
    return twitch_app


def test_login_keeps_user_and_tokens_in_redis_behind_an_opaque_cookie(
    client, twitch_emulator, redis_client, caplog
):
    caplog.set_level(logging.DEBUG)
    client.get("/login")
    pending = session_id(client)
    assert redis_client.ttl(session_key(pending)) <= 600

    back = consent_redirect(client, twitch_emulator, login=VIEWER)
    response = client.get(app_path(back))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    set_cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    assert "Secure" not in set_cookie
    cookie = client.get_cookie(COOKIE_NAME)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", cookie.value)
    assert cookie.value != pending and not redis_client.exists(session_key(pending))
    assert redis_client.ttl(session_key(cookie.value)) > 24 * 3600

    data = stored(redis_client, client)
    assert data["user"]["login"] == VIEWER and data["user"]["id"]
    assert data["twitch"]["scopes"] == ["user:read:follows"]
    assert data["twitch"]["expires_at"] > time.time() + 3600
    assert validates(twitch_emulator, data["twitch"]["access_token"])
    assert abs(data["validated_at"] - time.time()) < 30

    page = client.get("/", follow_redirects=True)
    me = client.get("/api/test/me")
    assert me.status_code == 200 and me.json["login"] == VIEWER
    assert data["user"]["display_name"] in page.get_data(as_text=True)
    secrets = (data["twitch"]["access_token"], data["twitch"]["refresh_token"])
    for answer in (response, page, me):
        shown = answer.get_data(as_text=True) + str(answer.headers)
        assert not any(secret in shown for secret in secrets)
    assert not any(secret in cookie.value for secret in secrets)
    assert not any(secret in back for secret in secrets)
    assert "viewer_vic logged in with Twitch" in caplog.text
    assert not any(secret in caplog.text for secret in secrets)


def test_display_name_comes_from_helix(client, twitch_emulator, redis_client):
    log_in(client, twitch_emulator, login="speedy_sam")
    user = stored(redis_client, client)["user"]
    expected = next(u for u in twitch_emulator.state()["users"] if u["login"] == "speedy_sam")
    assert user == {"id": expected["id"], "login": "speedy_sam", "display_name": "SpeedySam"}


def test_denied_consent_ends_on_the_login_page(client, twitch_emulator, redis_client):
    back = consent_redirect(client, twitch_emulator, deny=True)
    assert "error=access_denied" in back
    response = client.get(app_path(back))
    assert_message(client, response, "denied", "You declined the Twitch login")
    assert client.get("/api/test/me").status_code == 401


@pytest.mark.parametrize("state", ["forged", None])
def test_bad_or_missing_state_is_refused(client, twitch_emulator, redis_client, state):
    back = consent_redirect(client, twitch_emulator, login=VIEWER)
    query = {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()}
    if state is None:
        del query["state"]
    else:
        query["state"] = state
    response = client.get(f"/auth/callback?{urlencode(query)}")
    assert_message(client, response, "state", "not started here")
    assert client.get("/api/test/me").status_code == 401


def test_state_from_another_browser_is_refused(app, client, twitch_emulator):
    back = consent_redirect(client, twitch_emulator, login=VIEWER)
    other = app.test_client()
    response = other.get(app_path(back))
    assert_message(other, response, "state", "not started here")
    assert other.get("/api/test/me").status_code == 401


def test_failed_code_exchange_ends_on_the_login_page(client, twitch_emulator, settings):
    back = consent_redirect(client, twitch_emulator, login=VIEWER)
    code = parse_qs(urlsplit(back).query)["code"][0]
    used = requests.post(
        f"{twitch_emulator.url}/oauth2/token",
        timeout=10,
        data={
            "client_id": settings.twitch_client_id,
            "client_secret": settings.twitch_client_secret,
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://localhost:5000/auth/callback",
        },
    )
    assert used.status_code == 200
    response = client.get(app_path(back))
    assert_message(client, response, "failed", "Twitch did not confirm the login")
    assert client.get("/api/test/me").status_code == 401


def test_expired_token_is_refreshed_transparently(client, twitch_emulator, redis_client):
    log_in(client, twitch_emulator)
    before = stored(redis_client, client)["twitch"]
    twitch_emulator.control("expire-token", token=before["access_token"])
    change_stored(redis_client, client, twitch={**before, "expires_at": int(time.time()) - 5})

    response = client.get("/api/test/me")
    assert response.status_code == 200 and response.json["login"] == VIEWER
    after = stored(redis_client, client)["twitch"]
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] != before["refresh_token"]
    assert after["expires_at"] > time.time() + 3600
    assert validates(twitch_emulator, after["access_token"])


def test_token_refused_at_revalidation_is_refreshed(client, twitch_emulator, redis_client):
    log_in(client, twitch_emulator)
    before = stored(redis_client, client)["twitch"]
    twitch_emulator.control("expire-token", token=before["access_token"])
    change_stored(redis_client, client, validated_at=time.time() - 3700)

    assert client.get("/test/page").status_code == 200
    after = stored(redis_client, client)
    assert after["twitch"]["access_token"] != before["access_token"]
    assert time.time() - after["validated_at"] < 30


def test_validation_happens_hourly(client, twitch_emulator, redis_client):
    log_in(client, twitch_emulator)
    token = stored(redis_client, client)["twitch"]["access_token"]
    twitch_emulator.control("expire-token", token=token)
    half_hour_ago = time.time() - 1800
    change_stored(redis_client, client, validated_at=half_hour_ago)
    assert client.get("/test/page").status_code == 200
    assert stored(redis_client, client)["validated_at"] == half_hour_ago
    assert stored(redis_client, client)["twitch"]["access_token"] == token

    change_stored(redis_client, client, validated_at=time.time() - 3601)
    assert client.get("/test/page").status_code == 200
    assert time.time() - stored(redis_client, client)["validated_at"] < 30
    assert stored(redis_client, client)["twitch"]["access_token"] != token


@pytest.mark.parametrize("path, status", [("/test/page", 302), ("/api/test/me", 401)])
def test_dead_token_ends_the_session(client, twitch_emulator, redis_client, settings, path, status):
    log_in(client, twitch_emulator)
    sid = session_id(client)
    kill_token(client, twitch_emulator, redis_client, settings)

    response = client.get(path)
    assert response.status_code == status
    if status == 302:
        # Back on the login page, which returns to the page after the next login.
        assert_message(client, response, "ended", "Your Twitch session has ended", path)
    else:
        assert response.json == {"error": "log in with Twitch first"}
    assert not redis_client.exists(session_key(sid))
    assert session_id(client) is None


def test_logout_revokes_the_token_and_clears_the_session(client, twitch_emulator, redis_client):
    log_in(client, twitch_emulator)
    sid = session_id(client)
    token = stored(redis_client, client)["twitch"]["access_token"]

    response = client.post("/logout", headers=FROM_OUR_PAGE)
    assert response.status_code == 303
    assert response.headers["Location"] == "/?message=logged-out"
    assert not validates(twitch_emulator, token)
    assert not redis_client.exists(session_key(sid))
    assert session_id(client) is None
    assert client.get("/api/test/me").status_code == 401
    assert "You are logged out." in client.get("/?message=logged-out").get_data(as_text=True)


def test_logout_accepts_our_referer_without_origin(client, twitch_emulator, redis_client):
    log_in(client, twitch_emulator)
    response = client.post("/logout", headers={"Referer": "http://localhost:5000/"})
    assert response.status_code == 303
    assert client.get("/api/test/me").status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null", "Referer": "http://localhost:5000/"},
        {"Referer": "http://localhost:5000.evil.example/"},
        {},
    ],
)
def test_cross_site_logout_is_refused(client, twitch_emulator, redis_client, headers):
    log_in(client, twitch_emulator)
    token = stored(redis_client, client)["twitch"]["access_token"]
    response = client.post("/logout", headers=headers)
    assert response.status_code == 403
    assert validates(twitch_emulator, token)
    assert stored(redis_client, client)["user"]["login"] == VIEWER
    assert client.get("/api/test/me").status_code == 200


def test_unknown_session_cookie_is_dropped(client, twitch_emulator, redis_client):
    client.set_cookie(COOKIE_NAME, "x" * 43)
    response = client.get("/")
    assert response.status_code == 200
    assert "Log in with Twitch" in response.get_data(as_text=True)
    assert session_id(client) is None
    assert redis_client.keys("sev:session:*") == []


def test_cookie_is_secure_when_the_site_is_https(twitch_settings, redis_client):
    app = create_app(dataclasses.replace(twitch_settings, public_url="https://viewer.example"))
    response = app.test_client().get("/login", base_url="https://viewer.example")
    assert response.status_code == 302
    assert (
        "redirect_uri=https%3A%2F%2Fviewer.example%2Fauth%2Fcallback"
        in (response.headers["Location"])
    )
    set_cookie = response.headers["Set-Cookie"]
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie


# A page asked for while logged out is where the login returns (same-site paths only).


def login_link(client, page_url: str) -> str:
    """The "Log in with Twitch" link of the login page at ``page_url``."""
    page = client.get(page_url)
    assert page.status_code == 200
    return html.unescape(
        re.search(r'href="([^"]*)">Log in with Twitch', page.get_data(as_text=True)).group(1)
    )


def test_a_page_asked_for_logged_out_is_where_the_login_ends(client, twitch_emulator, redis_client):
    asked = client.get("/watch/speedy_sam?tab=chat")
    assert asked.status_code == 302
    location = urlsplit(asked.headers["Location"])
    assert location.path == "/" and not location.netloc
    assert parse_qs(location.query) == {
        "message": ["login"],
        "next": ["/watch/speedy_sam?tab=chat"],
    }
    link = login_link(client, asked.headers["Location"])
    assert parse_qs(urlsplit(link).query) == {"next": ["/watch/speedy_sam?tab=chat"]}

    back = consent_redirect(client, twitch_emulator, start_at=link, login=VIEWER)
    response = client.get(app_path(back))
    assert response.status_code == 302
    assert response.headers["Location"] == "/watch/speedy_sam?tab=chat"
    assert "login_next" not in stored(redis_client, client)
    # The next login, started plainly, ends on / again.
    client.post("/logout", headers=FROM_OUR_PAGE)
    assert log_in(client, twitch_emulator).headers["Location"] == "/"


def test_a_denied_login_keeps_the_page_to_return_to(client, twitch_emulator, redis_client):
    back = consent_redirect(
        client, twitch_emulator, start_at="/login?next=/watch/cool_user", deny=True
    )
    response = client.get(app_path(back))
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query) == {
        "message": ["denied"],
        "next": ["/watch/cool_user"],
    }


REFUSED_NEXT = [
    "//evil.example/watch",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/watch\\..\\..\\evil",
    "https://evil.example/",
    "http:evil.example",
    "//localhost:5000/x",
    "javascript:alert(1)",
    "evil.example/watch",
    "watch/cool_user",
    "",
    "/\t/evil.example",
    "/\n/evil.example",
    "/ /evil.example",
    "/watch/caf\u00e9",
    "/\u3000/evil.example",
    "/" + "a" * NEXT_MAX,
]


@pytest.mark.parametrize("value", REFUSED_NEXT)
def test_only_same_site_paths_are_accepted_to_return_to(value):
    assert safe_next(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "/",
        "/watch",
        "/watch/speedy_sam",
        "/watch/speedy_sam?tab=chat&x=%2F%2Fevil",
        "/watch/%2F%2Fevil.example",
        "/watch/@name",
    ],
)
def test_same_site_paths_are_accepted_to_return_to(value):
    assert safe_next(value) == value


@pytest.mark.parametrize(
    "value", ["//evil.example/x", "/\\evil.example", "https://evil.example/", "/\t/evil.example"]
)
def test_a_login_never_ends_on_another_site(client, twitch_emulator, redis_client, value):
    link = login_link(client, "/?" + urlencode({"message": "login", "next": value}))
    assert link == "/login"
    back = consent_redirect(
        client, twitch_emulator, start_at="/login?" + urlencode({"next": value}), login=VIEWER
    )
    response = client.get(app_path(back))
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_logged_in_viewer_goes_to_the_page_asked_for(client, twitch_emulator, redis_client):
    log_in(client, twitch_emulator)
    assert client.get("/?next=/watch/cool_user").headers["Location"] == "/watch/cool_user"
    assert client.get("/?next=//evil.example").headers["Location"] == "/watch"


# In development, a browser that opened another host name goes to PUBLIC_URL's first.


@pytest.mark.parametrize("path", ["/", "/login", "/watch/cool_user?from=ip", "/?message=login"])
def test_development_sends_other_host_names_to_public_urls(client, path):
    response = client.get(path, base_url="http://127.0.0.1:5000")
    assert response.status_code == 302
    assert response.headers["Location"] == "http://localhost:5000" + path
    assert client.head(path, base_url="http://127.0.0.1:5000").status_code == 302


def test_machines_calling_by_ip_are_never_redirected(client, twitch_emulator, redis_client):
    ip = {"base_url": "http://127.0.0.1:5000"}
    answers = {
        "webhook": client.post("/api/callback", data=b"{}", **ip),
        "pusher webhook": client.post("/api/pusher/webhook", data=b"{}", **ip),
        "healthz": client.get("/healthz", **ip),
        "readyz": client.get("/readyz", **ip),
        "api": client.get("/api/follows/live", **ip),
    }
    assert {
        name: answer.status_code
        for name, answer in answers.items()
        if 300 <= answer.status_code < 400
    } == {}
    # A form's POST is not sent elsewhere either (logout ends here, on this host).
    logout = client.post("/logout", headers=FROM_OUR_PAGE, **ip)
    assert logout.status_code == 303 and logout.headers["Location"] == "/?message=logged-out"
    assert answers["healthz"].status_code == answers["readyz"].status_code == 200
    # Another port of the same host name shares its cookies: left alone.
    login = client.get("/login", base_url="http://localhost:5001")
    assert login.headers["Location"].startswith(f"{twitch_emulator.url}/oauth2/authorize?")


def test_production_never_redirects_to_another_host(twitch_settings, redis_client):
    app = create_app(
        dataclasses.replace(
            twitch_settings, app_env="production", public_url="https://viewer.example"
        )
    )
    response = app.test_client().get("/login", base_url="https://127.0.0.1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(twitch_settings.twitch_auth_url)


# Starting logins costs Redis little: few and small pending logins, a budget per address.


def pending_logins(data: dict) -> dict:
    return {key: value for key, value in data.items() if key.startswith("_state_twitch_")}


def state_of(authorize: str) -> str:
    return parse_qs(urlsplit(authorize).query)["state"][0]


def test_a_session_keeps_only_its_newest_pending_logins(client, twitch_emulator, redis_client):
    started = [start_login(client, twitch_emulator) for _ in range(MAX_PENDING_LOGINS + 5)]
    kept = pending_logins(stored(redis_client, client))
    assert sorted(kept) == sorted(
        f"_state_twitch_{state_of(url)}" for url in started[-MAX_PENDING_LOGINS:]
    )

    oldest = client.get(app_path(consent(twitch_emulator, started[0], login=VIEWER)))
    assert_message(client, oldest, "state", "not started here")
    newest = client.get(app_path(consent(twitch_emulator, started[-1], login=VIEWER)))
    assert newest.status_code == 302 and newest.headers["Location"] == "/"
    assert client.get("/api/test/me").json["login"] == VIEWER


def test_a_pending_login_keeps_only_what_the_callback_needs(client, twitch_emulator, redis_client):
    for _ in range(10):
        start_login(client, twitch_emulator)
    key = session_key(session_id(client))
    assert redis_client.strlen(key) < 500
    for entry in pending_logins(stored(redis_client, client)).values():
        assert entry["data"] == {"redirect_uri": "http://localhost:5000/auth/callback"}
        assert 0 < entry["exp"] - time.time() <= PENDING_TTL
    assert log_in(client, twitch_emulator).headers["Location"] == "/"


def test_a_pending_login_older_than_ten_minutes_is_refused(client, twitch_emulator, redis_client):
    back = consent_redirect(client, twitch_emulator, login=VIEWER)
    data = stored(redis_client, client)
    for entry in pending_logins(data).values():
        entry["exp"] = time.time() - 1
    change_stored(redis_client, client, **data)
    assert_message(client, client.get(app_path(back)), "state", "not started here")


def test_login_starts_are_limited_per_client_address(client, twitch_emulator, redis_client):
    crowd = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(LOGIN_STARTS_PER_MINUTE):
        assert client.get("/login", environ_base=crowd).status_code == 302
        client.delete_cookie(COOKIE_NAME)
    refused = client.get("/login?next=/watch/cool_user", environ_base=crowd)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Set-Cookie" not in refused.headers
    page = refused.get_data(as_text=True)
    assert "Too many logins were started from your address" in page
    assert 'href="/login?next=/watch/cool_user"' in page
    assert len(redis_client.keys("sev:session:*")) == LOGIN_STARTS_PER_MINUTE

    elsewhere = client.get("/login", environ_base={"REMOTE_ADDR": "198.51.100.4"})
    assert elsewhere.status_code == 302


def test_an_ipv6_network_shares_one_login_budget(client, twitch_emulator, redis_client):
    for number in range(LOGIN_STARTS_PER_MINUTE):
        host = {"REMOTE_ADDR": f"2001:db8:5:7::{number + 1:x}"}
        assert client.get("/login", environ_base=host).status_code == 302
    assert (
        client.get("/login", environ_base={"REMOTE_ADDR": "2001:db8:5:7::ffff"}).status_code == 429
    )
    assert client.get("/login", environ_base={"REMOTE_ADDR": "2001:db8:5:8::1"}).status_code == 302


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_clients(
    twitch_settings, twitch_emulator, redis_client
):
    """nginx connects from one address: with TRUSTED_PROXIES=1 each browser keeps its own
    login allowance (the address nginx forwarded), and a client cannot forge one."""
    proxied = create_app(dataclasses.replace(twitch_settings, trusted_proxies=1)).test_client()
    from_nginx = {"REMOTE_ADDR": "127.0.0.1"}
    for _ in range(LOGIN_STARTS_PER_MINUTE):
        assert (
            proxied.get(
                "/login", environ_base=from_nginx, headers={"X-Forwarded-For": "203.0.113.9"}
            ).status_code
            == 302
        )
    assert (
        proxied.get(
            "/login", environ_base=from_nginx, headers={"X-Forwarded-For": "203.0.113.9"}
        ).status_code
        == 429
    )
    assert (
        proxied.get(
            "/login", environ_base=from_nginx, headers={"X-Forwarded-For": "198.51.100.4"}
        ).status_code
        == 302
    )
    # A client's own X-Forwarded-For comes first; the proxy appends the real address.
    forged = {"X-Forwarded-For": "198.51.100.77, 203.0.113.9"}
    assert proxied.get("/login", environ_base=from_nginx, headers=forged).status_code == 429
