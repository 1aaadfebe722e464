"""OAuth: consent page, code exchange, refresh, client credentials, validate, revoke, expiry."""

from __future__ import annotations

import pytest
import requests

from .support import CLIENT_ID, REDIRECT, wait_until

pytestmark = pytest.mark.timeout(60)


def validate(twitch, token: str) -> requests.Response:
    return requests.get(
        f"{twitch.url}/oauth2/validate", headers={"Authorization": f"OAuth {token}"}, timeout=10
    )


def test_consent_page_lists_roster_users_and_deny(twitch):
    page = requests.get(
        f"{twitch.url}/oauth2/authorize",
        timeout=10,
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": "user:read:follows",
            "state": "s",
        },
    )
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    for login in ("cool_user", "speedy_sam", "chill_chess", "night_owl", "viewer_vic"):
        assert f'data-login="{login}"' in page.text
    assert "Cool_User" in page.text and 'id="deny"' in page.text


def test_consent_redirects_with_code_and_state(twitch):
    answer = twitch.consent("cool_user", scope="user:read:follows user:read:email", state="r4nd0m")
    assert answer["state"] == "r4nd0m"
    assert answer["code"]
    assert answer["scope"] == "user:read:follows user:read:email"


def test_deny_redirects_with_access_denied_and_state(twitch):
    answer = twitch.consent(None, state="xyz")
    assert answer["error"] == "access_denied"
    assert answer["error_description"]
    assert answer["state"] == "xyz"
    assert "code" not in answer


def test_authorize_refuses_unknown_client(twitch):
    page = requests.get(
        f"{twitch.url}/oauth2/authorize",
        timeout=10,
        params={"client_id": "someone-else", "redirect_uri": REDIRECT, "response_type": "code"},
    )
    assert page.status_code == 400
    assert page.json() == {"status": 400, "message": "invalid client"}


def test_code_exchange_gives_user_token_once(twitch):
    code = twitch.consent("cool_user")["code"]
    first = twitch.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert first.status_code == 200
    body = first.json()
    assert body["token_type"] == "bearer"
    assert body["scope"] == ["user:read:follows"]
    assert body["access_token"] and body["refresh_token"]
    assert 14000 < body["expires_in"] <= 14400
    again = twitch.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert again.status_code == 400
    assert again.json() == {"status": 400, "message": "Invalid authorization code"}


def test_code_exchange_needs_the_same_redirect_uri(twitch):
    code = twitch.consent("cool_user")["code"]
    answer = twitch.token(
        grant_type="authorization_code", code=code, redirect_uri="http://localhost:5000/elsewhere"
    )
    assert answer.status_code == 400
    assert "redirect_uri" in answer.json()["message"]


def test_wrong_client_secret_is_refused(twitch):
    code = twitch.consent("cool_user")["code"]
    answer = twitch.token(
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        client_secret="not-the-secret",
    )
    assert answer.status_code == 403
    assert answer.json() == {"status": 403, "message": "invalid client secret"}
    assert twitch.token(grant_type="client_credentials", client_secret="nope").status_code == 403


def test_refresh_gives_new_tokens_and_retires_the_old_refresh_token(twitch):
    first = twitch.user_token("cool_user")
    refreshed = twitch.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert refreshed.status_code == 200
    body = refreshed.json()
    assert body["access_token"] != first["access_token"]
    assert body["refresh_token"] != first["refresh_token"]
    assert body["scope"] == ["user:read:follows"]
    assert validate(twitch, body["access_token"]).json()["login"] == "cool_user"
    stale = twitch.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert stale.status_code == 400
    assert stale.json()["message"] == "Invalid refresh token"


def test_client_credentials_gives_app_token_without_refresh(twitch):
    answer = twitch.token(grant_type="client_credentials")
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer" and "refresh_token" not in body
    assert body["expires_in"] > 4_000_000
    valid = validate(twitch, body["access_token"]).json()
    assert valid["client_id"] == CLIENT_ID
    assert "login" not in valid and "user_id" not in valid


def test_validate_user_token(twitch):
    token = twitch.user_token("speedy_sam", scope="user:read:follows")["access_token"]
    answer = validate(twitch, token)
    assert answer.status_code == 200
    body = answer.json()
    assert body["client_id"] == CLIENT_ID
    assert body["login"] == "speedy_sam" and body["user_id"] == "122699689"
    assert body["scopes"] == ["user:read:follows"]
    assert 0 < body["expires_in"] <= 14400


def test_validate_refuses_unknown_token(twitch):
    answer = validate(twitch, "not-a-token")
    assert answer.status_code == 401
    assert answer.json() == {"status": 401, "message": "invalid access token"}


def test_revoke_kills_the_token(twitch):
    token = twitch.user_token("cool_user")["access_token"]
    revoke = requests.post(
        f"{twitch.url}/oauth2/revoke", timeout=10, data={"client_id": CLIENT_ID, "token": token}
    )
    assert revoke.status_code == 200 and revoke.text == ""
    assert validate(twitch, token).status_code == 401
    assert twitch.helix("GET", "/users", token).status_code == 401
    again = requests.post(
        f"{twitch.url}/oauth2/revoke", timeout=10, data={"client_id": CLIENT_ID, "token": token}
    )
    assert again.status_code == 400 and again.json()["message"] == "Invalid token"
    stranger = requests.post(
        f"{twitch.url}/oauth2/revoke", timeout=10, data={"client_id": "nobody", "token": token}
    )
    assert stranger.status_code == 404


def test_expired_token_is_refused(twitch):
    token = twitch.user_token("cool_user")["access_token"]
    assert validate(twitch, token).status_code == 200
    assert twitch.control("expire-token", token=token) == {"expired": 1}
    assert validate(twitch, token).status_code == 401
    answer = twitch.helix("GET", "/users", token)
    assert answer.status_code == 401
    assert answer.json()["message"] == "Invalid OAuth token"


def test_token_lifetime_follows_the_setting(twitch_factory):
    short = twitch_factory(TWITCH_EMULATOR_TOKEN_TTL="1")
    answer = short.user_token("cool_user")
    assert answer["expires_in"] <= 1
    wait_until(
        lambda: validate(short, answer["access_token"]).status_code == 401,
        message="the token to expire",
    )
    refreshed = short.token(grant_type="refresh_token", refresh_token=answer["refresh_token"])
    assert refreshed.status_code == 200
