"""The web's error answers: JSON with the right status and a clear message, never a
traceback; a JSON body nested too deeply is malformed JSON, not a crash."""

from __future__ import annotations

import pytest
from flask import abort, request
from werkzeug.exceptions import BadRequest

from web.errors import MAX_REQUEST_BODY, TOO_LARGE, json_error

# Within the size limit, deeper than the parser can go.
DEEP = b"[" * 30_000 + b"]" * 30_000


def test_a_json_error_is_the_message_under_error_with_its_status(app):
    with app.app_context():
        response = json_error(409, "already there")
    assert response.status_code == 409
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": "already there"}


def test_http_errors_are_answered_as_json_with_their_description(app, client):
    @app.get("/test/forbidden")
    def forbidden():
        abort(403, "not for you")

    answer = client.get("/test/forbidden")
    assert answer.status_code == 403 and answer.json == {"error": "not for you"}
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and missing.is_json and "error" in missing.json
    assert client.delete("/healthz").status_code == 405


def test_a_body_over_the_limit_is_413_saying_the_limit(app, client):
    @app.post("/test/echo")
    def echo():
        return str(len(request.get_data()))

    assert app.config["MAX_CONTENT_LENGTH"] == MAX_REQUEST_BODY
    assert client.post("/test/echo", data=b"x" * MAX_REQUEST_BODY).text == str(MAX_REQUEST_BODY)
    answer = client.post("/test/echo", data=b"x" * (MAX_REQUEST_BODY + 1))
    assert answer.status_code == 413 and answer.json == {"error": TOO_LARGE}
    assert TOO_LARGE == "request body is larger than 64 KiB"


def test_json_nested_too_deeply_is_malformed_json(app):
    with app.test_request_context("/", method="POST", data=DEEP, content_type="application/json"):
        with pytest.raises(BadRequest):
            request.get_json()
        assert request.get_json(silent=True) is None
