"""What makes the site an installable app that gets go-live alerts with its tabs closed:
the service worker at ``/sw.js``, the web app manifest at ``/manifest.webmanifest`` and
the app's icons under ``/icons/``.

The service worker is built by Vite from ``frontend/src/serviceWorker.js`` into
``web/dist/sw.js``, a name without a hash: browsers look for a new version at that
address, so it is answered with ``no-cache`` (always revalidated). At the site's root,
its scope may be ``/`` without a ``Service-Worker-Allowed`` header.

The icons (``web/icons``): ``favicon.png`` (192 px) and ``icon-512.png`` are
``favicon.svg``'s design, rounded corners on a transparent ground; ``maskable-*.png``
are ``maskable.svg``'s, the brand colour to every edge with the mark inside the
central circle a platform's mask keeps. The PNGs were drawn from the SVGs by Chromium.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, jsonify, send_from_directory

bp = Blueprint("app_shell", __name__)

SERVICE_WORKER = "sw.js"
ICONS = Path(__file__).resolve().parents[1] / "icons"
ICON_MAX_AGE = 24 * 3600
BRAND = "#6441a5"
ICON_FILES = {
    "icon-192.png": "favicon.png",
    "icon-512.png": "icon-512.png",
    "maskable-192.png": "maskable-192.png",
    "maskable-512.png": "maskable-512.png",
}
MANIFEST_MAX_AGE = 24 * 3600


def web_app_manifest() -> dict:
    """The web app manifest: how the app looks installed (its own window, the brand's
    colours, the icons) and where it starts (``/``, which sends a logged-in viewer on to
    ``/watch``)."""
    return {
        "id": "/",
        "name": "Streamer Event Viewer",
        "short_name": "Streamers",
        "description": "Watch Twitch streams with their chat and hear the moment a streamer "
        "goes live.",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": BRAND,
        "background_color": BRAND,
        "icons": [
            {
                "src": f"/icons/{name}",
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": purpose,
            }
            for purpose, stem in (("any", "icon"), ("maskable", "maskable"))
            for size in (192, 512)
            for name in [f"{stem}-{size}.png"]
        ],
    }


@bp.get("/sw.js")
def service_worker():
    """The service worker, always revalidated (a new build is taken at once)."""
    response = send_from_directory(Path(current_app.config["FRONTEND_DIST"]), SERVICE_WORKER)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    response = jsonify(web_app_manifest())
    response.mimetype = "application/manifest+json"
    response.cache_control.max_age = MANIFEST_MAX_AGE
    return response


@bp.get("/icons/<name>")
def icon(name: str):
    """One of the manifest's icons, kept a day like the favicon."""
    if name not in ICON_FILES:
        return "", 404
    return send_from_directory(ICONS, ICON_FILES[name], max_age=ICON_MAX_AGE)
