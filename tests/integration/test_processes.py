"""The real commands, as the Procfile runs them: a bad setting stops start-up at once
with one clear line, and web, worker and beat all log in one format."""

import os
import re
import signal
import subprocess
import time

import pytest

from scripts.stack import BIN, WEB_OPTIONS, development_environment
from shared.queues import make_celery
from shared.settings import load_settings
from shared.store import unheld_revocations
from tests.support import ROOT, free_port, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
BAD_SETTING = "configuration error: REDIS_URL is not set"
LOG_LINE = re.compile(r"(DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: .*")
# How a log line of another format begins: Celery's "[2026-01-01 12:00:00,000: INFO/...",
# Granian's "[INFO] ...", a time, or a level not followed by "logger: " (the worker's
# banner has "[tasks]" and the like on lines of their own: not log lines).
LOG_LINE_START = re.compile(r"\[(?!\w+\]$)|\d{4}-\d\d-\d\d|(DEBUG|INFO|WARNING|ERROR|CRITICAL)\b")


def run_to_the_end(args: list[str], timeout: float = 30.0) -> tuple[int, str, float]:
    """Run a command in production mode with REDIS_URL unset: its status, output and
    seconds taken (the test fails if it is still running after ``timeout``)."""
    env = development_environment(APP_ENV="production")
    started = time.monotonic()
    process = subprocess.Popen(
        args,
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"still running after {timeout}s:\n{output[-3000:]}")
    return process.returncode, output, time.monotonic() - started


@pytest.mark.parametrize(
    "command, most_lines",
    [
        (
            [
                str(BIN / "granian"),
                *WEB_OPTIONS,
                "--host",
                "127.0.0.1",
                "--port",
                "{port}",
                "web:create_app",
            ],
            2,
        ),  # at most one per worker process (WEB_OPTIONS has two)
        ([str(BIN / "celery"), "-A", "worker", "worker", "--loglevel", "INFO"], 1),
        ([str(BIN / "celery"), "-A", "worker", "beat", "--loglevel", "INFO"], 1),
    ],
    ids=["web", "worker", "beat"],
)
def test_a_bad_setting_stops_start_up_once(command, most_lines):
    status, output, seconds = run_to_the_end(
        [part.replace("{port}", str(free_port())) for part in command]
    )
    lines = [line for line in output.splitlines() if BAD_SETTING in line]
    assert status != 0 and seconds < 10, output[-3000:]
    assert 1 <= len(lines) <= most_lines, output[-3000:]


def test_web_worker_and_beat_log_in_one_format(stack):
    beat = stack.start_beat()
    celery = make_celery(load_settings(stack.env))
    revocation = {
        "subscription_id": "not-ours",
        "type": "stream.online",
        "broadcaster_id": "1",
        "reason": "user_removed",
        "revoked_at": "2026-01-01T12:00:00Z",
    }
    celery.send_task("subscriptions.handle_revocation", (revocation, "m-1"))
    wait_until(
        lambda: unheld_revocations(stack.redis()) == 1,
        timeout=30,
        message="the worker never ran the task",
    )
    wait_until(lambda: "backlog:" in beat.log(), timeout=30, message="beat never reported")
    time.sleep(1)  # the task's last lines
    for process in (stack.process("web"), stack.process("worker-1"), beat):
        lines = process.log().splitlines()
        assert any(LOG_LINE.fullmatch(line) for line in lines), process.name
        other_formats = [
            line for line in lines if LOG_LINE_START.match(line) and not LOG_LINE.fullmatch(line)
        ]
        assert other_formats == [], f"{process.name} logs in another format"
    worker_log = stack.process("worker-1").log()
    assert not re.search(
        r"Task maintenance\.handle_revocation\[.+\] (received|succeeded)", worker_log
    ), "Celery's per-task lines are at DEBUG, not INFO"
    assert "WARNING worker.subscriptions: ignored the revocation" in worker_log
