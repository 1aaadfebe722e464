"""The limits on starting logins, called in requests of the app against the test Redis:
the address a login start is counted by, the per-address budget and the wait it tells,
and the logins in progress a session keeps."""

from __future__ import annotations

import time

import pytest
from flask import session

from web.viewer.login_limits import (
    LOGIN_STARTS_PER_MINUTE,
    MAX_PENDING_LOGINS,
    client_address,
    login_start_wait,
    prune_pending_logins,
)


def request_from(app, address: str):
    return app.test_request_context(environ_base={"REMOTE_ADDR": address})


@pytest.mark.parametrize(
    "address, counted_as",
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:5:7:1:2:3:4", "2001:db8:5:7::/64"),
        ("2001:DB8:5:7::FFFF", "2001:db8:5:7::/64"),
        ("::ffff:198.51.100.4", "198.51.100.4"),
        ("", "unknown"),
        ("not an address", "not an address"),
    ],
)
def test_a_login_start_is_counted_by_address_and_ipv6_by_its_network(app, address, counted_as):
    with request_from(app, address):
        assert client_address() == counted_as


def test_an_address_over_its_budget_waits_for_its_minute_to_end(app, redis_client):
    for _ in range(LOGIN_STARTS_PER_MINUTE):
        with request_from(app, "203.0.113.9"):
            assert login_start_wait() is None
    with request_from(app, "203.0.113.9"):
        wait = login_start_wait()
    assert wait is not None and 1 <= wait <= 60
    with request_from(app, "203.0.113.10"):
        assert login_start_wait() is None


def test_a_session_keeps_only_its_newest_unexpired_logins_in_progress(app):
    now = time.time()
    with app.test_request_context():
        for number in range(MAX_PENDING_LOGINS + 2):
            session[f"_state_twitch_{number}"] = {"exp": now + 600 + number}
        session["_state_twitch_expired"] = {"exp": now - 1}
        session["user"] = {"id": "4242"}
        prune_pending_logins("_state_twitch_")
        kept = sorted(key for key in session if key.startswith("_state_twitch_"))
        assert kept == [f"_state_twitch_{n}" for n in range(2, MAX_PENDING_LOGINS + 2)]
        assert session["user"] == {"id": "4242"}
