"""Slow and idle clients against the web on real sockets: the Procfile's own web
command facing them directly, and nginx (ops/nginx) in front of it.

The web reads every body on its event loop with a deadline, and Granian gives a
request's headers 10 s (docs/security.md): the web started exactly as the Procfile
starts it answers every health probe within a second and acknowledges webhooks while
40 idle connections, 20 trickling a body and 20 trickling headers are open, and closes
each of them once it has sent nothing for 10 s. nginx in front (the compose stack) does
the same with its own time-outs. Speed is measured by ``python -m scripts.slow_clients``,
not here.
"""

import socket
import time

import pytest
import requests

from emulators.eventsub.messages import notification_body, signed_message
from scripts.nginx_proxy import NginxProxy, nginx_binary
from scripts.slow_clients import SlowClients, probe
from scripts.stack import Stack
from tests.support import start_procfile_web

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
needs_nginx = pytest.mark.skipif(
    not nginx_binary(), reason="nginx is not installed (Debian package nginx)"
)
IDLE, TRICKLING = 40, 20
SHORT_TIMEOUT = 2  # seconds: the client time-outs of the second proxy
SILENCE = 10  # seconds: what the web allows a request's headers, and its body


@pytest.fixture(scope="module")
def procfile_web(tmp_path_factory):
    """Redis, and the web started by the Procfile's own command (bash, ``$PORT``), as
    Heroku starts it: no proxy in front."""
    stack = Stack(tmp_path_factory.mktemp("procfile-web"))
    try:
        stack.start_redis()
        start_procfile_web(stack)
        yield stack
    finally:
        stack.stop(graceful=False)


def test_the_procfiles_web_answers_while_slow_clients_hold_connections(procfile_web):
    web = procfile_web
    slow_clients = SlowClients()
    try:
        slow_clients.open(web.web_port, IDLE, TRICKLING, TRICKLING)
        time.sleep(1.5)  # every trickling connection has sent a line or a byte or two

        probes = [probe(web.web_port, timeout=10) for _ in range(25)]
        acknowledged = [
            send_webhook(web, web.callback.removesuffix("/api/callback"), n) for n in range(20)
        ]

        assert [status for status, _ in probes] == [200] * 25
        assert max(seconds for _, seconds in probes) < 1.0
        assert acknowledged == [204] * 20
        assert slow_clients.still_open() == IDLE + 2 * TRICKLING, (
            "the slow clients were not all open"
        )
    finally:
        slow_clients.close()


def test_the_procfiles_web_ends_connections_that_fall_silent(procfile_web):
    web = procfile_web
    stalled_body = stalled_webhook(web, web.web_port)
    stalled_page_body = socket.create_connection(("127.0.0.1", web.web_port))
    stalled_page_body.sendall(
        b"POST /api/watch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"
    )
    stalled_headers = socket.create_connection(("127.0.0.1", web.web_port))
    stalled_headers.sendall(b"POST /api/callback HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    silent = socket.create_connection(("127.0.0.1", web.web_port))
    started = time.monotonic()
    answers = {}
    with stalled_body, stalled_page_body, stalled_headers, silent:
        for name, connection in (
            ("stalled body", stalled_body),
            ("stalled page body", stalled_page_body),
            ("stalled headers", stalled_headers),
            ("silent", silent),
        ):
            answers[name] = read_until_closed(connection, started + SILENCE + 10)
    elapsed = time.monotonic() - started

    for name in ("stalled body", "stalled page body"):
        assert answers[name].startswith(b"HTTP/1.1 408 "), (name, answers[name][:80])
        assert b"not received within 10 s" in answers[name]
    assert answers["stalled headers"] == b"" and answers["silent"] == b""
    assert SILENCE - 1 <= elapsed <= SILENCE + 5, "ended by the time-outs, not at once or late"
    assert probe(web.web_port, timeout=10)[0] == 200


def stalled_webhook(web, port: int) -> socket.socket:
    """A connection to 127.0.0.1:``port`` that sent a signed webhook's headers and the
    first 10 bytes of its body, and no more."""
    headers, raw = signed_message(
        web.secret,
        "notification",
        notification_body("channel.update", "cool_user", web.callback, title="Never finished"),
    )
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    connection = socket.create_connection(("127.0.0.1", port))
    connection.sendall(
        f"POST /api/callback HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}"
        f"Content-Length: {len(raw)}\r\n\r\n".encode()
        + raw[:10]
    )
    return connection


def read_until_closed(connection: socket.socket, deadline: float) -> bytes:
    """Everything the server sends on ``connection`` until it closes it; fails when it
    is still open at ``deadline``."""
    answer = b""
    while True:
        connection.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            data = connection.recv(4096)
        except TimeoutError:
            raise AssertionError("the web kept a silent connection open") from None
        except ConnectionResetError:
            return answer
        if not data:
            return answer
        answer += data


@pytest.fixture(scope="module")
def web(lone_web):
    """Redis and the web (1 Granian process, 8 threads), nothing else."""
    return lone_web


@pytest.fixture
def proxy(web, tmp_path):
    """nginx in front of the web with time-outs longer than the test, so every slow
    client stays open while it runs."""
    running = NginxProxy(web.web_port, tmp_path, client_timeout="60s").start()
    yield running
    running.stop()


@pytest.fixture
def impatient_proxy(web, tmp_path):
    """nginx in front of the web with client time-outs of SHORT_TIMEOUT seconds."""
    running = NginxProxy(web.web_port, tmp_path, client_timeout=f"{SHORT_TIMEOUT}s").start()
    yield running
    running.stop()


@pytest.fixture
def slow_clients():
    clients = SlowClients()
    yield clients
    clients.close()


def send_webhook(web, url: str, number: int) -> int:
    """POST a signed channel.update to ``url``: the status of the answer."""
    body = notification_body("channel.update", "cool_user", web.callback, title=f"Title {number}")
    headers, raw = signed_message(web.secret, "notification", body)
    return requests.post(f"{url}/api/callback", data=raw, headers=headers, timeout=10).status_code


def closed_within(connection: socket.socket, seconds: float) -> float | None:
    """Seconds until the server ends ``connection`` (closes or resets it) without
    answering, or None when it is still open after ``seconds``."""
    started = time.monotonic()
    connection.settimeout(seconds)
    try:
        data = connection.recv(4096)
    except TimeoutError:
        return None
    except ConnectionResetError:
        data = b""
    assert data == b"", f"nginx answered instead of closing: {data[:80]!r}"
    return time.monotonic() - started


@needs_nginx
def test_the_web_behind_nginx_answers_while_slow_clients_hold_connections(web, proxy, slow_clients):
    slow_clients.open(proxy.port, IDLE, TRICKLING)
    time.sleep(1.5)  # every trickling body has sent a byte or two

    probes = [probe(proxy.port, timeout=10) for _ in range(25)]
    acknowledged = [send_webhook(web, proxy.url, n) for n in range(20)]

    assert [status for status, _ in probes] == [200] * 25
    assert acknowledged == [204] * 20
    assert slow_clients.still_open() == IDLE + TRICKLING, "the slow clients were not all open"


@needs_nginx
def test_nginx_ends_a_body_that_stops_coming_and_a_silent_socket(web, impatient_proxy):
    stalled = stalled_webhook(web, impatient_proxy.port)
    silent = socket.create_connection(("127.0.0.1", impatient_proxy.port))
    with stalled, silent:
        stalled_after = closed_within(stalled, SHORT_TIMEOUT + 10)
        silent_after = closed_within(silent, SHORT_TIMEOUT + 10)

    assert stalled_after is not None, "nginx kept a stalled body open"
    assert silent_after is not None, "nginx kept a silent connection open"
    assert stalled_after >= SHORT_TIMEOUT - 0.5  # ended by the time-out, not at once
    assert probe(impatient_proxy.port, timeout=10)[0] == 200
