"""Go-live alerts by Web Push, the browser's side (issue 21), in headless Chromium: the
web app manifest passes Chromium's installability check.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_the_app_is_installable(browser, app_url, tmp_path):
    # Chromium installs nothing from an incognito window, which every new_context() is:
    # this check runs in a profile of its own.
    context = browser.browser_type.launch_persistent_context(
        tmp_path / "profile", executable_path=CHROMIUM, args=CHROMIUM_ARGS
    )
    try:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(app_url + "/")
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["url"] == app_url + "/manifest.webmanifest"
        assert manifest["errors"] == [], manifest["errors"]
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
        assert errors == []
    finally:
        context.close()
