"""Fixtures of the web's tests that log in through the Twitch emulator."""

import pytest

from tests.web.test_auth import log_in
from web import create_app
from web.auth import current_user, login_required


@pytest.fixture
def twitch_app(twitch_settings, redis_client):
    """The app against the Twitch emulator, with one test-only page and API route."""
    app = create_app(twitch_settings)
    app.config.update(TESTING=True)

    @app.get("/test/page")
    @login_required
    def page():
        return "members only"

    @app.get("/api/test/me")
    @login_required
    def me():
        return current_user()

    return app


@pytest.fixture
def viewer(client, twitch_emulator):
    """A client logged in as viewer_vic."""
    assert log_in(client, twitch_emulator).status_code in (302, 303)
    return client
