"""JSON error answers: clear messages with the right status, never a traceback."""

from __future__ import annotations

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

# The largest request body the web reads, of any request (webhooks read theirs in full).
MAX_REQUEST_BODY = 64 * 1024
TOO_LARGE = f"request body is larger than {MAX_REQUEST_BODY // 1024} KiB"


def json_error(status: int, message: str):
    """A JSON error response ``{"error": message}`` with ``status``."""
    response = jsonify(error=message)
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    """Answer every HTTP error as JSON."""

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if error.code == 413:
            return json_error(413, TOO_LARGE)
        return json_error(error.code or 500, error.description or error.name)
