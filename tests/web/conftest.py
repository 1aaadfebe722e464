"""Fixtures of the web's tests that log in through the Twitch emulator."""

import pytest

from tests.web.support import FROM_OUR_PAGE, VIEWER, log_in
from web import create_app
from web.viewer.auth import login_required
from web.viewer.signed_in import current_user


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


class AuthActions:
    """Log test clients in and out through the Twitch emulator (the test's ``client``
    unless another is given)."""

    def __init__(self, client, emulator):
        self.client, self.emulator = client, emulator

    def login(self, login=VIEWER, client=None):
        """Log in as ``login``, checked to succeed; the login's last answer."""
        response = log_in(client or self.client, self.emulator, login=login)
        assert response.status_code in (302, 303)
        return response

    def logout(self, everywhere=False, client=None):
        """Log out from our page (``everywhere``: every session of the user); the answer."""
        data = {"everywhere": "1"} if everywhere else {}
        return (client or self.client).post("/logout", data=data, headers=FROM_OUR_PAGE)


@pytest.fixture
def auth(client, twitch_emulator):
    """Log in and out, as ``auth.login()``, ``auth.login("cool_user", client=other)``
    and ``auth.logout()``."""
    return AuthActions(client, twitch_emulator)


@pytest.fixture
def viewer(client, auth):
    """A client logged in as viewer_vic."""
    auth.login()
    return client
