"""A stand-in for Sentry's ingest: a real HTTP server on loopback that keeps what the SDK
sends, for tests of error reports."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support import free_port, wait_until


class SentryIngest:
    """Sentry's envelope endpoint on 127.0.0.1: keeps each envelope it is sent."""

    def __init__(self, port: int | None = None):
        self.envelopes: list[bytes] = []
        ingest = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path.startswith("/api/1/envelope/"):
                    ingest.envelopes.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_):
                pass

        self.port = port or free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def dsn(self) -> str:
        """The DSN that points the SDK here."""
        return f"http://publickey@127.0.0.1:{self.port}/1"

    def events(self) -> list[dict]:
        """The error events received so far (an envelope: header line, then items)."""
        found = []
        for envelope in list(self.envelopes):
            lines = envelope.split(b"\n")
            for header, payload in zip(lines[1::2], lines[2::2], strict=False):
                if json.loads(header).get("type") == "event":
                    found.append(json.loads(payload))
        return found

    def wait_for_event(self, message: str) -> tuple[dict, bytes]:
        """The first event whose exception names ``message``, with its raw envelope."""

        def arrived():
            for envelope in list(self.envelopes):
                if message.encode() in envelope:
                    return envelope
            return None

        envelope = wait_until(
            arrived, timeout=60, interval=0.1, message=f"no Sentry event about {message!r} arrived"
        )
        [event] = [e for e in self.events() if message in json.dumps(e)]
        return event, envelope

    def close(self):
        self.server.shutdown()
        self.server.server_close()
