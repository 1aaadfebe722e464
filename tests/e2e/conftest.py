"""Browser tests: the built front end, the app (pages and JSON API) served on
localhost, the Pusher and Twitch emulators as real processes, and Debian's
Chromium driven by Playwright.

Stream events are triggered straight on the Pusher emulator with the official
``pusher`` library, as the worker publishes them. Outside CI a machine without
Chromium, Playwright or npm skips these tests; in CI (``CI`` set) that fails.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pusher
import pytest
from werkzeug.serving import make_server

from tests.e2e.full_stack import running_stack
from tests.support import ROOT, Process, free_port, process_environment
from web import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FRONTEND = ROOT / "frontend"
AXE = FRONTEND / "node_modules" / "axe-core" / "axe.min.js"
DIST = ROOT / "web" / "dist"
ARTIFACTS = ROOT / "test-artifacts"
PUSHER_APP = {"PUSHER_APP_ID": "1", "PUSHER_KEY": "local-key", "PUSHER_SECRET": "local-secret"}
LOCAL_HOSTS = {"localhost", "127.0.0.1"}
TWITCH_EMBED_HOSTS = {"player.twitch.tv", "www.twitch.tv"}
EMBED_STAND_IN = (
    "<!doctype html><title>Twitch embed</title><body style='margin:0;height:100vh;"
    "display:grid;place-items:center;background:#18181b;color:#efeff1;"
    "font:14px sans-serif'>Twitch embed (not loaded in tests)</body>"
)
AVATAR_STAND_IN = (
    "<svg xmlns='http://www.w3.org/2000/svg' width='48' height='48'>"
    "<circle cx='24' cy='24' r='24' fill='#9147ff'/></svg>"
)


def unavailable(reason: str):
    """Skip on a developer's machine; fail in CI, where everything must be installed."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _stale(manifest: Path) -> bool:
    if not manifest.exists():
        return True
    sources = [
        FRONTEND / "package-lock.json",
        FRONTEND / "vite.config.js",
        *(FRONTEND / "src").rglob("*"),
    ]
    built = manifest.stat().st_mtime
    return any(path.is_file() and path.stat().st_mtime > built for path in sources)


@pytest.fixture(scope="session")
def frontend_build():
    """``web/dist``, built now (``npm ci`` and ``npm run build``) unless up to date; one
    test run builds at a time (a lock file), so two runs never write it at once."""
    with open(FRONTEND / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _stale(DIST / ".vite" / "manifest.json"):
            npm = shutil.which("npm")
            if npm is None:
                unavailable("npm is needed to build the front end")
            if not (FRONTEND / "node_modules" / ".package-lock.json").exists():
                subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)
            subprocess.run([npm, "run", "build"], cwd=FRONTEND, check=True)
    return DIST


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is needed (pip install playwright)")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM} is needed (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def pusher_server(tmp_path_factory):
    """The Pusher emulator (``python -m emulators.pusher``) on a free port."""
    port = free_port()
    process = Process(
        "pusher",
        [sys.executable, "-m", "emulators.pusher", "--host", "127.0.0.1", "--port", str(port)],
        process_environment(**PUSHER_APP),
        tmp_path_factory.mktemp("pusher"),
        port,
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture
def pusher_client(pusher_server) -> pusher.Pusher:
    """The official server library, pointed at the emulator."""
    return pusher.Pusher(
        app_id=PUSHER_APP["PUSHER_APP_ID"],
        key=PUSHER_APP["PUSHER_KEY"],
        secret=PUSHER_APP["PUSHER_SECRET"],
        host="127.0.0.1",
        port=pusher_server.port,
        ssl=False,
    )


@pytest.fixture
def app_url(request, frontend_build, twitch_settings, redis_client, pusher_server):
    """The app on ``http://localhost:<port>``, with Twitch at the emulator and
    browsers pointed at the Pusher emulator. Parametrized indirectly, its parameter is
    settings to change (e.g. ``{"web_push": False}``)."""
    port = free_port()
    settings = dataclasses.replace(
        twitch_settings,
        **getattr(request, "param", {}),
        public_url=f"http://localhost:{port}",
        pusher_host="127.0.0.1",
        pusher_port=pusher_server.port,
        pusher_browser_host="127.0.0.1",
        pusher_browser_port=pusher_server.port,
        pusher_ssl=False,
        pusher_app_id=PUSHER_APP["PUSHER_APP_ID"],
        pusher_key=PUSHER_APP["PUSHER_KEY"],
        pusher_secret=PUSHER_APP["PUSHER_SECRET"],
    )
    app = create_app(settings)
    app.config["FRONTEND_DIST"] = frontend_build
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield settings.public_url
    server.shutdown()
    thread.join(5)


@dataclass
class PageLog:
    """What a page did that a test may want to forbid."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    sockets: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.dialogs == [], f"dialogs opened: {self.dialogs}"
        assert self.errors == [], f"errors in the page: {self.errors}"
        assert self.blocked == [], f"requests to outside hosts: {self.blocked}"


def _route(log: PageLog):
    """Keep the browser on this machine: Twitch's embeds and images get stand-ins."""

    def handle(route):
        host = urlsplit(route.request.url).hostname
        if host in LOCAL_HOSTS:
            route.continue_()
        elif host in TWITCH_EMBED_HOSTS:
            route.fulfill(status=200, content_type="text/html", body=EMBED_STAND_IN)
        elif host == "static-cdn.jtvnw.net":
            route.fulfill(status=200, content_type="image/svg+xml", body=AVATAR_STAND_IN)
        else:
            log.blocked.append(route.request.url)
            route.abort()

    return handle


@pytest.fixture
def open_page(browser):
    """``open_page(width, height, **options)``: a fresh browser context's page and its
    :class:`PageLog`; ``options`` go to the context (e.g. ``color_scheme="dark"``)."""
    contexts = []

    def open_(width: int = 1280, height: int = 900, **options):
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale="en-GB", **options
        )
        contexts.append(context)
        log = PageLog()
        context.route("**/*", _route(log))
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("dialog", lambda dialog: (log.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: log.errors.append(str(error)))
        page.on(
            "console", lambda message: message.type == "error" and log.errors.append(message.text)
        )
        page.on("websocket", lambda socket: log.sockets.append(socket.url))
        return page, log

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def open_checked_page(open_page):
    """``open_page`` with axe-core loaded into every document the page opens, as an init
    script (so the pages' Content-Security-Policy stays in force): see ``pages.audited``."""
    if not AXE.exists():
        unavailable(f"{AXE} is missing: npm ci in frontend/ installs axe-core")

    def open_(width: int = 1280, height: int = 900, **options):
        page, log = open_page(width, height, **options)
        page.context.add_init_script(path=str(AXE))
        return page, log

    return open_


@pytest.fixture
def stack(tmp_path, frontend_build):
    """The whole product as real processes (``tests.e2e.full_stack.running_stack``): Redis,
    both emulators, the web with one Granian worker and a Celery worker of concurrency 2."""
    with running_stack(tmp_path, ("--workers", "1"), ("--concurrency", "2")) as running:
        yield running


@pytest.fixture
def artifacts() -> Path:
    """``test-artifacts/``, where screenshots go."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
