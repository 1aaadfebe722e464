"""Liveness and readiness checks."""

from __future__ import annotations

import redis
from flask import Blueprint, current_app, jsonify

from web.clients import get_redis

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is alive and answering."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """The process can do its work: Redis (state and queue) answers."""
    try:
        get_redis().ping()
    except redis.RedisError as error:
        # The error names Redis's address; the log may say it, the answer may not.
        current_app.logger.warning("not ready: Redis does not answer: %s", error)
        return jsonify(status="unavailable", redis="Redis unreachable"), 503
    return jsonify(status="ready", redis="ok")
