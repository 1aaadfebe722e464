"""The built front end as the pages link it: each entry's files from Vite's manifest, in
the order Vite gives them, and a build that lacks something said so, not served broken."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

import web
from web.viewer.frontend import (
    DIST,
    MANIFEST,
    FrontendNotBuilt,
    entry_assets,
    frontend_built,
    manifest,
)

CHUNKS = {
    "src/colorMode.js": {"file": "assets/color-mode-1.js", "isEntry": True},
    "src/site.css": {"file": "assets/site-1.css", "isEntry": True},
    "src/watch.js": {
        "file": "assets/watch-1.js",
        "isEntry": True,
        "imports": ["_vendor-1.js", "_chart-1.js"],
        "css": ["assets/watch-1.css"],
    },
    "_vendor-1.js": {"file": "assets/vendor-1.js", "css": ["assets/shared-1.css"]},
    "_chart-1.js": {
        "file": "assets/chart-1.js",
        "imports": ["_vendor-1.js"],
        "css": ["assets/shared-1.css", "assets/chart-1.css"],
    },
}


def write_manifest(dist: Path, chunks: dict) -> None:
    (dist / MANIFEST).parent.mkdir(parents=True, exist_ok=True)
    (dist / MANIFEST).write_text(json.dumps(chunks))


@pytest.fixture
def dist(app, tmp_path):
    write_manifest(tmp_path, CHUNKS)
    app.config["FRONTEND_DIST"] = tmp_path
    return tmp_path


def test_the_front_end_is_looked_for_in_the_web_package():
    assert DIST == Path(web.__file__).resolve().parent / "dist"


def test_an_entry_gets_its_imports_styles_first_each_once_and_its_chunks_preloaded(app, dist):
    with app.app_context():
        assets = entry_assets("src/watch.js")
    assert assets == {
        "scripts": ["/assets/watch-1.js"],
        "styles": ["/assets/shared-1.css", "/assets/chart-1.css", "/assets/watch-1.css"],
        "preloads": ["/assets/vendor-1.js", "/assets/chart-1.js"],
    }


def test_a_stylesheet_entry_is_a_style(app, dist):
    with app.app_context():
        assert entry_assets("src/site.css") == {
            "scripts": [],
            "styles": ["/assets/site-1.css"],
            "preloads": [],
        }


def test_a_build_without_a_pages_entry_is_not_built_and_says_which(app, dist, caplog):
    caplog.set_level(logging.ERROR, logger="web.viewer.frontend")
    with app.app_context():
        assert frontend_built("src/watch.js")
        assert not frontend_built("src/alerts.js")
        with pytest.raises(FrontendNotBuilt, match="src/alerts.js"):
            entry_assets("src/alerts.js")
    assert "no entry 'src/alerts.js'" in caplog.text


def test_without_a_manifest_nothing_is_built_and_the_log_says_how_to_build(app, tmp_path, caplog):
    app.config["FRONTEND_DIST"] = tmp_path / "never-built"
    with app.app_context():
        assert not frontend_built()
    assert "npm run build" in caplog.text


def test_in_debug_mode_a_new_build_is_read_again(app, dist):
    app.debug = True
    with app.app_context():
        assert entry_assets("src/site.css")["styles"] == ["/assets/site-1.css"]
        write_manifest(dist, {**CHUNKS, "src/site.css": {"file": "assets/site-2.css"}})
        later = (dist / MANIFEST).stat().st_mtime + 5
        os.utime(dist / MANIFEST, (later, later))
        assert entry_assets("src/site.css")["styles"] == ["/assets/site-2.css"]


def test_outside_debug_mode_the_manifest_is_read_once_per_process(app, dist):
    with app.app_context():
        first = manifest()
        write_manifest(dist, {})
        assert manifest() is first
