"""The server's own steps (web/server.py): the body read with its limit and deadline,
and the headers of the answers it makes. Serving over real sockets: the integration
tests (verdicts, body limits, slow clients)."""

import dataclasses
from types import SimpleNamespace

import pytest

from shared.shard_count import SHARD_COUNT
from tests.support import run_async
from tests.web.support import Arriving
from web import create_app, server
from web.errors import MAX_REQUEST_BODY
from web.intake.eventsub import BodyTooLarge
from web.security import api_answer_headers
from web.server import WebServer, create_server, read_body


def read(protocol, **headers) -> bytes:
    headers = headers or {"transfer-encoding": "chunked"}
    return run_async(read_body(SimpleNamespace(headers=headers), protocol))


def test_a_body_is_read_whole():
    assert read(Arriving(b"ab", b"", b"cd")) == b"abcd"
    assert read(Arriving(b"ab", b"cd"), **{"content-length": "4"}) == b"abcd"


def test_a_request_without_length_or_chunks_has_no_body_to_wait_for():
    assert run_async(read_body(SimpleNamespace(headers={}), Arriving(b"x", pause=60))) == b""


def test_a_body_of_exactly_the_limit_is_read():
    assert len(read(Arriving(b"x" * MAX_REQUEST_BODY))) == MAX_REQUEST_BODY


def test_a_chunked_body_over_the_limit_is_refused_as_it_passes_it():
    taken = []

    class Endless:
        async def __aiter__(self):
            for _ in range(100):
                taken.append(1)
                yield b"x" * 16384

    with pytest.raises(BodyTooLarge):
        read(Endless())
    assert len(taken) == MAX_REQUEST_BODY // 16384 + 1, "it stopped reading at the limit"


def test_a_content_length_over_the_limit_is_refused_before_reading():
    with pytest.raises(BodyTooLarge):
        read(Arriving(), **{"content-length": str(MAX_REQUEST_BODY + 1)})


@pytest.mark.parametrize("headers", [{}, {"content-length": "3"}])
def test_a_body_that_takes_longer_than_the_deadline_times_out(monkeypatch, headers):
    monkeypatch.setattr(server, "BODY_SECONDS", 0.2)
    with pytest.raises(TimeoutError):
        read(Arriving(b"a", b"b", b"c", pause=0.15), **headers)


def test_answers_made_outside_flask_carry_the_headers_of_an_api_answer(app, client):
    flask_answer = client.get("/api/no-such-route")
    made_here = dict(api_answer_headers(app))
    for name in (
        "Content-Security-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Permissions-Policy",
        "Cross-Origin-Opener-Policy",
        "Cache-Control",
        "Server",
    ):
        assert made_here[name] == flask_answer.headers[name], name
    assert "Set-Cookie" not in made_here and "Content-Type" not in made_here


def test_answers_made_outside_flask_carry_hsts_when_the_site_is_https(settings):
    app = create_app(dataclasses.replace(settings, public_url="https://events.example.org"))
    assert dict(api_answer_headers(app))["Strict-Transport-Security"].startswith("max-age=")
    plain = create_app(settings)  # http://localhost:5000
    assert "Strict-Transport-Security" not in dict(api_answer_headers(plain))


def test_learning_the_headers_counts_no_request(app, settings):
    from web.metrics import HTTP_REQUESTS

    def counted():
        return sum(
            sample.value
            for metric in HTTP_REQUESTS.collect()
            for sample in metric.samples
            if sample.name.endswith("_total")
        )

    before = counted()
    api_answer_headers(app)
    assert counted() == before


@pytest.mark.parametrize(
    "headers, to_flask",
    [
        ({"x-hub-signature": "sha256=00"}, True),
        ({"x-hub-signature": "sha256=00", "twitch-eventsub-message-type": "notification"}, False),
        ({"twitch-eventsub-message-type": "notification"}, False),
        ({}, False),
    ],
)
def test_only_websub_notifications_of_the_callback_go_to_flask(headers, to_flask):
    assert WebServer.for_flask(headers) is to_flask


def test_a_web_with_another_shard_count_than_the_intake_does_not_start(
    settings, redis_client, capsys
):
    redis_client.set(SHARD_COUNT, 16)
    with pytest.raises(SystemExit) as stopped:
        create_server(settings)
    assert stopped.value.code == 2
    assert "configuration error: INTAKE_SHARDS is 8, but the intake in Redis has 16" in (
        capsys.readouterr().err
    )
    redis_client.set(SHARD_COUNT, 8)
    assert create_server(settings).settings is settings
