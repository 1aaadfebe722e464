"""Slow and idle clients against nginx (ops/nginx) in front of the web, on real sockets.

Granian hands a request to a Python thread once its headers are in, so 20 trickled
bodies stop a web of 8 threads (README, "Security"). nginx reads each body whole
first: here the web behind it still answers every health probe and acknowledges
webhooks while 40 idle and 20 trickling connections are open, and nginx ends clients
that fall silent after its (here shortened) time-outs. Speed is measured by
``python -m scripts.slow_clients``, not here.
"""

import socket
import time

import pytest
import requests

from emulators.eventsub.messages import notification_body, signed_message
from scripts.nginx_proxy import NginxProxy, nginx_binary
from scripts.slow_clients import SlowClients, probe

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(60),
    pytest.mark.skipif(not nginx_binary(), reason="nginx is not installed (Debian package nginx)"),
]
IDLE, TRICKLING = 40, 20
SHORT_TIMEOUT = 2  # seconds: the client time-outs of the second proxy


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


def test_the_web_behind_nginx_answers_while_slow_clients_hold_connections(web, proxy, slow_clients):
    slow_clients.open(proxy.port, IDLE, TRICKLING)
    time.sleep(1.5)  # every trickling body has sent a byte or two

    probes = [probe(proxy.port, timeout=10) for _ in range(25)]
    acknowledged = [send_webhook(web, proxy.url, n) for n in range(20)]

    assert [status for status, _ in probes] == [200] * 25
    assert acknowledged == [204] * 20
    assert slow_clients.still_open() == IDLE + TRICKLING, "the slow clients were not all open"


def test_nginx_ends_a_body_that_stops_coming_and_a_silent_socket(web, impatient_proxy):
    headers, raw = signed_message(
        web.secret,
        "notification",
        notification_body("channel.update", "cool_user", web.callback, title="Never finished"),
    )
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    stalled = socket.create_connection(("127.0.0.1", impatient_proxy.port))
    stalled.sendall(
        f"POST /api/callback HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}"
        f"Content-Length: {len(raw)}\r\n\r\n".encode()
        + raw[:10]
    )
    silent = socket.create_connection(("127.0.0.1", impatient_proxy.port))
    with stalled, silent:
        stalled_after = closed_within(stalled, SHORT_TIMEOUT + 10)
        silent_after = closed_within(silent, SHORT_TIMEOUT + 10)

    assert stalled_after is not None, "nginx kept a stalled body open"
    assert silent_after is not None, "nginx kept a silent connection open"
    assert stalled_after >= SHORT_TIMEOUT - 0.5  # ended by the time-out, not at once
    assert probe(impatient_proxy.port, timeout=10)[0] == 200
