"""The viewer's pages: the login page, the watch page, the go-live alerts' page, and the
built front end's files.

Every page runs the colour-mode entry as a classic script in ``<head>``, before its
stylesheets, so the page paints in the viewer's colour mode at once. Templates link an
entry's files through :func:`web.viewer.frontend.entry_assets`; a page's own entry is the
``page_entry`` its view hands the template. Page data the browser app needs travels in
``data-`` attributes of its root element; never a token. The app's icon (``web/icons``:
an SVG and a PNG of it) is served at ``/favicon.svg``, ``/favicon.png`` and
``/favicon.ico``, and every page links it and the web app manifest
(:mod:`web.viewer.app_shell`, registered with these pages).
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)

from web.viewer import app_shell
from web.viewer.api import pusher_settings
from web.viewer.app_shell import ICON_MAX_AGE, ICONS
from web.viewer.auth import MESSAGES, login_required, public_host_only, safe_next
from web.viewer.frontend import ALERTS_ENTRY, DIST, WATCH_ENTRY, entry_assets, frontend_built
from web.viewer.signed_in import current_user
from web.viewer.watching import LOGIN, LOGIN_RULE, MAX_STREAMS

bp = Blueprint("pages", __name__)

ASSET_MAX_AGE = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    """Find the built front end (``web/dist`` unless FRONTEND_DIST says otherwise) and let
    templates name its files; the pages themselves are ``bp``. The app shell (service
    worker, manifest, icons) comes with them."""
    app.config.setdefault("FRONTEND_DIST", DIST)
    app.jinja_env.globals["entry_assets"] = entry_assets
    app.register_blueprint(app_shell.bp)


@bp.before_request
def _public_host():
    return public_host_only()


@bp.get("/")
def index():
    """The login page; a logged-in viewer goes straight to ``/watch``.

    ``?next=/path`` (a page asked for while logged out) is handed to the login,
    which returns there; a logged-in viewer goes there at once.
    """
    target = safe_next(request.args.get("next"))
    if current_user() is not None:
        return redirect(target or url_for("pages.watch"))
    code = "ended" if g.get("session_ended") else request.args.get("message", "")
    return render_template(
        "pages/login.html",
        message=MESSAGES.get(code),
        login_url=url_for("auth.login", next=target),
        built=frontend_built(),
    )


@bp.get("/watch")
@bp.get("/watch/<login>")
@login_required
def watch(login: str = ""):
    """The viewer page; ``/watch/<login>`` starts watching that streamer, and
    ``/watch/<a>,<b>`` (up to MAX_STREAMS names) those streamers side by side.

    A list that names too many streamers or something that is not a Twitch name is no
    page of ours: 404, with the page itself saying why (a single name is the page's to
    check, in the words of its streamer box). The page's Pusher settings (never the
    secret) let it connect before it watches anyone, for the live follows it keeps up
    to date.
    """
    built = frontend_built()
    error = streamer_list_error(login)
    page = render_template(
        "pages/watch.html",
        user=current_user(),
        streamer=login,
        error=error,
        pusher=json.dumps(pusher_settings()),
        built=built,
        page_entry=WATCH_ENTRY,
    )
    return page, 503 if not built else 404 if error else 200


@bp.get("/alerts")
@login_required
def alerts():
    """The viewer's go-live alerts: the streamers they are alerted to, each with Remove,
    and whether this browser gets them (the account menu links it when the server sends
    alerts)."""
    built = frontend_built(ALERTS_ENTRY)
    page = render_template(
        "pages/alerts.html", user=current_user(), built=built, page_entry=ALERTS_ENTRY
    )
    return page, 200 if built else 503


def streamer_list_error(path: str) -> str:
    """Why ``path`` (``a,b,...``) is not a list of streamers to watch, or '' when it is
    one, or a single name."""
    if "," not in path:
        return ""
    names = path.split(",")
    if len(names) > MAX_STREAMS:
        return f"at most {MAX_STREAMS} streams play at once"
    for name in names:
        if not LOGIN.fullmatch(name):
            return f"{name or 'an empty name'} is not a Twitch name: {LOGIN_RULE}"
    return ""


@bp.get("/assets/<path:filename>")
def asset(filename: str):
    """A built file; its name carries a content hash, so browsers may keep it for a year."""
    response = send_from_directory(
        Path(current_app.config["FRONTEND_DIST"]) / "assets", filename, max_age=ASSET_MAX_AGE
    )
    response.cache_control.immutable = True
    return response


@bp.get("/favicon.<any(svg, png, ico):kind>")
def favicon(kind: str):
    """The app's icon: the SVG, or the PNG (also for browsers that ask for /favicon.ico).
    Its name carries no hash, so browsers keep it a day."""
    name = "favicon.svg" if kind == "svg" else "favicon.png"
    return send_from_directory(ICONS, name, max_age=ICON_MAX_AGE)
