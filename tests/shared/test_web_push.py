"""Sending one alert to many devices, against small real push services on loopback: what
each answer means, the VAPID signature per service, a service that throttles holding back
only its own devices, and devices that cannot be reached or encrypted to."""

from __future__ import annotations

import base64
import json
import threading
import time
from email.utils import formatdate

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from shared import web_push
from shared.vapid import b64url_decode, new_key_pair
from tests.shared.twitch.support import Server
from tests.support import PushDevice, free_port

PUBLIC_KEY, PRIVATE_KEY = new_key_pair()
SUBJECT = "mailto:alerts@example.com"


class PushService:
    """A push service on loopback answering ``status`` (and ``headers``), recording what it
    received and how many requests it had in flight at most."""

    def __init__(self, status=201, headers=None, delay=0.0):
        self.status, self.headers, self.delay = status, headers or {}, delay
        self.received: list[dict] = []
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()
        self.server = Server(self.handle)
        self.url = self.server.url

    def handle(self, request, body):
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(self.delay)
        with self.lock:
            self.in_flight -= 1
            self.received.append(
                {
                    "path": request.path,
                    "headers": {name.lower(): value for name, value in request.headers.items()},
                    "body": base64.b64encode(body).decode(),
                }
            )
        return self.status, b"", self.headers

    def device(self, name):
        return PushDevice(f"{self.url}/push/{name}")


@pytest.fixture
def services():
    """Start push services; closed after the test."""
    started = []

    def start(**options):
        started.append(PushService(**options))
        return started[-1]

    yield start
    for service in started:
        service.server.close()


def verified_claims(authorization: str) -> dict:
    """The claims of a VAPID Authorization header (``vapid t=<JWT>, k=<public key>``),
    once its ES256 signature is checked against our public key."""
    fields = dict(part.strip().split("=", 1) for part in authorization[len("vapid ") :].split(","))
    assert fields["k"] == PUBLIC_KEY
    header, body, signature = fields["t"].split(".")
    raw = b64url_decode(signature)
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(PUBLIC_KEY))
    key.verify(
        encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
        f"{header}.{body}".encode(),
        ec.ECDSA(hashes.SHA256()),
    )
    return json.loads(b64url_decode(body))


def answer(status, **headers):
    response = requests.Response()
    response.status_code, response.headers = (
        status,
        requests.structures.CaseInsensitiveDict(headers),
    )
    return response


@pytest.mark.parametrize(
    "status, result, reason",
    [
        (201, web_push.SENT, ""),
        (202, web_push.SENT, ""),
        (404, web_push.GONE, "gone"),
        (410, web_push.GONE, "gone"),
        (403, web_push.GONE, "gone"),
        (429, web_push.RETRY, "rate_limited"),
        (500, web_push.RETRY, "server_error"),
        (503, web_push.RETRY, "server_error"),
        (400, web_push.REFUSED, "refused"),
        (413, web_push.REFUSED, "refused"),
    ],
)
def test_each_answer_means_an_outcome(status, result, reason):
    before = time.time()
    outcome = web_push.outcome_of("phone", answer(status))
    assert (outcome.device, outcome.result, outcome.reason) == ("phone", result, reason)
    assert (outcome.accepted_at >= before) is (result == web_push.SENT)


def test_retry_after_is_seconds_or_an_http_date():
    assert web_push.outcome_of("p", answer(429, **{"Retry-After": "7"})).retry_after == 7.0
    assert web_push.retry_after(answer(503, **{"Retry-After": " 12 "})) == 12.0
    in_a_minute = formatdate(time.time() + 60, usegmt=True)
    assert 58 <= web_push.retry_after(answer(503, **{"Retry-After": in_a_minute})) <= 60
    past = formatdate(time.time() - 60, usegmt=True)
    assert web_push.retry_after(answer(503, **{"Retry-After": past})) == 0.0
    assert web_push.retry_after(answer(503, **{"Retry-After": "soon"})) == 0.0
    assert web_push.retry_after(answer(503)) == 0.0


def test_a_push_service_is_its_endpoints_origin():
    assert web_push.origin_of("https://fcm.googleapis.com/fcm/send/abc") == (
        "https://fcm.googleapis.com"
    )
    assert web_push.origin_of("http://127.0.0.1:8080/push/x?y=1") == "http://127.0.0.1:8080"


def test_each_device_gets_the_alert_encrypted_for_it_signed_for_its_service(services):
    first, second = services(), services()
    devices = {"a": first.device("a"), "b": first.device("b"), "c": second.device("c")}
    sender = web_push.PushSender(PRIVATE_KEY, SUBJECT)
    payload = json.dumps({"title": "Best Stream Ever"}).encode()
    outcomes = sender.fan_out({n: d.subscription for n, d in devices.items()}, payload, "live-7")
    assert sorted((o.device, o.result) for o in outcomes) == [
        ("a", "sent"),
        ("b", "sent"),
        ("c", "sent"),
    ]
    for service, names in ((first, ["a", "b"]), (second, ["c"])):
        by_path = {received["path"]: received for received in service.received}
        for name in names:
            received = by_path[f"/push/{name}"]
            assert devices[name].decrypt(received) == {"title": "Best Stream Ever"}
            headers = received["headers"]
            assert (headers["urgency"], headers["topic"], headers["ttl"]) == (
                "high",
                "live-7",
                "600",
            )
            assert headers["content-encoding"] == "aes128gcm"
            claims = verified_claims(headers["authorization"])
            assert claims["aud"] == service.url and claims["sub"] == SUBJECT
            assert time.time() < claims["exp"] <= time.time() + web_push.VAPID_SECONDS
    again = sender.vapid_headers(first.url)
    assert again is sender.vapid_headers(first.url), "signed once per service"
    assert again["Authorization"] in {r["headers"]["authorization"] for r in first.received}


def test_a_throttling_service_holds_back_only_its_own_devices(services, monkeypatch):
    monkeypatch.setattr(web_push, "LANES_PER_SERVICE", 2)
    throttling = services(status=429, headers={"Retry-After": "7"}, delay=0.05)
    fine = services()
    devices = {f"t{n}": throttling.device(f"t{n}") for n in range(6)}
    devices |= {f"f{n}": fine.device(f"f{n}") for n in range(6)}
    outcomes = web_push.PushSender(PRIVATE_KEY, SUBJECT).fan_out(
        {n: d.subscription for n, d in devices.items()}, b"{}", "t"
    )
    results = {o.device: o for o in outcomes}
    assert len(outcomes) == 12
    assert all(results[f"f{n}"].result == web_push.SENT for n in range(6))
    held = [results[f"t{n}"] for n in range(6)]
    assert all(o.result == web_push.RETRY and o.retry_after == 7.0 for o in held)
    asked = sum(o.reason == "rate_limited" for o in held)
    assert 1 <= asked <= throttling.most_in_flight <= 2, "one request a lane, two lanes"
    assert len(throttling.received) == asked
    assert sum(o.reason == "budget" for o in held) == 6 - asked, "the rest wait for a retry"


def test_a_service_past_its_budget_leaves_the_rest_for_a_retry(services, monkeypatch):
    monkeypatch.setattr(web_push, "LANES_PER_SERVICE", 1)
    monkeypatch.setattr(web_push, "SERVICE_BUDGET_SECONDS", 0.3)
    slow = services(delay=0.2)
    devices = {f"s{n}": slow.device(f"s{n}") for n in range(5)}
    outcomes = web_push.PushSender(PRIVATE_KEY, SUBJECT).fan_out(
        {n: d.subscription for n, d in devices.items()}, b"{}", "t"
    )
    results = sorted((o.result, o.reason, o.retry_after) for o in outcomes)
    assert results == [("retry", "budget", 0.0)] * 3 + [("sent", "", 0.0)] * 2


def test_an_unreachable_service_and_unusable_keys(services):
    nowhere = PushDevice(f"http://127.0.0.1:{free_port()}/push/gone")
    broken = services().device("broken")
    broken.subscription["keys"]["p256dh"] = "bm90IGEga2V5"
    outcomes = web_push.PushSender(PRIVATE_KEY, SUBJECT).fan_out(
        {"nowhere": nowhere.subscription, "broken": broken.subscription}, b"{}", "t"
    )
    results = {o.device: (o.result, o.reason) for o in outcomes}
    assert results == {"nowhere": ("retry", "connection"), "broken": ("refused", "refused")}


def test_no_devices_no_requests():
    assert web_push.PushSender(PRIVATE_KEY, SUBJECT).fan_out({}, b"{}", "t") == []
