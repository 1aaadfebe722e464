"""The consent page's own look: fits a phone's width, follows the system's dark mode."""

import re

from emulators.twitch.consent import render
from emulators.twitch.users import User

PARAMS = {"client_id": "local-client-id", "scope": "user:read:follows", "state": "st4te"}


def page() -> str:
    return render(PARAMS, [User("958187706", "cool_user", "Cool_User")])


def rule(css: str, selector: str) -> str:
    """The declarations of the first rule for ``selector`` in ``css``."""
    return re.search(rf"(?m)^\s*{re.escape(selector)} \{{(.*?)\}}", css, re.S).group(1)


def test_a_phone_shows_the_page_at_its_own_width_with_room_at_the_sides():
    html = page()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert re.search(r"padding: 0 1rem", rule(html, "body"))


def test_dark_mode_follows_the_system():
    html = page()
    assert '<meta name="color-scheme" content="light dark">' in html
    dark = html.split("@media (prefers-color-scheme: dark)", 1)[1]
    assert "#0e0e10" in rule(dark, "body") and "#efeff1" in rule(dark, "body")
    assert "#efeff1" in rule(dark, "a.deny")
