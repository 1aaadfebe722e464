"""The error answers Twitch gives: OAuth's ``{"status", "message"}`` and Helix's."""

from __future__ import annotations

from http import HTTPStatus

from aiohttp import web


class OAuthError(Exception):
    """An OAuth request that Twitch would refuse, with its status and message."""

    def __init__(self, status: int, message: str, error: str | None = None):
        super().__init__(message)
        self.status, self.message, self.error = status, message, error

    def body(self) -> dict:
        """The JSON body Twitch answers with."""
        body = {"status": self.status, "message": self.message}
        if self.error:
            body = {"error": self.error, **body}
        return body


class Problem(Exception):
    """A Helix error answer: ``{"error": ..., "status": ..., "message": ...}``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message

    def response(self) -> web.Response:
        """The JSON answer Twitch gives for this error."""
        return web.json_response(
            {
                "error": HTTPStatus(self.status).phrase,
                "status": self.status,
                "message": self.message,
            },
            status=self.status,
        )
