"""The pages: login at ``/``, the viewer at ``/watch``, the go-live alerts at ``/alerts``,
the built assets behind them, and the app shell (service worker, manifest, icons)."""

from __future__ import annotations

import json
import struct
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

ACCESS_TOKEN = "access-token-that-must-stay-on-the-server"
REFRESH_TOKEN = "refresh-token-that-must-stay-on-the-server"
MANIFEST = {
    "src/colorMode.js": {
        "file": "assets/color-mode-C0l0r001.js",
        "src": "src/colorMode.js",
        "isEntry": True,
    },
    "src/site.css": {"file": "assets/site-S1te0001.css", "src": "src/site.css", "isEntry": True},
    "src/watch.js": {
        "file": "assets/watch-W4tch001.js",
        "src": "src/watch.js",
        "isEntry": True,
        "imports": ["_vendor-V3nd0001.js"],
        "css": ["assets/watch-W4tch001.css"],
    },
    "src/alerts.js": {
        "file": "assets/alerts-A1ert001.js",
        "src": "src/alerts.js",
        "isEntry": True,
        "imports": ["_vendor-V3nd0001.js"],
    },
    "src/serviceWorker.js": {"file": "sw.js", "src": "src/serviceWorker.js", "isEntry": True},
    "_vendor-V3nd0001.js": {
        "file": "assets/vendor-V3nd0001.js",
        "css": ["assets/vendor-V3nd0001.css"],
    },
}


COLOR_MODE_SCRIPT = "/assets/color-mode-C0l0r001.js"


class Tags(HTMLParser):
    """Every start tag of a page, as (name, attributes), plus the text inside scripts."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.script_text = ""
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_text += data

    def all(self, name: str, **match) -> list[dict]:
        return [
            attrs
            for tag, attrs in self.tags
            if tag == name and all(attrs.get(k) == v for k, v in match.items())
        ]


@pytest.fixture
def dist(tmp_path):
    """A built front end of our own: a manifest and the files it names."""
    (tmp_path / ".vite").mkdir()
    (tmp_path / ".vite" / "manifest.json").write_text(json.dumps(MANIFEST))
    (tmp_path / "assets").mkdir()
    for chunk in MANIFEST.values():
        for name in [chunk["file"], *chunk.get("css", [])]:
            (tmp_path / name).write_text(f"/* {name} */")
    return tmp_path


@pytest.fixture
def app(app, dist):
    app.config["FRONTEND_DIST"] = dist
    return app


def log_in(client, display_name="Viewer Vic", login="viewer_vic"):
    """A signed-in session, as the Twitch login leaves it (validated just now)."""
    with client.session_transaction() as session:
        session["user"] = {"id": "4242", "login": login, "display_name": display_name}
        session["twitch"] = {
            "access_token": ACCESS_TOKEN,
            "refresh_token": REFRESH_TOKEN,
            "expires_at": int(time.time()) + 3600,
            "scopes": ["user:read:follows"],
        }
        session["validated_at"] = time.time()


def test_login_page_links_twitch_login_and_the_built_styles(client):
    response = client.get("/")
    assert response.status_code == 200
    page = Tags(response.get_data(as_text=True))
    assert page.all("a", href="/login")
    assert "Log in with Twitch" in response.get_data(as_text=True)
    styles = [link["href"] for link in page.all("link", rel="stylesheet")]
    assert styles == ["/assets/site-S1te0001.css"]
    assert page.all("script") == [{"src": COLOR_MODE_SCRIPT}]


@pytest.mark.parametrize("path", ["/", "/watch/cool_user"])
def test_pages_set_the_colour_mode_before_anything_paints(client, path):
    if path != "/":
        log_in(client)
    page = Tags(client.get(path).get_data(as_text=True))
    head = [
        (tag, attrs)
        for tag, attrs in page.tags
        if tag in ("script", "link") and attrs.get("rel") != "modulepreload"
    ]
    # First in <head>, before any stylesheet, and classic: it runs before the page paints.
    assert head[0] == ("script", {"src": COLOR_MODE_SCRIPT})
    selects = page.all("select", id="color-mode")
    assert len(selects) == (1 if path == "/" else 0)  # the watch page's is rendered by Vue
    if selects:
        assert "data-color-mode" in selects[0]
        assert page.all("label", **{"for": "color-mode"})
        options = [attrs["value"] for tag, attrs in page.tags if tag == "option"]
        assert options == ["system", "light", "dark"]


def test_login_page_shows_the_message_it_is_sent_back_with(client):
    shown = client.get("/?message=logged-out").get_data(as_text=True)
    assert "You are logged out." in shown
    unknown = client.get("/?message=<b>made-up</b>").get_data(as_text=True)
    assert "made-up" not in unknown and 'role="status"' not in unknown


def test_logged_in_viewer_goes_from_login_page_to_watch(client):
    log_in(client)
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/watch"


@pytest.mark.parametrize("path", ["/watch", "/watch/cool_user", "/watch/cool_user?x=1"])
def test_watch_pages_need_login_and_the_login_returns_there(client, path):
    response = client.get(path)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/" and not location.netloc
    assert parse_qs(location.query) == {"message": ["login"], "next": [path]}
    page = Tags(client.get(response.headers["Location"]).get_data(as_text=True))
    (link,) = [a for a in page.all("a") if a.get("href", "").startswith("/login")]
    assert parse_qs(urlsplit(link["href"]).query) == {"next": [path]}


@pytest.mark.parametrize("next_", ["//evil.example", "https://evil.example", "/\\evil.example"])
def test_the_login_page_hands_on_only_same_site_paths(client, next_):
    page = Tags(
        client.get("/", query_string={"message": "login", "next": next_}).get_data(as_text=True)
    )
    assert page.all("a", href="/login")


def test_watch_page_loads_the_app_through_the_manifest(client):
    log_in(client)
    response = client.get("/watch")
    assert response.status_code == 200
    page = Tags(response.get_data(as_text=True))
    styles = [link["href"] for link in page.all("link", rel="stylesheet")]
    assert styles == [
        "/assets/site-S1te0001.css",
        "/assets/vendor-V3nd0001.css",
        "/assets/watch-W4tch001.css",
    ]
    assert [s.get("src") for s in page.all("script")] == [
        COLOR_MODE_SCRIPT,
        "/assets/watch-W4tch001.js",
    ]
    assert page.all("script")[1]["type"] == "module"
    assert page.all("link", rel="modulepreload") == [
        {"rel": "modulepreload", "href": "/assets/vendor-V3nd0001.js"}
    ]
    for url in styles + ["/assets/watch-W4tch001.js", "/assets/vendor-V3nd0001.js"]:
        assert client.get(url).status_code == 200, url


def test_watch_page_hands_the_app_its_data_in_attributes_and_no_inline_code(app, client):
    log_in(client)
    html = client.get("/watch/cool_user").get_data(as_text=True)
    page = Tags(html)
    (root,) = page.all("div", id="app")
    assert root["data-user"] == "Viewer Vic"
    assert root["data-streamer"] == "cool_user"
    assert root["data-logout-url"] == "/logout"
    pusher = json.loads(root["data-pusher"])
    assert pusher["key"] == app.config["SETTINGS"].pusher_key
    assert not any("secret" in name for name in pusher)
    assert app.config["SETTINGS"].pusher_secret not in html
    assert page.script_text.strip() == ""
    assert not any(name.startswith("on") for _, attrs in page.tags for name in attrs)
    assert client.get("/watch").status_code == 200
    assert (
        Tags(client.get("/watch").get_data(as_text=True)).all("div", id="app")[0]["data-streamer"]
        == ""
    )


def test_no_token_reaches_the_page(client):
    log_in(client)
    for path in ("/watch", "/watch/cool_user", "/"):
        response = client.get(path, follow_redirects=True)
        shown = response.get_data(as_text=True) + str(response.headers)
        assert ACCESS_TOKEN not in shown and REFRESH_TOKEN not in shown


def test_names_from_twitch_are_escaped_in_the_page(client):
    log_in(client, display_name='"><img src=x onerror=alert(1)>')
    response = client.get('/watch/"><svg onload=alert(1)>')
    assert response.status_code == 200
    page = Tags(response.get_data(as_text=True))
    assert page.all("img") == [] and page.all("svg") == []
    (root,) = page.all("div", id="app")
    assert root["data-user"] == '"><img src=x onerror=alert(1)>'
    assert root["data-streamer"] == '"><svg onload=alert(1)>'


def test_assets_are_cached_for_a_year_and_only_files_under_assets_are_served(client):
    response = client.get("/assets/watch-W4tch001.js")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "/* assets/watch-W4tch001.js */"
    assert response.cache_control.max_age == 365 * 24 * 3600
    assert response.cache_control.immutable
    assert client.get("/assets/watch-0ther000.js").status_code == 404
    assert client.get("/assets/../.vite/manifest.json").status_code == 404
    assert client.get("/assets/%2e%2e/.vite/manifest.json").status_code == 404


def test_manifest_is_read_once(client, dist):
    log_in(client)
    client.get("/watch")
    changed = dict(
        MANIFEST,
        **{"src/watch.js": dict(MANIFEST["src/watch.js"], file="assets/watch-Changed1.js")},
    )
    (dist / ".vite" / "manifest.json").write_text(json.dumps(changed))
    page = Tags(client.get("/watch").get_data(as_text=True))
    assert [s["src"] for s in page.all("script")] == [
        COLOR_MODE_SCRIPT,
        "/assets/watch-W4tch001.js",
    ]


def test_pages_say_so_when_the_front_end_is_not_built(app, client, tmp_path, caplog):
    app.config["FRONTEND_DIST"] = tmp_path / "nothing-here"
    login = client.get("/")
    assert login.status_code == 200 and "Log in with Twitch" in login.get_data(as_text=True)
    log_in(client)
    response = client.get("/watch")
    assert response.status_code == 503
    assert "front end has not been built" in response.get_data(as_text=True)
    assert "npm run build" in caplog.text


@pytest.mark.parametrize(
    "names",
    ["cool_user,speedy_sam", "cool_user,speedy_sam,Night_Owl,chill_chess", "cool_user,cool_user"],
)
def test_watch_page_takes_a_list_of_up_to_four_streamers(client, names):
    log_in(client)
    response = client.get(f"/watch/{names}")
    assert response.status_code == 200
    (root,) = Tags(response.get_data(as_text=True)).all("div", id="app")
    assert root["data-streamer"] == names
    assert "data-error" not in root


@pytest.mark.parametrize(
    ("names", "error"),
    [
        ("cool_user,speedy_sam,night_owl,chill_chess,viewer_vic", "at most 4 streams play at once"),
        (
            "cool_user,ab",
            ("ab is not a Twitch name: a Twitch name is 4 to 25 letters, digits or underscores"),
        ),
        ("cool_user,", "an empty name is not a Twitch name"),
        ('cool_user,"><svg onload=alert(1)>', '"><svg onload=alert(1)> is not a Twitch name'),
    ],
)
def test_a_bad_list_of_streamers_is_no_page_and_the_page_says_why(client, names, error):
    log_in(client)
    response = client.get(f"/watch/{names}")
    assert response.status_code == 404
    page = Tags(response.get_data(as_text=True))
    assert page.all("svg") == []
    (root,) = page.all("div", id="app")
    assert root["data-streamer"] == names
    assert root["data-error"].startswith(error)
    assert [s.get("src") for s in page.all("script")] == [
        COLOR_MODE_SCRIPT,
        "/assets/watch-W4tch001.js",
    ]


ICON_TYPES = {"/favicon.svg": "image/svg+xml", "/favicon.png": "image/png"}


@pytest.mark.parametrize("path", ["/", "/watch/cool_user", "/watch/a,b,c,d,e"])
def test_every_page_links_the_apps_icon_and_it_answers(client, path):
    if path != "/":
        log_in(client)
    page = Tags(client.get(path).get_data(as_text=True))
    icons = {link["href"]: link.get("type") for link in page.all("link", rel="icon")}
    assert icons == ICON_TYPES
    assert [link["href"] for link in page.all("link", rel="apple-touch-icon")] == ["/favicon.png"]
    for href, kind in [*ICON_TYPES.items(), ("/favicon.ico", "image/png")]:
        answer = client.get(href)
        assert answer.status_code == 200, href
        assert answer.mimetype == kind, href
        assert len(answer.data) > 100, href


def test_every_page_template_is_built_on_the_one_that_links_the_icon(app):
    templates = Path(app.root_path) / "templates" / "pages"
    base = (templates / "base.html").read_text()
    assert 'rel="icon"' in base
    for template in templates.glob("*.html"):
        if template.name != "base.html":
            assert '{% extends "pages/base.html" %}' in template.read_text(), template.name


def test_the_alerts_page_needs_login_and_loads_its_own_app(client):
    response = client.get("/alerts")
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == ["/alerts"]
    log_in(client)
    response = client.get("/alerts")
    assert response.status_code == 200
    page = Tags(response.get_data(as_text=True))
    assert [s.get("src") for s in page.all("script")] == [
        COLOR_MODE_SCRIPT,
        "/assets/alerts-A1ert001.js",
    ]
    assert page.all("link", rel="modulepreload") == [
        {"rel": "modulepreload", "href": "/assets/vendor-V3nd0001.js"}
    ]
    (root,) = page.all("div", id="app")
    assert root["data-user"] == "Viewer Vic"
    assert root["data-logout-url"] == "/logout"
    assert page.script_text.strip() == ""
    assert "Go-live alerts" in response.get_data(as_text=True)
    shown = response.get_data(as_text=True) + str(response.headers)
    assert ACCESS_TOKEN not in shown and REFRESH_TOKEN not in shown


@pytest.mark.parametrize("path", ["/", "/watch/cool_user", "/alerts"])
def test_every_page_links_the_web_app_manifest_and_the_brand_colour(client, path):
    if path != "/":
        log_in(client)
    page = Tags(client.get(path).get_data(as_text=True))
    assert [link["href"] for link in page.all("link", rel="manifest")] == ["/manifest.webmanifest"]
    colours = [meta for meta in page.all("meta") if meta.get("name") == "theme-color"]
    assert colours == [{"name": "theme-color", "content": "#6441a5"}]


def test_the_service_worker_is_served_at_the_root_and_always_revalidated(client, dist):
    (dist / "sw.js").write_text("/* the service worker */")
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.get_data(as_text=True) == "/* the service worker */"
    assert response.headers["Cache-Control"] == "no-cache"
    # Its own policy too: the worker runs under it.
    assert "worker-src 'self'" in response.headers["Content-Security-Policy"]
    log_in(client)
    assert "no-store" in client.get("/sw.js").headers["Cache-Control"]


def test_the_policy_names_the_worker_and_the_manifest_as_our_own(client):
    header = client.get("/").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in header.split(";"))
    assert directives["worker-src"] == "'self'"
    assert directives["manifest-src"] == "'self'"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_the_web_app_manifest_makes_the_app_installable(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["name"] == "Streamer Event Viewer" and manifest["short_name"]
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    assert manifest["theme_color"] == manifest["background_color"] == "#6441a5"
    icons = {(icon["sizes"], icon["purpose"]): icon for icon in manifest["icons"]}
    assert set(icons) == {(f"{n}x{n}", p) for n in (192, 512) for p in ("any", "maskable")}
    for (sizes, _), icon in icons.items():
        answer = client.get(icon["src"])
        assert answer.status_code == 200, icon
        assert answer.mimetype == icon["type"] == "image/png"
        assert "x".join(map(str, png_size(answer.data))) == sizes, icon
    assert client.get("/icons/favicon.svg").status_code == 404
    assert client.get("/icons/../server.py").status_code == 404
