"""The one log format, and Celery's per-task lines at DEBUG."""

import logging

import pytest
from celery.app.trace import LOG_RECEIVED, LOG_SUCCESS

from shared.logs import OurHandler, configure_logging


@pytest.fixture
def log_lines(capsys):
    """Configure logging at a level; returns a function giving what was written to stderr."""
    root = logging.getLogger()
    level = root.level

    def configure(level):
        configure_logging(level)
        return lambda: capsys.readouterr().err.splitlines()

    yield configure
    for handler in [h for h in root.handlers if isinstance(h, OurHandler)]:
        root.removeHandler(handler)
    root.setLevel(level)


def test_one_format_without_a_time(log_lines):
    lines = log_lines("INFO")
    logging.getLogger("web").warning("rejected %s", "x")
    assert lines() == ["WARNING web: rejected x"]


def test_configuring_again_keeps_one_handler(log_lines):
    log_lines("INFO")
    lines = log_lines("INFO")
    logging.getLogger("worker.pump").info("once")
    assert lines() == ["INFO worker.pump: once"]


def test_celerys_per_task_lines_are_debug(log_lines):
    context = {"name": "publish.stream_event", "id": "t1", "runtime": 0.01, "return_value": None}
    lines = log_lines("INFO")
    logging.getLogger("celery.worker.strategy").info(LOG_RECEIVED, context)
    logging.getLogger("celery.app.trace").info(LOG_SUCCESS, context)
    logging.getLogger("celery.app.trace").info("Task %(name)s[%(id)s] retry: %(exc)s",
                                               {**context, "exc": "later"})
    assert lines() == ["INFO celery.app.trace: Task publish.stream_event[t1] retry: later"]
    lines = log_lines("DEBUG")
    logging.getLogger("celery.worker.strategy").info(LOG_RECEIVED, context)
    assert lines() == ["DEBUG celery.worker.strategy: Task publish.stream_event[t1] received"]
