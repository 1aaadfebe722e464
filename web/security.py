"""Security headers on every response, set with Flask-Talisman.

The Content-Security-Policy lets pages load only our own scripts and styles,
Twitch's two embeds (video and chat), Twitch's image CDN (avatars) and our
Pusher WebSocket endpoint: no inline code, no ``eval``, no framing of our
pages. The service worker and the web app manifest (:mod:`web.viewer.app_shell`) are our own
too, said outright (``worker-src``, ``manifest-src``) rather than left to the fallbacks.
HSTS is sent only when ``PUBLIC_URL`` is https.
"""

from __future__ import annotations

from flask import Flask, g, request, session
from flask_talisman import Talisman

from shared.settings import Settings
from web.clients import get_settings

TWITCH_EMBEDS = ("https://player.twitch.tv", "https://www.twitch.tv")
TWITCH_IMAGES = "https://static-cdn.jtvnw.net"
REFERRER_POLICY = "strict-origin-when-cross-origin"
# Granian adds "server: granian" unless the app names itself; name nothing it runs on.
SERVER_HEADER = "sev"
# Powerful features no page here uses, switched off for our pages and the embeds alike.
PERMISSIONS_POLICY = {
    "browsing-topics": "()",
    "camera": "()",
    "geolocation": "()",
    "microphone": "()",
    "payment": "()",
    "usb": "()",
}


def pusher_socket_origin(settings: Settings) -> str:
    """Where browsers open their Pusher WebSocket: ``ws(s)://host[:port]``.

    A self-hosted server is reached where browsers are told to reach it
    (``PUSHER_BROWSER_HOST``/``PORT``, which default to ``PUSHER_HOST``/``PORT``),
    Pusher's own service at ``ws-<cluster>.pusher.com``.
    """
    scheme = "wss" if settings.pusher_ssl else "ws"
    host = settings.pusher_browser_host or f"ws-{settings.pusher_cluster}.pusher.com"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = settings.pusher_browser_port if settings.pusher_browser_host else None
    default_port = 443 if settings.pusher_ssl else 80
    return f"{scheme}://{host}" + (f":{port}" if port not in (None, default_port) else "")


def content_security_policy(settings: Settings) -> dict[str, str]:
    """The policy for every response, as Talisman takes it."""
    return {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": f"'self' data: {TWITCH_IMAGES}",
        "connect-src": f"'self' {pusher_socket_origin(settings)}",
        "frame-src": " ".join(TWITCH_EMBEDS),
        "worker-src": "'self'",
        "manifest-src": "'self'",
        "frame-ancestors": "'none'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
    }


def init_app(app: Flask) -> None:
    """Add the headers to every response of ``app``.

    Talisman also sets the session cookie's flags; they match
    :mod:`web.viewer.sessions`: HttpOnly, SameSite=Lax, Secure when ``PUBLIC_URL`` is https.
    """
    settings: Settings = get_settings()
    https = settings.public_url.startswith("https://")
    Talisman(
        app,
        # TLS ends at the platform's proxy; redirecting here could loop.
        force_https=False,
        strict_transport_security=https,
        strict_transport_security_include_subdomains=False,
        content_security_policy=content_security_policy(settings),
        frame_options="DENY",
        referrer_policy=REFERRER_POLICY,
        permissions_policy=PERMISSIONS_POLICY,
        session_cookie_secure=https,
        session_cookie_samesite="Lax",
        session_cookie_http_only=True,
    )

    @app.after_request
    def isolate_window(response):
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response

    @app.after_request
    def keep_private_answers_out_of_caches(response):
        if private_answer():
            response.headers["Cache-Control"] = "no-store"
        response.headers["Server"] = SERVER_HEADER
        return response


def api_answer_headers(app: Flask) -> list[tuple[str, str]]:
    """The headers ``app``'s hooks give an empty answer to an API request (the security
    headers above, ``no-store``, ``Server``), for answers made outside Flask to carry
    too. Learned once, from the hooks themselves, so the two never drift apart; this
    made-up answer is not counted in the metrics."""
    public_url = app.config["SETTINGS"].public_url  # https there: HSTS, as Flask sends it
    with app.test_request_context("/api/callback", method="POST", base_url=public_url):
        g.uncounted = True
        app.preprocess_request()
        response = app.process_response(app.response_class(status=204))
    kept = {"content-type", "content-length", "vary", "set-cookie"}
    return [(name, value) for name, value in response.headers.items() if name.lower() not in kept]


def private_answer() -> bool:
    """Whether the answer to this request is one user's or the API's, which no browser
    or shared cache may keep: every ``/api/`` answer, and anything answered to a
    signed-in session except the hashed, public built files (``/assets/``)."""
    if request.path.startswith("/api/"):
        return True
    if request.path.startswith("/assets/"):
        return False
    return bool(g.get("twitch_user")) or "user" in session
