"""Twitch's errors: the kind for each answer, Twitch's message kept short with secrets
blanked out, and calls that got no answer."""

import json

import pytest
import requests
import urllib3

from shared.twitch.errors import (
    HIDDEN,
    MESSAGE_LIMIT,
    SubscriptionExists,
    TwitchAuthError,
    TwitchError,
    TwitchNotFound,
    TwitchRateLimited,
    TwitchUnavailable,
    error_for,
    unreachable,
)


def answer(status, body=None, reason="Reason"):
    """A requests answer with ``status`` and ``body`` (JSON unless bytes)."""
    response = requests.Response()
    response.status_code, response.reason = status, reason
    response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return response


@pytest.mark.parametrize(
    "status, kind",
    [
        (400, TwitchError),
        (401, TwitchAuthError),
        (403, TwitchAuthError),
        (404, TwitchNotFound),
        (409, SubscriptionExists),
        (429, TwitchRateLimited),
        (500, TwitchUnavailable),
        (503, TwitchUnavailable),
    ],
)
def test_each_status_has_its_kind_of_error(status, kind):
    error = error_for(answer(status, {"message": "no"}))
    assert type(error) is kind and error.status == status
    assert str(error) == f"Twitch answered {status}: no"


def test_the_message_is_twitchs_else_its_error_else_the_reason():
    assert error_for(answer(400, {"error": "Bad Request"})).message == "Bad Request"
    assert error_for(answer(400, b"<html>", reason="Bad Request")).message == "Bad Request"
    assert error_for(answer(400, b"", reason="")).message == "no message"
    assert error_for(answer(400, [1, 2], reason="Odd")).message == "Odd"


def test_secrets_are_blanked_out_and_the_message_cut():
    error = error_for(answer(401, {"message": "token abc123 invalid for abc123"}), ("abc123", ""))
    assert error.message == f"token {HIDDEN} invalid for {HIDDEN}"
    long = error_for(answer(400, {"message": "x" * 1000}))
    assert long.message == "x" * MESSAGE_LIMIT


def test_a_rate_limit_says_when_to_try_again():
    error = TwitchRateLimited(429, "Too Many Requests")
    assert error.retry_after() == 1, "unknown: one second"
    error.reset_at = 1000.2
    assert error.retry_after(now=990.0) == 11
    assert error.retry_after(now=2000.0) == 1, "never less than a second"


def test_a_call_without_an_answer_says_whether_it_timed_out():
    refused = unreachable(requests.ConnectionError("refused at http://x/?token=abc"))
    assert (refused.status, str(refused)) == (None, "cannot reach Twitch: connection failed")
    assert "timed out" in str(unreachable(requests.ReadTimeout("slow")))
    pool = urllib3.HTTPConnectionPool("127.0.0.1")
    waited = requests.ConnectionError(
        urllib3.exceptions.MaxRetryError(pool, "/", urllib3.exceptions.ConnectTimeoutError())
    )
    assert "timed out" in str(unreachable(waited))
    no_connection = requests.ConnectionError(
        urllib3.exceptions.MaxRetryError(
            pool, "/", urllib3.exceptions.NewConnectionError(None, "refused")
        )
    )
    assert "connection failed" in str(unreachable(no_connection))
