"""The worker's bootstep serving the metrics (the pump it starts is tested in test_pump)."""

import logging
import socket

import pytest
import requests

from scripts.processes import free_port


@pytest.fixture
def step(worker_environment):
    from worker.bootstep import PumpStep

    step = PumpStep(None)
    yield step
    step.stop(None)


def test_the_metrics_are_served_on_the_port_and_stopped_with_the_worker(step):
    port = free_port()
    step.start_metrics(port, "127.0.0.1")
    response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert response.status_code == 200 and "sev_events_total" in response.text
    step.stop(None)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)


def test_no_port_no_server(step):
    step.start_metrics(None, "127.0.0.1")
    assert step.metrics_server is None


def test_a_port_in_use_is_logged_and_the_worker_goes_on(step, caplog):
    with socket.create_server(("0.0.0.0", 0)) as taken:
        port = taken.getsockname()[1]
        with caplog.at_level(logging.ERROR, logger="worker.bootstep"):
            step.start_metrics(port, "127.0.0.1")
    assert step.metrics_server is None
    assert f"cannot serve the worker's metrics on port {port}" in caplog.text


def test_the_worker_serves_its_metrics_on_loopback_unless_told_otherwise(step):
    from worker.context import settings

    assert settings().worker_metrics_host == "127.0.0.1"
    step.start_metrics(free_port(), settings().worker_metrics_host)
    assert step.metrics_server.server_address[0] == "127.0.0.1"
