"""Error reports to Sentry, when ``SENTRY_DSN`` is set: the web's and the worker's.

Sentry receives unhandled exceptions (a view's, a task's, a thread's) and ERROR
log lines, each with its stack trace (files, lines, functions: no local
variables), recent log lines as breadcrumbs, the request's method, URL and
headers, and the environment (``APP_ENV``). It receives no cookies, no request
bodies and no client addresses (``send_default_pii`` stays off), and no tracing.
Answers the app gives on purpose (a 4xx, a 503 with a log line below ERROR) are
not errors and are not sent.

Before an event leaves the process, :func:`scrub` blanks what could still hold
a secret: the signature, authorization and cookie headers; OAuth codes, states
and tokens in any query string; and, wherever it appears in the event, the
value of every secret setting, the password of the Redis and broker URLs, and
the signed-in user's Twitch tokens.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from shared.settings import SECRET_SETTINGS, Settings

if TYPE_CHECKING:
    from sentry_sdk.integrations import Integration
    from sentry_sdk.types import Event, Hint

FILTERED = "[Filtered]"
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "twitch-eventsub-message-signature",
        "x-hub-signature",
    }
)
SECRET_PARAMETER = re.compile(
    r"\b(code|state|hub\.secret|access_token|refresh_token|client_secret|auth_signature)"
    r"=[^&\s\"']+",
    re.IGNORECASE,
)
SHORTEST_SECRET = 4  # a shorter value would blank ordinary text all over the event


def report_web_errors(settings: Settings) -> bool:
    """Report the web's errors (Flask integration); False when ``SENTRY_DSN`` is empty."""
    if not settings.sentry_dsn:
        return False
    from sentry_sdk.integrations.flask import FlaskIntegration

    return start_reports(settings, FlaskIntegration(), session_tokens)


def report_worker_errors(settings: Settings) -> bool:
    """Report the worker's and beat's errors (Celery integration); False when
    ``SENTRY_DSN`` is empty."""
    if not settings.sentry_dsn:
        return False
    from sentry_sdk.integrations.celery import CeleryIntegration

    return start_reports(settings, CeleryIntegration(propagate_traces=False))


def start_reports(
    settings: Settings,
    integration: Integration,
    more_secrets: Callable[[], list[str]] | None = None,
) -> bool:
    """Initialise the Sentry SDK for this process with ``integration``; ``more_secrets()``
    names values to blank besides the settings' (called for each event).

    The SDK is imported only once a DSN is set: a process without one does not
    load it (some 15 MiB).
    """
    import sentry_sdk

    secrets = secret_values(settings)

    def before_send(event: Event, _hint: Hint) -> Event:
        return cast("Event", scrub(event, secrets + (more_secrets() if more_secrets else [])))

    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.app_env,
        integrations=[integration],
        auto_enabling_integrations=False,
        # send_default_pii is left unset, which is off: setting it is deprecated in 2.x
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=None,
        # No trace headers (sentry-trace, baggage with the DSN's key) on calls to Twitch
        # or Pusher: this app reports errors only.
        trace_propagation_targets=[],
        before_send=before_send,
    )
    return True


def secret_values(settings: Settings) -> list[str]:
    """The values no report may contain: secret settings and passwords (in URLs,
    Flower's and the sentinels')."""
    values = [getattr(settings, name.lower()) for name in SECRET_SETTINGS]
    values += [urlsplit(url).password for url in (settings.redis_url, settings.celery_broker_url)]
    values.append(settings.flower_basic_auth.partition(":")[2])
    if settings.redis_sentinel:
        values.append(settings.redis_sentinel.password)
    return sorted({v for v in values if v and len(v) >= SHORTEST_SECRET}, key=len, reverse=True)


def session_tokens() -> list[str]:
    """The signed-in user's Twitch tokens, when an event is made during a request."""
    from flask import has_request_context, session

    if not has_request_context():
        return []
    try:
        tokens = session.get("twitch") or {}
        return [str(tokens[name]) for name in ("access_token", "refresh_token") if tokens.get(name)]
    except Exception:  # the session store is down: nothing of it can be in the event
        return []


def scrub(event: Mapping[str, Any], secrets: list[str]) -> dict[str, Any]:
    """``event`` without secret headers, cookies or secret values (see the module)."""
    request = event.get("request") or {}
    request.pop("cookies", None)
    headers = request.get("headers")
    if isinstance(headers, dict):
        for name in headers:
            if name.lower() in SECRET_HEADERS:
                headers[name] = FILTERED
    return cast(dict[str, Any], blank(event, secrets))


def blank(value: Any, secrets: list[str]) -> Any:
    """``value`` (any JSON-like structure) with each secret and secret query parameter
    replaced by ``[Filtered]``."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, FILTERED)
        return SECRET_PARAMETER.sub(lambda match: f"{match.group(1)}={FILTERED}", value)
    if isinstance(value, dict):
        return {blank(key, secrets): blank(item, secrets) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [blank(item, secrets) for item in value]
    return value
