"""The Flask app called from the event loop (web/wsgi_bridge.py): the WSGI environ of a
request, and the app's answer collected whole."""

import asyncio
import threading
from types import SimpleNamespace

from tests.support import run_async
from web.wsgi_bridge import WSGIBridge, call_wsgi, wsgi_environ


class Headers(dict):
    """Granian's headers: lower-case names, a name may come twice."""

    def __init__(self, pairs):
        super().__init__(pairs)
        self.pairs = pairs

    def items(self):
        return list(self.pairs)


def scope(path="/watch", query="", headers=(), method="GET"):
    return SimpleNamespace(
        method=method,
        path=path,
        query_string=query,
        server="127.0.0.1:5000",
        client="[::1]:40000",
        http_version="1.1",
        scheme="http",
        headers=Headers(list(headers)),
    )


def test_the_environ_names_the_request():
    environ = wsgi_environ(
        scope("/watch/cool_user", "a=1", [("host", "localhost:5000")], "POST"), b"{}"
    )
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["PATH_INFO"] == "/watch/cool_user"
    assert environ["QUERY_STRING"] == "a=1"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("127.0.0.1", "5000")
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == ("::1", "40000")
    assert environ["HTTP_HOST"] == "localhost:5000"
    assert environ["CONTENT_LENGTH"] == "2" and environ["wsgi.input"].read() == b"{}"


def test_a_non_ascii_path_reaches_wsgi_as_latin_1_bytes():
    environ = wsgi_environ(scope("/watch/ünï"), b"")
    assert environ["PATH_INFO"].encode("latin-1").decode("utf-8") == "/watch/ünï"


def test_the_body_length_is_the_one_read_whatever_the_headers_said():
    headers = [("content-length", "999"), ("transfer-encoding", "chunked")]
    environ = wsgi_environ(scope(headers=headers), b"abc")
    assert environ["CONTENT_LENGTH"] == "3"
    assert "HTTP_TRANSFER_ENCODING" not in environ and "HTTP_CONTENT_LENGTH" not in environ


def test_a_header_with_an_underscore_cannot_pass_for_one_with_a_dash():
    environ = wsgi_environ(scope(headers=[("x_forwarded_for", "6.6.6.6")]), b"")
    assert "HTTP_X_FORWARDED_FOR" not in environ


def test_repeated_headers_are_joined_cookies_with_semicolons():
    headers = [("accept", "a"), ("accept", "b"), ("cookie", "x=1"), ("cookie", "y=2")]
    environ = wsgi_environ(scope(headers=headers), b"")
    assert environ["HTTP_ACCEPT"] == "a, b"
    assert environ["HTTP_COOKIE"] == "x=1; y=2"


def test_content_type_has_its_own_key():
    environ = wsgi_environ(scope(headers=[("content-type", "application/json")]), b"")
    assert environ["CONTENT_TYPE"] == "application/json"


def test_the_answer_is_collected_and_the_iterable_closed():
    closed = []

    class Body(list):
        def close(self):
            closed.append(True)

    def app(environ, start_response):
        write = start_response("201 Created", [("X-A", "1")])
        write(b"first ")
        return Body([b"second", b" third"])

    assert call_wsgi(app, {}) == (201, [("X-A", "1")], b"first second third")
    assert closed == [True]


class Protocol:
    """What the bridge needs of Granian's protocol: an answer, noted with its thread."""

    def __init__(self):
        self.answers = []

    def response_bytes(self, status, headers, body):
        self.answers.append((status, headers, body, threading.current_thread().name))


def test_the_flask_app_answers_through_the_bridge_from_its_threads(app):
    bridge = WSGIBridge(app, threads=2)
    health, missing = Protocol(), Protocol()

    async def both():
        await asyncio.gather(
            bridge.answer(scope("/healthz"), b"", health),
            bridge.answer(scope("/no-such-page"), b"", missing),
        )

    try:
        run_async(both())
    finally:
        bridge.close()
    [(status, _, body, thread)] = health.answers
    [(missing_status, headers, _, _)] = missing.answers
    assert (status, missing_status) == (200, 404)
    assert b"ok" in body.lower()
    assert ("Server", "sev") in headers
    assert thread.startswith("web-view"), "sent from the view's thread"
