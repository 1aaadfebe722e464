"""The app shell's own parts: the web app manifest and the icons it names, all found in
the web package's ``icons/``. (Their answers over HTTP are tested with the pages.)"""

from __future__ import annotations

from pathlib import Path

import web
from web.viewer.app_shell import BRAND, ICON_FILES, ICONS, web_app_manifest


def test_the_icons_are_looked_for_in_the_web_package_and_each_is_there():
    assert ICONS == Path(web.__file__).resolve().parent / "icons"
    for served, file in ICON_FILES.items():
        assert (ICONS / file).is_file(), served
    assert (ICONS / "favicon.svg").is_file()


def test_the_manifest_names_only_icons_that_are_served():
    manifest = web_app_manifest()
    assert {icon["src"] for icon in manifest["icons"]} == {f"/icons/{name}" for name in ICON_FILES}
    assert {icon["purpose"] for icon in manifest["icons"]} == {"any", "maskable"}
    assert manifest["theme_color"] == manifest["background_color"] == BRAND
    assert manifest["start_url"] == manifest["scope"] == manifest["id"] == "/"
