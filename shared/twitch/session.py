"""The ``requests`` session every call to Twitch goes through: urllib3's retries with
exponential backoff on connection errors and 5xx answers, and the time-out of a call.

The pauses between retries go through a ``pause`` function (``time.sleep`` unless
given), so a test can record them instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3 import BaseHTTPResponse
from urllib3.util.retry import Retry

from shared.twitch.errors import unreachable

# (connect, read) seconds for every call to Twitch.
TIMEOUT = (3, 10)
RETRIES = 3
BACKOFF = 0.5
RETRY_STATUSES = (500, 502, 503, 504)
# Waits a number of seconds (``time.sleep``).
Pause = Callable[[float], None]


class PausingRetry(Retry):
    """urllib3's retry policy, pausing between attempts with ``pause`` (``time.sleep``
    unless given; a test records the pauses instead)."""

    def __init__(self, *args: Any, pause: Pause = time.sleep, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pause = pause

    def new(self, **changes: Any) -> PausingRetry:
        """The policy for the next attempt, pausing the same way."""
        retry = super().new(**changes)
        retry.pause = self.pause
        return retry

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        """Pause for the exponential backoff (Retry-After is not honoured here)."""
        backoff = self.get_backoff_time()
        if backoff > 0:
            self.pause(backoff)


def make_session(pause: Pause = time.sleep) -> requests.Session:
    """A session that retries connection errors and 5xx answers with exponential backoff,
    waiting with ``pause``.

    POST and DELETE are retried too, as ours are safe to repeat: another token
    grant only mints another token, a repeated EventSub create answers 409
    (:class:`~shared.twitch.errors.SubscriptionExists`) and a repeated delete answers 404.
    """
    retry = PausingRetry(
        pause=pause,
        total=RETRIES,
        backoff_factor=BACKOFF,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "POST", "DELETE"}),
        respect_retry_after_header=False,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def send(session: requests.Session, method: str, url: str, **kwargs: Any) -> requests.Response:
    """One call to Twitch on ``session`` with the time-outs (``TIMEOUT``); no answer at
    all raises :class:`~shared.twitch.errors.TwitchUnavailable`."""
    try:
        return session.request(method, url, timeout=TIMEOUT, **kwargs)
    except requests.RequestException as error:
        raise unreachable(error) from error
