"""JSON error answers: clear messages with the right status, never a traceback."""

from __future__ import annotations

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException


def json_error(status: int, message: str):
    """A JSON error response ``{"error": message}`` with ``status``."""
    response = jsonify(error=message)
    response.status_code = status
    return response


def register(app: Flask) -> None:
    """Answer every HTTP error as JSON."""

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if error.code == 413:
            return json_error(413, "request body is larger than 64 KiB")
        return json_error(error.code or 500, error.description or error.name)
