"""Redis killed with SIGKILL and started again: while it is down the web refuses webhooks
(503, so Twitch sends them again) and says it is not ready; once it is back, with its
append-only file, every webhook the web acknowledged reaches the subscriber."""

import time

import pytest
import requests

from tests.integration.conftest import both_brokers
from tests.support import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(120),
    both_brokers,
    pytest.mark.stack_redis(persistent=True),
]


def readiness(stack) -> int:
    return requests.get(f"http://127.0.0.1:{stack.web_port}/readyz", timeout=10).status_code


def test_acknowledged_webhooks_survive_a_redis_crash(stack):
    subscriber = stack.subscribe("sturdy_user")
    acknowledged = set()

    def send(title: str) -> int:
        response = stack.send(
            "channel.update",
            "sturdy_user",
            broadcaster_id="8008",
            name="sturdy_user",
            title=title,
            category="Chess",
        )
        if 200 <= response.status_code < 300:
            acknowledged.add(title)
        return response.status_code

    for number in range(10):
        assert send(f"before the crash {number}") == 204
    stack.redis().set("sev:test:canary", "written before the crash")
    stack.process("redis").kill()  # at once: some notifications are still on their way

    for number in range(5):
        assert send(f"while Redis is down {number}") == 503
    assert readiness(stack) == 503

    stack.restart_redis()
    assert stack.redis().get("sev:test:canary") == "written before the crash"
    wait_until(lambda: readiness(stack) == 200, timeout=20, message="/readyz never recovered")
    after = iter(range(1000))
    wait_until(
        lambda: send(f"after the restart {next(after)}") == 204,
        timeout=20,
        interval=0.2,
        message="the web never acknowledged a webhook again",
    )
    for number in range(3):
        assert send(f"after recovery {number}") == 204

    assert not any(title.startswith("while Redis is down") for title in acknowledged)
    arrived = set()
    deadline = time.monotonic() + 60
    while not acknowledged <= arrived:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            missing = sorted(acknowledged - arrived)
            raise AssertionError(
                f"{len(missing)} acknowledged notifications never arrived: {missing}"
            )
        try:
            name, data = subscriber.next(timeout=remaining)
        except AssertionError:
            continue
        assert name == "channel.update"
        arrived.add(data["title"])
    assert arrived <= acknowledged, f"arrived but never acknowledged: {arrived - acknowledged}"
