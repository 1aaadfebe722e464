"""/metrics of the web served as the Procfile serves it: two Granian processes whose
figures every scrape sums, whichever process answers it."""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from emulators.eventsub.messages import notification_body, signed_message
from scripts.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
TOKEN = "metrics-token-0123456789"
SENT = 60


@pytest.fixture
def web(tmp_path):
    """Redis and the web with its default two processes; no worker, so what the web
    queued stays in the intake."""
    stack = Stack(tmp_path, METRICS_TOKEN=TOKEN)
    try:
        stack.start_redis()
        stack.start_web()
        yield stack
    finally:
        stack.stop(graceful=False)


def send(stack: Stack, count: int) -> None:
    """POST ``count`` signed notifications over several connections at once."""

    def one(n: int) -> int:
        body = notification_body("stream.online", f"streamer_{n}", stack.callback)
        headers, raw = signed_message(stack.secret, "notification", body)
        return requests.post(stack.callback, data=raw, headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(one, range(count))) == {204}


def scrape(stack: Stack) -> dict:
    """Every sample of one scrape: ``{(name, ((label, value), ...)): value}``."""
    response = requests.get(
        f"http://127.0.0.1:{stack.web_port}/metrics",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def accepted_by_process(stack: Stack) -> list[float]:
    """The accepted EventSub count in each web process's own file, nonzero ones only."""
    directory = Path(stack.process("web").env["PROMETHEUS_MULTIPROC_DIR"])
    counts = []
    for path in directory.glob("counter_*.db"):
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
            _, name, labels, _ = json.loads(key)
            if (name, labels.get("outcome"), labels.get("transport")) == (
                "sev_webhooks_total",
                "accepted",
                "eventsub",
            ) and value:
                counts.append(value)
    return counts


def test_every_scrape_sums_both_processes(web):
    sent = 0
    while len(accepted_by_process(web)) < 2 and sent < 20 * SENT:
        send(web, SENT)  # which process accepts a connection is the kernel's choice
        sent += SENT
    shares = accepted_by_process(web)
    assert len(shares) == 2 and sum(shares) == sent, f"each process took some: {shares}"
    accepted = (("outcome", "accepted"), ("reason", ""), ("transport", "eventsub"))
    for _ in range(6):  # each scrape is answered by either process
        samples = scrape(web)
        assert samples[("sev_webhooks_total", accepted)] == sent
        assert samples[("sev_webhook_ack_seconds_count", (("transport", "eventsub"),))] == sent
        assert (
            samples[
                (
                    "sev_http_requests_total",
                    (("method", "POST"), ("route", "/api/callback"), ("status", "204")),
                )
            ]
            == sent
        )
        assert samples[("sev_state_available", ())] == 1
        assert samples[("sev_queue_depth", (("queue", "intake"),))] == sent
        assert samples[("sev_leases", ())] == 0
