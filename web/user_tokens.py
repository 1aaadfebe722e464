"""The user's Twitch tokens: validate, refresh and revoke them, and look up the user.

Calls go through the session of this thread's Twitch client
(:func:`web.clients.get_twitch`), so request threads share no connection; tokens
are blanked out of every error.
"""

from __future__ import annotations

import logging
import time

import requests

from shared.twitch_auth import TIMEOUT, TwitchError, error_for, unreachable
from web.clients import get_settings, get_twitch

log = logging.getLogger(__name__)


def validate_token(token: str) -> dict | None:
    """Twitch's ``/validate`` answer for a user token of this app; None when refused."""
    settings = get_settings()
    response = call(
        "GET", f"{settings.twitch_auth_url}/validate", headers={"Authorization": f"OAuth {token}"}
    )
    if response.status_code == 401:
        return None
    if not response.ok:
        raise error_for(response, hide=(token,))
    answer = response.json()
    ours = answer.get("client_id") == settings.twitch_client_id and answer.get("user_id")
    return answer if ours else None


def refresh_tokens(refresh_token: str) -> dict | None:
    """New tokens from the refresh-token grant; None when Twitch refuses the refresh token."""
    settings = get_settings()
    response = call(
        "POST",
        f"{settings.twitch_auth_url}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": settings.twitch_client_id,
            "client_secret": settings.twitch_client_secret,
        },
    )
    hide = (refresh_token, settings.twitch_client_secret)
    if 400 <= response.status_code < 500:
        log.info("Twitch refused a refresh token: %s", error_for(response, hide))
        return None
    if not response.ok:
        raise error_for(response, hide)
    return token_record(response.json(), refresh_token)


def revoke_token(token: str) -> None:
    """Revoke a user access token at Twitch; one Twitch no longer knows counts as revoked."""
    settings = get_settings()
    response = call(
        "POST",
        f"{settings.twitch_auth_url}/revoke",
        data={"client_id": settings.twitch_client_id, "token": token},
    )
    if not response.ok and response.status_code != 400:
        raise error_for(response, hide=(token,))


def token_record(answer: dict, refresh_token: str = "") -> dict:
    """The tokens we keep from a token answer, whose ``scope`` Twitch sends as a list."""
    scope = answer.get("scope") or []
    return {
        "access_token": answer["access_token"],
        "refresh_token": answer.get("refresh_token") or refresh_token,
        "expires_at": int(time.time()) + int(answer.get("expires_in") or 0),
        "scopes": scope.split() if isinstance(scope, str) else list(scope),
    }


def display_name(token: str, user: dict) -> str:
    """The user's display name from Helix (their own token), else their login."""
    settings = get_settings()
    try:
        response = call(
            "GET",
            f"{settings.twitch_api_url}/users",
            params={"id": user["id"]},
            headers={"Authorization": f"Bearer {token}", "Client-Id": settings.twitch_client_id},
        )
        found = response.json().get("data") if response.ok else None
    except (TwitchError, ValueError):
        found = None
    return (found[0].get("display_name") if found else None) or user["login"]


def call(method: str, url: str, **kwargs) -> requests.Response:
    """One HTTP call to Twitch with a time-out; no answer becomes TwitchUnavailable."""
    try:
        return get_twitch().session.request(method, url, timeout=TIMEOUT, **kwargs)
    except requests.RequestException as error:
        raise unreachable(error) from error
