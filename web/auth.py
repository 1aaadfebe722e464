"""Log in with Twitch: the authorization-code flow, the signed-in user, and logout.

The session (see :mod:`web.sessions`) holds the user and their tokens, never
the cookie. The token is validated at Twitch at login and again at least
hourly while the session is used; an expired token is refreshed, and a token
Twitch refuses that cannot be refreshed ends the session.
"""

from __future__ import annotations

import functools
import logging
import time
from urllib.parse import quote, urlsplit, urlunsplit

import redis
import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import OAuth
from flask import (Blueprint, Flask, abort, current_app, g, redirect, request,
                   session, url_for)

from shared.twitch_auth import TIMEOUT, TwitchError, error_for
from web import sessions
from web.errors import json_error
from web.user_tokens import (
    display_name,
    refresh_tokens,
    revoke_token,
    token_record,
    validate_token,
)

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

SCOPES = "user:read:follows"
VALIDATE_EVERY = 3600
EXPIRY_MARGIN = 60
LOGIN_FAILURES = (AuthlibBaseError, TwitchError, requests.RequestException, KeyError, ValueError)
MESSAGES = {
    "denied": "You declined the Twitch login, so you are not logged in.",
    "state": "That login link was not started here or has expired. Please try again.",
    "failed": "Twitch did not confirm the login. Please try again.",
    "ended": "Your Twitch session has ended. Please log in again.",
    "login": "Please log in with Twitch first.",
    "logged-out": "You are logged out.",
}
# Where a login returns to: a path of this site, kept in the session while Twitch asks.
NEXT_KEY = "login_next"
NEXT_MAX = 512
PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def init_app(app: Flask) -> None:
    """Set up login with Twitch: Redis sessions, the OAuth client and the routes."""
    settings = app.config["SETTINGS"]
    sessions.init_app(app)
    app.extensions["twitch_login"] = OAuth(app).register(
        "twitch", client_id=settings.twitch_client_id,
        client_secret=settings.twitch_client_secret,
        authorize_url=f"{settings.twitch_auth_url}/authorize",
        access_token_url=f"{settings.twitch_auth_url}/token",
        client_kwargs={"scope": SCOPES, "token_endpoint_auth_method": "client_secret_post",
                       "default_timeout": TIMEOUT},
        compliance_fix=_raise_twitch_errors)
    app.register_blueprint(bp)


@bp.before_request
def _public_host():
    return public_host_only()


@bp.get("/login")
def login():
    """Send the browser to Twitch's consent page with a new random ``state``.

    ``?next=/path`` (a path of this site, see :func:`safe_next`) is where the
    login ends; anything else is ignored.
    """
    redirect_uri = current_app.config["SETTINGS"].public_url + "/auth/callback"
    target = safe_next(request.args.get("next"))
    if target:
        session[NEXT_KEY] = target
    else:
        session.pop(NEXT_KEY, None)
    return current_app.extensions["twitch_login"].authorize_redirect(redirect_uri)


@bp.get("/auth/callback")
def callback():
    """Finish the login: check ``state``, exchange the code, validate the token.

    A login started with ``?next=`` ends on that page of this site, else on ``/``.
    """
    target = safe_next(session.get(NEXT_KEY))
    if request.args.get("error"):
        return _back("denied" if request.args["error"] == "access_denied" else "failed", target)
    try:
        tokens = token_record(current_app.extensions["twitch_login"].authorize_access_token())
        answer = validate_token(tokens["access_token"])
    except MismatchingStateError:
        return _back("state", target)
    except LOGIN_FAILURES as error:
        log.warning("Twitch login failed: %s",
                    error if isinstance(error, TwitchError) else type(error).__name__)
        return _back("failed", target)
    if answer is None:
        return _back("failed", target)
    user = {"id": answer["user_id"], "login": answer["login"]}
    user["display_name"] = display_name(tokens["access_token"], user)
    session.clear()
    session.regenerate()
    session.update(user=user, twitch=tokens, validated_at=time.time())
    log.info("%s logged in with Twitch", user["login"])
    return redirect(target or url_for("pages.index"))


@bp.post("/logout")
def logout():
    """Revoke the token at Twitch and end the session; only for requests from our pages."""
    if not from_our_site():
        abort(403, "logout must come from this site")
    tokens = session.get("twitch")
    if tokens:
        try:
            revoke_token(tokens["access_token"])
        except TwitchError as error:
            log.warning("could not revoke a Twitch token: %s", error)
    session.clear()
    return redirect(url_for("pages.index", message="logged-out"), 303)


def current_user() -> dict | None:
    """The signed-in user (``id``, ``login``, ``display_name``), or None.

    Validates the token when its last check is an hour old and refreshes it
    when expired; when Twitch refuses both, the session ends and this is None.
    """
    if "twitch_user" not in g:
        g.twitch_user = _checked_user()
    return g.twitch_user


def user_access_token() -> str | None:
    """The signed-in user's access token, for Helix calls made on their behalf."""
    return session["twitch"]["access_token"] if current_user() else None


def login_required(view):
    """Let only signed-in users through; others go to ``/``, or get 401 JSON under ``/api/``.

    A page asked for while logged out is where the login that follows returns.
    """

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            if request.path.startswith("/api/"):
                return json_error(401, "log in with Twitch first")
            here = _requested_path() if request.method in ("GET", "HEAD") else None
            return _back("ended" if g.get("session_ended") else "login", here)
        return view(*args, **kwargs)

    return wrapped


def _checked_user() -> dict | None:
    if "user" not in session:
        return None
    if not _due(session):
        return session["user"]
    try:
        alive = _keep_alive()
    except (TwitchError, redis.exceptions.LockError) as error:
        log.warning("could not check a Twitch session: %s", error)
        if session["twitch"]["expires_at"] > time.time():
            return session["user"]
        abort(503, "Twitch cannot be reached right now; please try again shortly")
    if alive:
        return session["user"]
    log.info("the Twitch token of %s died; ending the session", session["user"]["login"])
    session.clear()
    g.session_ended = True
    return None


def _keep_alive() -> bool:
    """Revalidate or refresh under the session's lock, on its newest stored copy."""
    client = current_app.extensions["redis"]
    key = sessions.session_key(session.session_id)
    with client.lock(f"{key}:lock", timeout=30, blocking_timeout=15):
        stored = sessions.load_session(client, session.session_id)
        if not stored or "user" not in stored:
            return False
        session.update(twitch=stored["twitch"], validated_at=stored.get("validated_at", 0))
        if _due(session) and not _revalidate():
            return False
        sessions.store_session(client, session)
    return True


def _revalidate() -> bool:
    tokens, now = session["twitch"], time.time()
    answer = None
    if tokens["expires_at"] - EXPIRY_MARGIN > now:
        answer = validate_token(tokens["access_token"])
    if answer is None:
        tokens = refresh_tokens(tokens["refresh_token"])
        answer = tokens and validate_token(tokens["access_token"])
    if not answer or answer["user_id"] != session["user"]["id"]:
        return False
    expires_in = int(answer.get("expires_in") or 0)
    expires_at = int(now) + expires_in if expires_in else tokens["expires_at"]
    session["twitch"] = {**tokens, "scopes": answer.get("scopes", tokens["scopes"]),
                         "expires_at": expires_at}
    session["validated_at"] = now
    return True


def _due(data) -> bool:
    now = time.time()
    return (now >= data["twitch"]["expires_at"] - EXPIRY_MARGIN
            or now - data.get("validated_at", 0) >= VALIDATE_EVERY)


def _raise_twitch_errors(client) -> None:
    """Make Authlib raise on Twitch's token errors, which lack OAuth's ``error`` field."""

    def check(response):
        if not response.ok:
            raise error_for(response)
        return response

    client.register_compliance_hook("access_token_response", check)


def from_our_site() -> bool:
    """True when the request comes from our own pages (Origin, else Referer, is PUBLIC_URL)."""
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    return _origin(source) == _origin(current_app.config["SETTINGS"].public_url)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def safe_next(value) -> str | None:
    r"""``value`` when it is a path of this site a login may return to, else None.

    Only a relative path beginning with a single ``/``: never ``//host`` or
    ``/\host`` (browsers read both as another site), no scheme, no backslash,
    nothing but printable ASCII (browsers drop tabs and newlines, which would turn
    ``/\t/host`` into ``//host``), at most NEXT_MAX characters. So no open redirect.
    """
    if not isinstance(value, str) or not 0 < len(value) <= NEXT_MAX:
        return None
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    if not all("!" <= char <= "~" for char in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def public_host_only():
    """In development, send a browser that opened a page under another host name than
    ``PUBLIC_URL``'s (``127.0.0.1`` for ``localhost``) to the same page there.

    The login's ``state`` lives in a cookie of the host name the login started on,
    and Twitch always returns to ``PUBLIC_URL``: started elsewhere, the login could
    only end with "That login link was not started here". Registered on the pages'
    and the login's blueprints only, for GET and HEAD: webhooks, the API and health
    checks, which machines call by IP, are never redirected.
    """
    settings = current_app.config["SETTINGS"]
    if settings.app_env != "development" or request.method not in ("GET", "HEAD"):
        return None
    public = urlsplit(settings.public_url)
    asked = urlsplit(request.host_url)
    if not public.hostname or asked.hostname == public.hostname:
        return None
    target = urlsplit(request.url)._replace(scheme=public.scheme, netloc=public.netloc)
    return redirect(urlunsplit(target), 302)


def _requested_path() -> str | None:
    path = quote(request.path, safe=PATH_SAFE)
    query = request.query_string.decode("latin-1")
    return safe_next(f"{path}?{query}" if query else path)


def _back(message: str, target: str | None = None):
    return redirect(url_for("pages.index", message=message, next=target or None))
