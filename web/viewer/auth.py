"""Log in with Twitch: the authorization-code flow, logout, and the pages' guard.

The session (see :mod:`web.viewer.sessions`) holds the user and their tokens, never
the cookie. The token is validated at Twitch at login; keeping it valid while the
session is used is :mod:`web.viewer.signed_in`, the limits on starting logins are
:mod:`web.viewer.login_limits`.
"""

from __future__ import annotations

import functools
import logging
import time
from urllib.parse import quote, urlsplit, urlunsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import FlaskOAuth2App, OAuth
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from shared.alerts import forget_devices
from shared.twitch.errors import TwitchError, error_for
from shared.twitch.session import TIMEOUT
from shared.twitch.tokens import token_record
from web.clients import get_redis, get_settings, get_twitch
from web.errors import json_error
from web.viewer import sessions
from web.viewer.frontend import frontend_built
from web.viewer.login_limits import login_start_wait, prune_pending_logins
from web.viewer.sessions import session_id, session_store
from web.viewer.signed_in import current_user, end_all_sessions, revoke_tokens

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

SCOPES = "user:read:follows"
LOGIN_FAILURES = (AuthlibBaseError, TwitchError, requests.RequestException, KeyError, ValueError)
MESSAGES = {
    "denied": "You declined the Twitch login, so you are not logged in.",
    "state": "That login link was not started here or has expired. Please try again.",
    "failed": "Twitch did not confirm the login. Please try again.",
    "ended": "Your Twitch session has ended. Please log in again.",
    "login": "Please log in with Twitch first.",
    "logged-out": "You are logged out.",
    "logged-out-everywhere": "You are logged out on every device.",
    "busy": "Too many logins were started from your address just now. Please try again in a "
    "minute.",
}
# Where a login returns to: a path of this site, kept in the session while Twitch asks.
NEXT_KEY = "login_next"
NEXT_MAX = 512
PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def init_app(app: Flask) -> None:
    """Set up login with Twitch: Redis sessions and the OAuth client (the routes are ``bp``)."""
    settings = get_settings()
    sessions.init_app(app)
    app.extensions["twitch_login"] = OAuth(app).register(
        "twitch",
        client_id=settings.twitch_client_id,
        client_secret=settings.twitch_client_secret,
        authorize_url=f"{settings.twitch_auth_url}/authorize",
        access_token_url=f"{settings.twitch_auth_url}/token",
        client_kwargs={
            "scope": SCOPES,
            "token_endpoint_auth_method": "client_secret_post",
            "default_timeout": TIMEOUT,
        },
        compliance_fix=_raise_twitch_errors,
    )
    app.extensions["twitch_login"].framework.expires_in = sessions.PENDING_TTL


def twitch_login() -> FlaskOAuth2App:
    """The current app's OAuth client for login with Twitch."""
    return current_app.extensions["twitch_login"]


@bp.before_request
def _public_host():
    return public_host_only()


@bp.get("/login")
def login():
    """Send the browser to Twitch's consent page with a new random ``state``.

    ``?next=/path`` (a path of this site, see :func:`safe_next`) is where the
    login ends; anything else is ignored. A client address that started more than
    LOGIN_STARTS_PER_MINUTE logins in the last minute gets 429 and ``Retry-After``,
    and no session.
    """
    redirect_uri = get_settings().public_url + "/auth/callback"
    target = safe_next(request.args.get("next"))
    wait = login_start_wait()
    if wait is not None:
        return _too_many_logins(target, wait)
    if target:
        session[NEXT_KEY] = target
    else:
        session.pop(NEXT_KEY, None)
    twitch = twitch_login()
    started = twitch.create_authorization_url(redirect_uri)
    twitch.save_authorize_data(state=started["state"], redirect_uri=redirect_uri)
    prune_pending_logins(_pending_prefix())
    return redirect(started["url"])


@bp.get("/auth/callback")
def callback():
    """Finish the login: check ``state``, exchange the code, validate the token.

    A login started with ``?next=`` ends on that page of this site, else on ``/``.
    """
    target = safe_next(session.get(NEXT_KEY))
    prune_pending_logins(_pending_prefix())
    if request.args.get("error"):
        return _back("denied" if request.args["error"] == "access_denied" else "failed", target)
    try:
        tokens = token_record(twitch_login().authorize_access_token())
        answer = get_twitch().user_tokens.validate(tokens["access_token"])
    except MismatchingStateError:
        return _back("state", target)
    except LOGIN_FAILURES as error:
        log.warning(
            "Twitch login failed: %s",
            error if isinstance(error, TwitchError) else type(error).__name__,
        )
        return _back("failed", target)
    if answer is None:
        return _back("failed", target)
    user = {"id": answer["user_id"], "login": answer["login"]}
    user["display_name"] = get_twitch().user_tokens.display_name(tokens["access_token"], user)
    if "user" in session:
        session_store().forget_session(session["user"]["id"], session_id())
    session.clear()
    now = time.time()
    session.update(user=user, twitch=tokens, validated_at=now, logged_in_at=now)
    session_store().regenerate(session)
    log.info("%s logged in with Twitch", user["login"])
    return redirect(target or url_for("pages.index"))


@bp.post("/logout")
def logout():
    """Revoke the token at Twitch and end the session; only for requests from our pages.

    With the form field ``everywhere=1``, every other session of the user ends too
    (their other devices, or a cookie someone took), their tokens are revoked, and no
    device of theirs gets go-live alerts any more (their list of streamers stays).
    """
    if not from_our_site():
        abort(403, "logout must come from this site")
    everywhere = request.form.get("everywhere") == "1"
    tokens, user = session.get("twitch"), session.get("user")
    if tokens:
        revoke_tokens(tokens)
    if user:
        session_store().forget_session(user["id"], session_id())
        if everywhere:
            end_all_sessions(user["id"])
            forget_devices(get_redis(), user["id"])
    session.clear()
    message = "logged-out-everywhere" if everywhere else "logged-out"
    return redirect(url_for("pages.index", message=message), 303)


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
    return _origin(source) == _origin(get_settings().public_url)


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
    settings = get_settings()
    if settings.app_env != "development" or request.method not in ("GET", "HEAD"):
        return None
    public = urlsplit(settings.public_url)
    asked = urlsplit(request.host_url)
    if not public.hostname or asked.hostname == public.hostname:
        return None
    target = urlsplit(request.url)._replace(scheme=public.scheme, netloc=public.netloc)
    return redirect(urlunsplit(target), 302)


def _too_many_logins(target: str | None, retry_after: int):
    page = render_template(
        "pages/login.html",
        message=MESSAGES["busy"],
        login_url=url_for("auth.login", next=target),
        built=frontend_built(),
    )
    return page, 429, {"Retry-After": str(retry_after)}


def _requested_path() -> str | None:
    path = quote(request.path, safe=PATH_SAFE)
    query = request.query_string.decode("latin-1")
    return safe_next(f"{path}?{query}" if query else path)


def _back(message: str, target: str | None = None):
    return redirect(url_for("pages.index", message=message, next=target or None))


def _pending_prefix() -> str:
    """How the session's keys of logins in progress begin (Authlib's ``state`` entries)."""
    return f"_state_{twitch_login().name}_"
