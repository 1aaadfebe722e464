"""Sending one go-live alert to many devices (RFC 8030, 8291, 8292): encrypted for each
device (aes128gcm), signed once per push service with our VAPID key.

Devices are grouped by push service (their endpoint's origin). Each service gets up to
LANES_PER_SERVICE requests in flight, one kept-alive connection a lane, and
SERVICE_BUDGET_SECONDS a run; what is left of a service's devices once its budget is
spent, or once it answered 429, waits for the task's retry. So one slow or throttling
service never holds the others, whose lanes run beside its own.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from py_vapid import Vapid  # type: ignore[import-untyped]
from pywebpush import WebPusher, WebPushException  # type: ignore[import-untyped]

TTL_SECONDS = 600  # a push service keeps an alert this long for a device that is off
VAPID_SECONDS = 12 * 3600
LANES_PER_SERVICE = 32
MAX_LANES = 64
SERVICE_BUDGET_SECONDS = 10.0
TIMEOUT = (3.05, 10.0)  # connect, read
SENT, GONE, RETRY, REFUSED = "sent", "gone", "retry", "refused"


@dataclass
class Outcome:
    """How one device's push went: ``result`` (SENT, GONE, RETRY, REFUSED), the failure's
    reason (``rate_limited``, ``server_error``, ``connection``, ``budget``, ``refused`` or
    ``gone``), when to try again (seconds, as the service asked) and when it was accepted."""

    device: str
    result: str
    reason: str = ""
    retry_after: float = 0.0
    accepted_at: float = 0.0


@dataclass
class PushService:
    """One push service's share of a run: its devices left, its deadline, and the wait
    its 429 asked for (None until it throttles)."""

    waiting: deque
    deadline: float
    throttled_for: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def origin_of(endpoint: str) -> str:
    """``scheme://host[:port]`` of an endpoint: its push service, and the VAPID audience."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def retry_after(response: requests.Response) -> float:
    """The seconds a Retry-After header asks for (a number or an HTTP date); 0 if none."""
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return 0.0


def outcome_of(device: str, response: requests.Response) -> Outcome:
    """What a push service's answer means for the device."""
    status = response.status_code
    if status < 300:
        return Outcome(device, SENT, accepted_at=time.time())
    if status in (404, 410):
        return Outcome(device, GONE, "gone")
    if status == 403:  # made for another VAPID key (RFC 8292): never usable with ours
        return Outcome(device, GONE, "gone")
    if status == 429:
        return Outcome(device, RETRY, "rate_limited", retry_after(response))
    if status >= 500:
        return Outcome(device, RETRY, "server_error", retry_after(response))
    return Outcome(device, REFUSED, "refused")


def lane_session() -> requests.Session:
    """An HTTP session for one lane. The proxy settings are read from the environment
    once, not on every request (requests would scan the environment and look for
    ~/.netrc each time: a third of a push's CPU, taken from the pump's threads)."""
    session = requests.Session()
    session.trust_env = False
    session.proxies = urllib.request.getproxies()
    return session


class PushSender:
    """Sends one payload to many devices, signing as ``subject`` with a VAPID key."""

    def __init__(self, private_key: str, subject: str):
        self.vapid, self.subject = Vapid.from_string(private_key), subject
        self.signed: dict[str, dict] = {}  # VAPID headers by origin

    def vapid_headers(self, origin: str) -> dict:
        """The Authorization header for one push service, signed once a run."""
        if origin not in self.signed:
            claims = {"sub": self.subject, "aud": origin, "exp": int(time.time()) + VAPID_SECONDS}
            self.signed[origin] = self.vapid.sign(claims)
        return self.signed[origin]

    def send(
        self, session: requests.Session, device: str, subscription: dict, payload: bytes, topic: str
    ) -> Outcome:
        """Push ``payload`` to one device, urgent, replacing an undelivered one of ``topic``."""
        headers = {
            **self.vapid_headers(origin_of(subscription["endpoint"])),
            "Urgency": "high",
            "Topic": topic,
        }
        pusher_input = {"endpoint": subscription["endpoint"], "keys": subscription["keys"]}
        try:
            response = WebPusher(pusher_input, requests_session=session).send(
                payload, headers, ttl=TTL_SECONDS, content_encoding="aes128gcm", timeout=TIMEOUT
            )
        except requests.RequestException:
            return Outcome(device, RETRY, "connection")
        except (WebPushException, ValueError):  # keys that cannot be encrypted to
            return Outcome(device, REFUSED, "refused")
        return outcome_of(device, response)

    def fan_out(self, devices: dict[str, dict], payload: bytes, topic: str) -> list[Outcome]:
        """Push to every device (id -> subscription), each push service in lanes of its
        own within its budget; an outcome for each device."""
        grouped: dict[str, deque] = {}
        for device, subscription in devices.items():
            grouped.setdefault(origin_of(subscription["endpoint"]), deque()).append(
                (device, subscription)
            )
        if not grouped:
            return []
        deadline = time.monotonic() + SERVICE_BUDGET_SECONDS
        services = [PushService(waiting, deadline) for waiting in grouped.values()]
        lanes = max(1, min(LANES_PER_SERVICE, MAX_LANES // len(services)))
        outcomes: list[Outcome] = []
        work = [s for s in services for _ in range(min(lanes, len(s.waiting)))]
        with ThreadPoolExecutor(len(work), thread_name_prefix="web-push") as pool:
            for future in [pool.submit(self.run_lane, s, payload, topic, outcomes) for s in work]:
                future.result()
        return outcomes

    def run_lane(self, service: PushService, payload: bytes, topic: str, outcomes: list) -> None:
        """Send to a service's devices one after another on one connection, until none
        is left; past its budget or once it throttled, the rest wait for a retry."""
        with lane_session() as session:
            while True:
                with service.lock:
                    if not service.waiting:
                        return
                    device, subscription = service.waiting.popleft()
                    held_back = service.throttled_for
                if held_back is not None or time.monotonic() > service.deadline:
                    outcomes.append(Outcome(device, RETRY, "budget", held_back or 0.0))
                    continue
                outcome = self.send(session, device, subscription, payload, topic)
                if outcome.reason == "rate_limited":
                    with service.lock:
                        service.throttled_for = outcome.retry_after
                outcomes.append(outcome)
