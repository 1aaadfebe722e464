"""The session every call to Twitch goes through, against small real HTTP servers:
retries with backoff on 5xx and lost connections, for GET, POST and DELETE; time-outs."""

import time

import pytest

from shared.twitch import session as twitch_session
from shared.twitch.errors import TwitchUnavailable
from tests.shared.twitch.support import BACKOFFS, Server
from tests.support import free_port


@pytest.fixture
def serve():
    """Start servers answering with a function of the request; closed after the test."""
    servers = []

    def start(handle):
        servers.append(Server(handle))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def scripted(*statuses):
    """A handler answering ``statuses`` in turn (the last one repeatedly), counting calls."""
    calls = []

    def handle(request, body):
        calls.append(request.command)
        status = statuses[min(len(calls), len(statuses)) - 1]
        return status, {"status": status}, {}

    handle.calls = calls
    return handle


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_server_errors_are_retried_with_exponential_backoff(serve, method):
    handle = scripted(503, 502, 200)
    server = serve(handle)
    pauses = []
    response = twitch_session.send(twitch_session.make_session(pauses.append), method, server.url)
    assert response.status_code == 200 and handle.calls == [method] * 3
    assert pauses == BACKOFFS[:1], "no pause before the first retry, then the backoff"


def test_the_last_server_error_is_the_answer_once_the_retries_are_spent(serve):
    handle = scripted(500)
    server = serve(handle)
    pauses = []
    response = twitch_session.send(twitch_session.make_session(pauses.append), "GET", server.url)
    assert response.status_code == 500
    assert len(handle.calls) == twitch_session.RETRIES + 1 and pauses == BACKOFFS


def test_other_answers_are_not_retried(serve):
    handle = scripted(429, 200)
    server = serve(handle)
    response = twitch_session.send(twitch_session.make_session(), "POST", server.url)
    assert response.status_code == 429 and len(handle.calls) == 1


def test_no_server_is_twitch_unavailable_after_the_retries():
    pauses = []
    with pytest.raises(TwitchUnavailable, match="connection failed") as raised:
        twitch_session.send(
            twitch_session.make_session(pauses.append), "GET", f"http://127.0.0.1:{free_port()}/"
        )
    assert raised.value.status is None and pauses == BACKOFFS


def test_a_slow_answer_times_out(serve, monkeypatch):
    monkeypatch.setattr(twitch_session, "TIMEOUT", (1, 0.05))

    def slow(request, body):
        time.sleep(0.2)
        return 200, {}, {}

    server = serve(slow)
    with pytest.raises(TwitchUnavailable, match="timed out"):
        twitch_session.send(twitch_session.make_session(lambda seconds: None), "GET", server.url)
