"""Beat's schedule, and the backlog report beat makes itself (no worker needed)."""

import logging

import pytest

from scripts.stack import Stack
from shared import intake
from shared.store import add_dead_letter
from tests.support import wait_until


def test_the_backlog_is_reported_by_beat_not_by_a_task(worker_environment):
    from worker.schedule import beat_schedule

    tasks = {entry["task"] for entry in beat_schedule(worker_environment).values()}
    assert not any("backlog" in task for task in tasks)


def test_the_report_names_what_waits_and_warns_about_dead_letters(
    worker_environment, redis_client, caplog
):
    from worker.schedule import report_backlog

    caplog.set_level(logging.INFO, logger="worker.schedule")
    intake.enqueue(redis_client, 8, intake.EVENTSUB, {}, "{}", "1337")
    report = report_backlog()
    assert report["intake"]["waiting"] == 1
    [line] = reports(caplog)
    assert line.levelno == logging.INFO and "intake 1 (oldest " in line.getMessage()
    add_dead_letter(redis_client, "publish", {"id": "m1"}, "why")
    report_backlog()
    line = reports(caplog)[-1]
    assert line.levelno == logging.WARNING and "dead letters 1" in line.getMessage()


def reports(caplog):
    return [r for r in caplog.records if r.name == "worker.schedule"]


@pytest.mark.timeout(60)
def test_beat_reports_the_backlog_while_no_worker_runs(tmp_path):
    stack = Stack(tmp_path)
    try:
        stack.start_redis()
        intake.enqueue(stack.redis(), 8, intake.EVENTSUB, {}, "{}", "1337")
        beat = stack.start_beat()
        wait_until(
            lambda: "backlog: intake 1" in beat.log(),
            timeout=30,
            message=f"beat reported no backlog:\n{beat.log()}",
        )
    finally:
        stack.stop()
