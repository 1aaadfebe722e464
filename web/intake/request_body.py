"""A Flask view's raw request body, read with the web's size limit."""

from __future__ import annotations

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from web.errors import MAX_REQUEST_BODY
from web.metrics import count_webhook


def read_body(limit: int = MAX_REQUEST_BODY, transport: str = "") -> bytes:
    """The raw body, at most ``limit`` bytes; raises RequestEntityTooLarge (413) when
    it is longer, with or without a Content-Length (counted as a rejected webhook of
    ``transport``, if given).

    Werkzeug stops a body without Content-Length (chunked) at the app's
    MAX_CONTENT_LENGTH and returns what it read as if it were all, so a longer body
    would be cut, not refused: read one byte past the limit to tell. (Served by
    :mod:`web.server`, a body reaches Flask whole and within the limit; the check
    still holds wherever the app is called as plain WSGI.)
    """
    request.max_content_length = limit + 1
    chunks, size = [], 0
    try:
        stream = request.stream  # raises at once for a Content-Length over the limit
        while size <= limit:
            chunk = stream.read(limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except RequestEntityTooLarge:
        size = limit + 1
    if size > limit:
        current_app.logger.warning("rejected webhook: body is larger than %d bytes", limit)
        if transport:
            count_webhook(transport, "rejected", "too_large")
        raise RequestEntityTooLarge()
    return b"".join(chunks)
