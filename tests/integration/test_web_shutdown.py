"""A web process stopped as a platform stops it on every deploy and daily restart
(SIGTERM), started by the Procfile's own command: the requests it has begun are all
answered and queued, it takes no new connection, and it exits promptly."""

import signal
import socket
import time

import pytest

from emulators.eventsub.messages import notification_body, signed_message
from scripts.stack import Stack
from shared.intake import intake_key
from tests.support import start_procfile_web, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
BEGUN, IDLE, SILENT = 20, 5, 5


def webhook_request(stack: Stack, n: int) -> tuple[bytes, bytes]:
    """A signed notification as raw HTTP: (request head, body)."""
    body = notification_body("channel.update", "cool_user", stack.callback, title=f"Title {n}")
    headers, raw = signed_message(stack.secret, "notification", body)
    head = "POST /api/callback HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    head += f"Content-Length: {len(raw)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    return head.encode(), raw


def status_line(connection: socket.socket) -> bytes:
    """The first line of the answer on ``connection``."""
    connection.settimeout(10)
    return connection.recv(4096).split(b"\r\n", 1)[0]


def test_a_web_told_to_stop_answers_and_queues_every_request_it_has_begun(tmp_path):
    stack = Stack(tmp_path)
    try:
        stack.start_redis()
        web = start_procfile_web(stack)
        address = ("127.0.0.1", stack.web_port)
        begun = []
        for n in range(BEGUN):  # headers and part of the body in, the rest still to come
            head, raw = webhook_request(stack, n)
            connection = socket.create_connection(address)
            connection.sendall(head + raw[:10])
            begun.append((connection, raw[10:]))
        idle = []
        for n in range(IDLE):  # answered, kept alive
            head, raw = webhook_request(stack, BEGUN + n)
            connection = socket.create_connection(address)
            connection.sendall(head + raw)
            assert status_line(connection) == b"HTTP/1.1 204 No Content"
            idle.append(connection)
        silent = [socket.create_connection(address) for _ in range(SILENT)]
        time.sleep(0.5)  # every body has started to arrive

        web.popen.send_signal(signal.SIGTERM)
        wait_until(lambda: connection_refused(address), timeout=5, message="the web kept listening")
        for connection, rest in begun:
            connection.sendall(rest)
        answers = [status_line(connection) for connection, _ in begun]
        stopped = time.monotonic()
        web.popen.wait(timeout=15)

        assert answers == [b"HTTP/1.1 204 No Content"] * BEGUN
        assert web.popen.returncode == 0
        assert time.monotonic() - stopped < 5, "idle and silent connections held the web up"
        queued = sum(stack.redis().xlen(intake_key(shard)) for shard in range(8))
        assert queued == BEGUN + IDLE
        for connection in [c for c, _ in begun] + idle + silent:
            connection.close()
    finally:
        stack.stop(graceful=False)


def connection_refused(address: tuple[str, int]) -> bool:
    """Whether nothing listens at ``address`` any more."""
    try:
        socket.create_connection(address, timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False
