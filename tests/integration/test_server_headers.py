"""What Granian itself sends, serving the app as the Procfile does."""

import socket

import pytest
import requests

from scripts.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture(scope="module")
def web(lone_web):
    """Redis and the web, nothing else (the integration conftest's ``lone_web``)."""
    return lone_web


def raw_answer(stack: Stack, payload: bytes) -> bytes:
    """Granian's answer to ``payload``: its head, and the body its Content-Length gives
    (or all until the connection closes). Reading stops there, whether Granian then
    closes the connection, keeps it open or resets it for the bytes it left unread."""
    answer = b""
    with socket.create_connection(("127.0.0.1", stack.web_port), timeout=30) as connection:
        try:
            connection.sendall(payload)
        except OSError:  # it answered and closed before taking the whole payload
            pass
        try:
            while not answer_is_complete(answer) and (data := connection.recv(65536)):
                answer += data
        except ConnectionResetError:
            pass
    return answer


def answer_is_complete(answer: bytes) -> bool:
    head, separator, body = answer.partition(b"\r\n\r\n")
    if not separator:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def test_app_answers_do_not_say_granian(web):
    for path in ("/healthz", "/no-such-page", "/api/watch"):
        response = requests.get(f"http://127.0.0.1:{web.web_port}{path}", timeout=10)
        assert response.headers["Server"] == "sev", path


@pytest.mark.parametrize(
    "payload, status",
    [
        (b"GARBAGE\r\n\r\n", b"400"),
        (b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", b"400"),
        # Granian checks its header buffer (about 408 KiB) between reads, so a head that
        # arrives in one large read can pass up to about twice that: 2 MB never does.
        (b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 2_000_000 + b"\r\n\r\n", b"431"),
    ],
)
def test_granians_own_error_answers_are_bare(web, payload, status):
    """Granian answers a request it cannot parse itself, before the app: an empty body,
    no Server header, nothing about the software."""
    head, _, body = raw_answer(web, payload).partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == status
    assert body == b""
    assert b"granian" not in head.lower() and b"server:" not in head.lower()
