"""Publishing to Pusher with the official library: delivery to the Pusher emulator, and
how each failure is classified, against a real loopback server answering each status."""

from __future__ import annotations

import dataclasses
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared import publisher
from shared.publisher import (
    RejectedPublishError,
    RetryablePublishError,
    make_pusher_client,
    publish_stream_event,
    publish_stream_events,
)
from tests.support import Process, channel_viewer, free_port, process_environment

pytestmark = pytest.mark.timeout(60)


def event(n: int, login: str = "cool_user", **fields) -> dict:
    return {
        "id": f"event-{n}",
        "type": "stream.online",
        "message": f"Cool_User went live ({n})",
        "broadcaster": {"id": "1", "login": login, "name": login.title()},
        "occurred_at": "2026-01-01T12:00:00Z",
        **fields,
    }


# -- delivery to the Pusher emulator -------------------------------------------------------


@pytest.fixture(scope="module")
def pusher_port(tmp_path_factory):
    """The Pusher emulator (the local app's credentials, as the development settings)."""
    port = free_port()
    process = Process(
        "pusher",
        [sys.executable, "-m", "emulators.pusher", "--port", str(port)],
        process_environment(),
        tmp_path_factory.mktemp("pusher"),
        port,
    ).start()
    yield port
    process.stop()


@pytest.fixture
def emulator_client(settings, pusher_port):
    return make_pusher_client(
        dataclasses.replace(
            settings, pusher_host="127.0.0.1", pusher_port=pusher_port, pusher_ssl=False
        )
    )


@pytest.fixture
def viewer(pusher_port, emulator_client):
    """A WebSocket client on cool_user's private channel: what Pusher delivered."""
    with channel_viewer(
        pusher_port,
        "local-key",
        "local-secret",
        emulator_client,
        "cool_user",
        ("stream.online", "stream.offline"),
    ) as received:
        yield received


def test_an_event_reaches_its_streamers_channel(emulator_client, viewer):
    publish_stream_event(emulator_client, event(1))
    assert viewer.get(timeout=5) == ("stream.online", event(1))


def test_a_batch_arrives_whole_and_in_order(emulator_client, viewer):
    sent = [event(1), event(2, type="stream.offline"), event(3)]
    publish_stream_events(emulator_client, sent)
    assert [viewer.get(timeout=5) for _ in sent] == [(e["type"], e) for e in sent]


def test_an_event_over_pushers_size_limit_is_rejected(emulator_client):
    with pytest.raises(RejectedPublishError, match="413"):
        publish_stream_event(emulator_client, event(1, message="x" * 11_000))


# -- each failure, from a loopback server --------------------------------------------------


class Answering:
    """A loopback HTTP server answering every request with one status and body; it
    counts the requests."""

    def __init__(self, status: int, body: str):
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                owner.requests += 1
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                raw = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def answering(settings):
    """Start a server answering ``status``; returns it and a Pusher client of it."""
    servers = []

    def start(status: int, body: str = "answer"):
        server = Answering(status, body)
        servers.append(server)
        changed = dataclasses.replace(
            settings, pusher_host="127.0.0.1", pusher_port=server.port, pusher_ssl=False
        )
        return server, make_pusher_client(changed)

    yield start
    for server in servers:
        server.close()


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_throttling_and_server_errors_are_retryable(answering, status):
    server, client = answering(status, "try later")
    with pytest.raises(RetryablePublishError, match=f"Pusher failed: {status}: try later"):
        publish_stream_event(client, event(1))
    with pytest.raises(RetryablePublishError):
        publish_stream_events(client, [event(1), event(2)])
    assert server.requests == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413])
def test_other_refusals_are_rejected(answering, status):
    server, client = answering(status, "no")
    with pytest.raises(RejectedPublishError, match="Pusher refused the event"):
        publish_stream_event(client, event(1))
    with pytest.raises(RejectedPublishError):
        publish_stream_events(client, [event(1), event(2)])
    assert server.requests == 2


@pytest.mark.parametrize("status", [400, 413])
def test_a_refusal_whose_text_looks_like_a_server_error_is_rejected(answering, status):
    server, client = answering(status, "503: Service Unavailable")
    with pytest.raises(RejectedPublishError):
        publish_stream_event(client, event(1))


def test_what_the_library_refuses_itself_is_rejected_unsent(answering):
    server, client = answering(200, "{}")
    with pytest.raises(RejectedPublishError, match="event_name too long"):
        publish_stream_event(client, event(1, type="x" * 201))
    assert server.requests == 0


def test_an_unreachable_pusher_is_retryable(settings):
    changed = dataclasses.replace(
        settings, pusher_host="127.0.0.1", pusher_port=free_port(), pusher_ssl=False
    )
    with pytest.raises(RetryablePublishError, match="cannot reach Pusher: connection failed"):
        publish_stream_event(make_pusher_client(changed), event(1))


def test_a_pusher_that_never_answers_is_retryable(settings, monkeypatch):
    monkeypatch.setattr(publisher, "PUBLISH_TIMEOUT", 0.3)
    with socket.create_server(("127.0.0.1", 0)) as silent:
        changed = dataclasses.replace(
            settings,
            pusher_host="127.0.0.1",
            pusher_port=silent.getsockname()[1],
            pusher_ssl=False,
        )
        with pytest.raises(RetryablePublishError, match="cannot reach Pusher: timed out"):
            publish_stream_event(make_pusher_client(changed), event(1))
