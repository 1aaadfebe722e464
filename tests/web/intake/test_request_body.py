"""A Flask view's raw body read with a size limit: a longer body is refused (413), with
or without a Content-Length, never cut to the limit and taken as whole."""

from __future__ import annotations

import io

import pytest
from werkzeug.exceptions import RequestEntityTooLarge

from web.intake.request_body import read_body
from web.metrics import REGISTRY

LIMIT = 10


def too_large_count(transport: str) -> float:
    labels = {"transport": transport, "outcome": "rejected", "reason": "too_large"}
    return REGISTRY.get_sample_value("sev_webhooks_total", labels) or 0.0


def posting(app, body: bytes, chunked: bool = False):
    """A request context of a POST of ``body``; ``chunked``: without a Content-Length."""
    if not chunked:
        return app.test_request_context("/hook", method="POST", data=body)
    return app.test_request_context(
        "/hook",
        method="POST",
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked"},
        environ_base={"wsgi.input_terminated": True},
    )


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_up_to_the_limit_is_read_whole(app, chunked):
    for body in (b"", b"x", b"y" * LIMIT):
        with posting(app, body, chunked):
            assert read_body(LIMIT) == body


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_the_limit_is_413_and_counted_for_its_transport(app, chunked):
    before = too_large_count("websub")
    with posting(app, b"z" * (LIMIT + 1), chunked), pytest.raises(RequestEntityTooLarge):
        read_body(LIMIT, transport="websub")
    assert too_large_count("websub") == before + 1


def test_without_a_transport_a_refusal_is_counted_for_none(app):
    before = {name: too_large_count(name) for name in ("websub", "eventsub", "")}
    with posting(app, b"z" * (LIMIT + 1), chunked=True), pytest.raises(RequestEntityTooLarge):
        read_body(LIMIT)
    assert {name: too_large_count(name) for name in before} == before
