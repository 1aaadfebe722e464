"""JSON error answers: clear messages with the right status, never a traceback."""

from __future__ import annotations

from flask import Flask, Request, jsonify
from werkzeug.exceptions import HTTPException

# The largest request body the web reads, of any request (webhooks read theirs in full).
MAX_REQUEST_BODY = 64 * 1024
TOO_LARGE = f"request body is larger than {MAX_REQUEST_BODY // 1024} KiB"


def json_error(status: int, message: str):
    """A JSON error response ``{"error": message}`` with ``status``."""
    response = jsonify(error=message)
    response.status_code = status
    return response


class AppRequest(Request):
    """Flask's request, whose JSON body nested too deeply to parse counts as malformed
    JSON (a 400, or None when read with ``silent``) rather than raising RecursionError
    (a 500)."""

    def get_json(self, force=False, silent=False, cache=True):
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError as error:
            if silent:
                return None
            return self.on_json_loading_failed(ValueError(str(error)))


def init_app(app: Flask) -> None:
    """Answer every HTTP error as JSON; read JSON bodies with :class:`AppRequest`."""
    app.request_class = AppRequest

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if error.code == 413:
            return json_error(413, TOO_LARGE)
        return json_error(error.code or 500, error.description or error.name)
