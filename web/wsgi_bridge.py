"""The Flask app called from the web's event loop: a request whose body is already
read whole becomes a WSGI call on a thread of a pool, which sends the answer.

So a thread is taken only by a request that is complete: however slowly a client
sends, it costs the loop a coroutine, never a thread. The pages and the JSON API wait
on Redis and Twitch, so they keep threads of their own (``WEB_THREADS`` a process).
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from granian.rsgi import HTTPProtocol, Scope

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
WSGIAnswer = tuple[int, list[tuple[str, str]], bytes]
# The environ's CONTENT_LENGTH is the length of the body as read; how it came is spent.
SKIPPED_HEADERS = frozenset(("content-length", "transfer-encoding"))


class WSGIBridge:
    """Calls ``app`` on ``threads`` threads."""

    def __init__(self, app: WSGIApp, threads: int):
        self.app = app
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix="web-view")

    async def answer(self, scope: Scope, body: bytes, protocol: HTTPProtocol) -> None:
        """Answer the request of ``scope`` with ``body``: the app runs on a thread, which
        sends the answer itself (Granian's protocol takes it from any thread), so the
        client need not wait for the loop to wake up first."""
        environ = wsgi_environ(scope, body)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.executor, answer_wsgi, self.app, environ, protocol)

    def close(self) -> None:
        """Let the calls under way finish; take no more."""
        self.executor.shutdown(wait=True, cancel_futures=True)


def answer_wsgi(app: WSGIApp, environ: dict, protocol: HTTPProtocol) -> None:
    """Call ``app`` and send its whole answer through ``protocol``."""
    status, headers, body = call_wsgi(app, environ)
    protocol.response_bytes(status, headers, body)


def call_wsgi(app: WSGIApp, environ: dict) -> WSGIAnswer:
    """Call ``app`` as a WSGI server does and collect its answer (PEP 3333)."""
    started: list = []
    written: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info=None):
        if exc_info and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = [int(status[:3]), headers]
        return written.append

    result = app(environ, start_response)
    try:
        written.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close:
            close()
    status, headers = started
    return status, headers, b"".join(written)


def wsgi_environ(scope: Scope, body: bytes) -> dict:
    """The WSGI environ of a request whose body is ``body``."""
    server_host, _, server_port = scope.server.rpartition(":")
    client_host, _, client_port = scope.client.rpartition(":")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        # WSGI carries the decoded path as bytes in a latin-1 str.
        "PATH_INFO": scope.path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": server_host.strip("[]"),
        "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": client_host.strip("[]"),
        "REMOTE_PORT": client_port,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in scope.headers.items():
        # A name with "_" would pass for one with "-" (X_Forwarded_For for
        # X-Forwarded-For): dropped, as nginx does.
        if "_" in name or name in SKIPPED_HEADERS:
            continue
        key = "CONTENT_TYPE" if name == "content-type" else "HTTP_" + name.upper().replace("-", "_")
        if key in environ:
            environ[key] += ("; " if key == "HTTP_COOKIE" else ", ") + value
        else:
            environ[key] = value
    return environ
