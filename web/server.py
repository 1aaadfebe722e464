"""The web as Granian serves it (``granian --interface rsgi --factory web.server:create_server``).

Every request is read here first, on the process's event loop: the body whole, at
most ``MAX_REQUEST_BODY`` bytes (413 beyond, with or without a Content-Length) within
``BODY_SECONDS`` (408 after, and the connection is closed). A slow or silent client
costs a coroutine and its buffer, never a thread; Granian itself closes a connection
whose headers have not come in 10 s (the Procfile's ``--http1-header-read-timeout``).
Then EventSub messages are answered on the loop (:mod:`web.intake.eventsub`), and every other
request goes to the Flask app on a thread (:mod:`web.wsgi_bridge`). Answers made here
carry the headers the Flask app gives an API answer (security headers, ``no-store``,
``Server``).
"""

from __future__ import annotations

import asyncio
import logging
import sys

import redis
from flask import Flask
from granian.rsgi import HTTPProtocol, ProtocolClosed, Scope
from werkzeug.exceptions import HTTPException

from shared.eventsub import MESSAGE_TYPE
from shared.settings import Settings, load_settings_or_exit
from shared.shard_count import ShardCountMismatch, claim_shard_count
from shared.store import connect_async
from shared.websub import SIGNATURE
from web import create_app
from web.errors import MAX_REQUEST_BODY, TOO_LARGE
from web.intake.eventsub import Answer, BodyTooLarge, EventSubIntake, error_answer
from web.intake.writer import IntakeWriter
from web.metrics import count_http
from web.security import api_answer_headers
from web.wsgi_bridge import WSGIBridge

log = logging.getLogger(__name__)
CALLBACK = "/api/callback"
BODY_SECONDS = 10.0
EVENTSUB_TYPE, WEBSUB_SIGNATURE = MESSAGE_TYPE.lower(), SIGNATURE.lower()


def create_server(settings: Settings | None = None) -> WebServer:
    """Granian's factory: the Flask app (:func:`web.create_app`) behind the server."""
    settings = settings or load_settings_or_exit()
    app = create_app(settings)
    check_shard_count(app.extensions["redis"], settings.intake_shards)
    return WebServer(app, settings, settings.web_threads)


def check_shard_count(client: redis.Redis, shards: int) -> None:
    """End start-up with one clear line when the intake was made with another
    INTAKE_SHARDS (:mod:`shared.shard_count`); with Redis down, say it went unchecked."""
    try:
        claim_shard_count(client, shards)
    except ShardCountMismatch as error:
        print(f"configuration error: {error}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    except redis.RedisError as error:
        log.warning("INTAKE_SHARDS not checked against the intake (Redis: %s)", error)


class WebServer:
    """An RSGI application: the EventSub intake on the loop, the Flask ``app`` on
    ``threads`` threads."""

    def __init__(self, app: Flask, settings: Settings, threads: int):
        self.app = app
        self.settings = settings
        self.threads = threads
        self.answer_headers = api_answer_headers(app)
        self.routes = app.url_map.bind("localhost")

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Make the loop's clients as the process starts."""
        settings = self.settings
        client = connect_async(
            settings.redis_url, settings.redis_tls_verify, settings.redis_sentinel
        )
        self.writer = IntakeWriter(
            client,
            settings.intake_shards,
            settings.intake_replicas,
            settings.intake_replica_timeout_ms,
        )
        self.intake = EventSubIntake(self.settings.twitch_webhook_secret, self.writer)
        self.bridge = WSGIBridge(self.app, self.threads)

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Finish the appends and the views under way as the process stops."""
        loop.run_until_complete(self.writer.close())
        self.bridge.close()

    async def __rsgi__(self, scope: Scope, protocol: HTTPProtocol) -> None:
        """Answer one request."""
        headers = scope.headers
        try:
            if scope.path == CALLBACK and scope.method == "POST" and not self.for_flask(headers):
                answer = await self.intake.answer(headers, lambda: read_body(scope, protocol))
                self.send(protocol, CALLBACK, scope.method, answer)
                return
            try:
                body = await read_body(scope, protocol)
            except BodyTooLarge:
                self.send(protocol, self.route(scope), scope.method, error_answer(413, TOO_LARGE))
                return
            await self.bridge.answer(scope, body, protocol)
        except ProtocolClosed:
            log.debug("client went away during %s %s", scope.method, scope.path[:200])
        except TimeoutError:
            answer = error_answer(408, f"request body not received within {BODY_SECONDS:g} s")
            self.send(protocol, self.route(scope), scope.method, answer, close=True)
        except Exception:
            log.exception("cannot answer %s %s", scope.method, scope.path[:200])
            answer = error_answer(500, "Internal Server Error")
            self.send(protocol, self.route(scope), scope.method, answer)

    @staticmethod
    def for_flask(headers) -> bool:
        """Whether a POST to the callback is a legacy WebSub notification (signed with
        ``X-Hub-Signature``, no EventSub type), which the Flask app answers."""
        return EVENTSUB_TYPE not in headers and WEBSUB_SIGNATURE in headers

    def send(
        self, protocol: HTTPProtocol, route: str, method: str, answer: Answer, close=False
    ) -> None:
        """Send an answer made here, with the app's API headers, and count it."""
        headers = list(self.answer_headers)
        if answer.content_type:
            headers.append(("Content-Type", answer.content_type))
        if close:
            headers.append(("Connection", "close"))
        protocol.response_bytes(answer.status, headers, answer.body)
        count_http(route, method, answer.status)

    def route(self, scope: Scope) -> str:
        """The app's rule for the request (as the metrics name routes), or ``unmatched``."""
        try:
            rule, _ = self.routes.match(scope.path, scope.method, return_rule=True)
        except HTTPException:
            return "unmatched"
        return rule.rule


async def read_body(scope: Scope, protocol: HTTPProtocol, limit: int = MAX_REQUEST_BODY) -> bytes:
    """The request's whole body, read within BODY_SECONDS (else ``TimeoutError``);
    raises :class:`BodyTooLarge` as soon as it is known to be over ``limit`` bytes."""
    length = scope.headers.get("content-length")
    if length is not None:  # Granian has checked that it is a number
        if int(length) > limit:
            raise BodyTooLarge()
        async with asyncio.timeout(BODY_SECONDS):
            return await protocol()  # no more than the length
    if "transfer-encoding" not in scope.headers:
        return b""  # HTTP/1.1: a request with neither has no body
    chunks, size = [], 0
    async with asyncio.timeout(BODY_SECONDS):
        async for chunk in protocol:
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge()
            chunks.append(chunk)
    return b"".join(chunks)
