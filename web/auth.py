"""Log in with Twitch: the authorization-code flow, the signed-in user, and logout.

The session (see :mod:`web.sessions`) holds the user and their tokens, never
the cookie. The token is validated at Twitch at login and again at least
hourly while the session is used; an expired token is refreshed, and a token
Twitch refuses that cannot be refreshed ends every session of that user. A
session ends SESSION_MAX_AGE after its login however often it is used.

Starting a login stores its ``state`` in the session: each client address may
start LOGIN_STARTS_PER_MINUTE logins a minute, and a session keeps only its
MAX_PENDING_LOGINS newest logins in progress.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import time
from urllib.parse import quote, urlsplit, urlunsplit

import redis
import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import OAuth
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

from shared.store import over_rate_limit
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
    "logged-out-everywhere": "You are logged out on every device.",
    "busy": "Too many logins were started from your address just now. Please try again in a "
    "minute.",
}
LOGIN_STARTS_PER_MINUTE = 20
MAX_PENDING_LOGINS = 3
# Where a login returns to: a path of this site, kept in the session while Twitch asks.
NEXT_KEY = "login_next"
NEXT_MAX = 512
PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def init_app(app: Flask) -> None:
    """Set up login with Twitch: Redis sessions, the OAuth client and the routes."""
    settings = app.config["SETTINGS"]
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
    app.register_blueprint(bp)


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
    redirect_uri = current_app.config["SETTINGS"].public_url + "/auth/callback"
    target = safe_next(request.args.get("next"))
    client = current_app.extensions["redis"]
    counter = f"sev:rate:login:{client_address()}"
    if over_rate_limit(client, counter, LOGIN_STARTS_PER_MINUTE, 60):
        return _too_many_logins(target, max(1, client.ttl(counter)))
    if target:
        session[NEXT_KEY] = target
    else:
        session.pop(NEXT_KEY, None)
    twitch = current_app.extensions["twitch_login"]
    started = twitch.create_authorization_url(redirect_uri)
    twitch.save_authorize_data(state=started["state"], redirect_uri=redirect_uri)
    _prune_pending_logins()
    return redirect(started["url"])


@bp.get("/auth/callback")
def callback():
    """Finish the login: check ``state``, exchange the code, validate the token.

    A login started with ``?next=`` ends on that page of this site, else on ``/``.
    """
    target = safe_next(session.get(NEXT_KEY))
    _prune_pending_logins()
    if request.args.get("error"):
        return _back("denied" if request.args["error"] == "access_denied" else "failed", target)
    try:
        tokens = token_record(current_app.extensions["twitch_login"].authorize_access_token())
        answer = validate_token(tokens["access_token"])
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
    user["display_name"] = display_name(tokens["access_token"], user)
    if "user" in session:
        current_app.session_interface.forget_session(session["user"]["id"], session.sid)
    session.clear()
    now = time.time()
    session.update(user=user, twitch=tokens, validated_at=now, logged_in_at=now)
    current_app.session_interface.regenerate(session)
    log.info("%s logged in with Twitch", user["login"])
    return redirect(target or url_for("pages.index"))


@bp.post("/logout")
def logout():
    """Revoke the token at Twitch and end the session; only for requests from our pages.

    With the form field ``everywhere=1``, every other session of the user ends too
    (their other devices, or a cookie someone took), and their tokens are revoked.
    """
    if not from_our_site():
        abort(403, "logout must come from this site")
    everywhere = request.form.get("everywhere") == "1"
    tokens, user = session.get("twitch"), session.get("user")
    if tokens:
        _revoke(tokens)
    if user:
        current_app.session_interface.forget_session(user["id"], session.sid)
        if everywhere:
            end_all_sessions(user["id"])
    session.clear()
    message = "logged-out-everywhere" if everywhere else "logged-out"
    return redirect(url_for("pages.index", message=message), 303)


def end_all_sessions(user_id: str) -> None:
    """End every listed session of a user and revoke their tokens."""
    for data in current_app.session_interface.end_user_sessions(user_id):
        if data.get("twitch"):
            _revoke(data["twitch"])


def _revoke(tokens: dict) -> None:
    try:
        revoke_token(tokens["access_token"])
    except TwitchError as error:
        log.warning("could not revoke a Twitch token: %s", error)


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
    user = session["user"]
    if "logged_in_at" not in session:
        session["logged_in_at"] = time.time()  # signed in before logins were timed
    if sessions.past_max_age(session):
        log.info(
            "the session of %s is %d days old; ending it",
            user["login"],
            sessions.SESSION_MAX_AGE // 86400,
        )
        return _session_ended()
    if not _due(session):
        return user
    try:
        state = _keep_alive()
    except (TwitchError, redis.exceptions.LockError) as error:
        log.warning("could not check a Twitch session: %s", error)
        if session["twitch"]["expires_at"] > time.time():
            return user
        abort(503, "Twitch cannot be reached right now; please try again shortly")
    if state == "alive":
        return user
    if state == "dead":
        log.info("the Twitch token of %s died; ending all their sessions", user["login"])
        current_app.session_interface.forget_session(user["id"], session.sid)
        end_all_sessions(user["id"])
    return _session_ended()


def _session_ended() -> None:
    session.clear()
    g.session_ended = True
    return None


def _keep_alive() -> str:
    """Revalidate or refresh under the session's lock, on its newest stored copy.

    ``"alive"``; ``"gone"`` when the session ended meanwhile; ``"dead"`` when Twitch
    refused its token and its refresh.
    """
    client, interface = current_app.extensions["redis"], current_app.session_interface
    key = sessions.session_key(session.sid)
    with client.lock(f"{key}:lock", timeout=30, blocking_timeout=15):
        stored = interface.load(session.sid)
        if not stored or "user" not in stored:
            return "gone"
        session.update(twitch=stored["twitch"], validated_at=stored.get("validated_at", 0))
        if _due(session) and not _revalidate():
            return "dead"
        interface.store(session)
    return "alive"


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
    session["twitch"] = {
        **tokens,
        "scopes": answer.get("scopes", tokens["scopes"]),
        "expires_at": expires_at,
    }
    session["validated_at"] = now
    return True


def _due(data) -> bool:
    now = time.time()
    return (
        now >= data["twitch"]["expires_at"] - EXPIRY_MARGIN
        or now - data.get("validated_at", 0) >= VALIDATE_EVERY
    )


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


def client_address() -> str:
    """The requesting client's address, as login starts are counted: an IPv6 address
    by its /64 network, which one household or host usually holds whole.

    Behind a proxy this is the proxy's address unless the app trusts
    ``TRUSTED_PROXIES`` hops of ``X-Forwarded-For`` (werkzeug's ProxyFix).
    """
    address = request.remote_addr or ""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if parsed.version == 6:
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _prune_pending_logins() -> None:
    """Keep the session's MAX_PENDING_LOGINS newest unexpired logins in progress."""
    prefix = f"_state_{current_app.extensions['twitch_login'].name}_"
    now = time.time()
    pending = sorted(
        (key for key in session if key.startswith(prefix)),
        key=lambda key: session[key].get("exp", 0),
        reverse=True,
    )
    for number, key in enumerate(pending):
        if number >= MAX_PENDING_LOGINS or session[key].get("exp", 0) <= now:
            del session[key]


def _too_many_logins(target: str | None, retry_after: int):
    from web.pages import _built  # web.pages imports this module

    page = render_template(
        "pages/login.html",
        message=MESSAGES["busy"],
        login_url=url_for("auth.login", next=target),
        built=_built(),
    )
    return page, 429, {"Retry-After": str(retry_after)}


def _requested_path() -> str | None:
    path = quote(request.path, safe=PATH_SAFE)
    query = request.query_string.decode("latin-1")
    return safe_next(f"{path}?{query}" if query else path)


def _back(message: str, target: str | None = None):
    return redirect(url_for("pages.index", message=message, next=target or None))
