"""The log formats (text, JSON), the message ids on the lines, and Celery's per-task
lines at DEBUG."""

import json
import logging
import logging.config
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from celery.app.trace import LOG_RECEIVED, LOG_SUCCESS

from shared.logs import OurHandler, configure_logging, log_context, set_log_context


@pytest.fixture
def log_lines(capsys):
    """Configure logging at a level; returns a function giving what was written to stderr."""
    root = logging.getLogger()
    level = root.level

    def configure(level, log_format="text"):
        configure_logging(level, log_format)
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
    logging.getLogger("celery.app.trace").info(
        "Task %(name)s[%(id)s] retry: %(exc)s", {**context, "exc": "later"}
    )
    assert lines() == ["INFO celery.app.trace: Task publish.stream_event[t1] retry: later"]
    lines = log_lines("DEBUG")
    logging.getLogger("celery.worker.strategy").info(LOG_RECEIVED, context)
    assert lines() == ["DEBUG celery.worker.strategy: Task publish.stream_event[t1] received"]


def test_text_lines_end_with_the_message_ids_they_concern(log_lines):
    lines = log_lines("INFO")
    logging.getLogger("worker.ingest").error("dead-lettered", extra={"message_id": "m-1"})
    with log_context(message_id="m-2"):
        logging.getLogger("worker.websub").warning("dropped")
    logging.getLogger("worker.batches").warning("failed", extra={"message_ids": ["a", "b"]})
    logging.getLogger("worker.pump").info("no message")
    assert lines() == [
        "ERROR worker.ingest: dead-lettered [message_id=m-1]",
        "WARNING worker.websub: dropped [message_id=m-2]",
        "WARNING worker.batches: failed [message_ids=a,b]",
        "INFO worker.pump: no message",
    ]


def test_json_is_one_object_a_line(log_lines):
    lines = log_lines("INFO", "json")
    logging.getLogger("web").warning("rejected %r", "x\ny")
    with log_context(message_id="m-3"):
        logging.getLogger("worker.publish").info("retrying")
        logging.getLogger("worker.publish").info("given", extra={"message_id": "m-4"})
    logging.getLogger("worker.batches").info("batch", extra={"message_ids": ["a", "b"]})
    records = [json.loads(line) for line in lines()]
    assert [(r["level"], r["logger"], r["message"]) for r in records] == [
        ("WARNING", "web", "rejected 'x\\ny'"),
        ("INFO", "worker.publish", "retrying"),
        ("INFO", "worker.publish", "given"),
        ("INFO", "worker.batches", "batch"),
    ]
    assert "message_id" not in records[0]
    assert [r.get("message_id") for r in records[1:3]] == ["m-3", "m-4"]
    assert records[3]["message_ids"] == ["a", "b"]
    assert all(datetime.fromisoformat(r["time"]).utcoffset() == timedelta(0) for r in records)


def test_json_carries_the_exception(log_lines):
    lines = log_lines("INFO", "json")
    try:
        raise ValueError("no such event")
    except ValueError:
        logging.getLogger("worker.pump").exception("failed on a batch")
    [line] = lines()
    record = json.loads(line)
    assert record["message"] == "failed on a batch"
    assert record["exception"].startswith("Traceback (most recent call last):")
    assert record["exception"].endswith("ValueError: no such event")


def test_the_context_ends_with_its_block(log_lines):
    lines = log_lines("INFO", "json")
    with log_context(message_id="outer"):
        with log_context(message_id="inner"):
            logging.getLogger("worker").info("one")
        logging.getLogger("worker").info("two")
    logging.getLogger("worker").info("three")
    set_log_context(message_id="set")
    logging.getLogger("worker").info("four")
    set_log_context()
    logging.getLogger("worker").info("five")
    assert [json.loads(line).get("message_id") for line in lines()] == [
        "inner",
        "outer",
        None,
        "set",
        None,
    ]


@pytest.mark.parametrize(
    "log_format, expected",
    [
        ("text", "INFO granian: Listening at: http://127.0.0.1:8000"),
        (
            "json",
            {
                "level": "INFO",
                "logger": "granian",
                "message": "Listening at: http://127.0.0.1:8000",
            },
        ),
    ],
)
def test_granians_lines_take_the_format_of_the_settings(log_format, expected, monkeypatch, capsys):
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setenv("LOG_FORMAT", log_format)
    config = json.loads((Path(__file__).parents[2] / "web" / "granian-logging.json").read_text())
    logging.config.dictConfig(config)
    try:
        logging.getLogger("_granian").info("Listening at: http://127.0.0.1:8000")
        [line] = capsys.readouterr().err.splitlines()
    finally:
        for name in config["loggers"]:
            logging.getLogger(name).handlers.clear()
            logging.getLogger(name).propagate = True
    if log_format == "json":
        line = json.loads(line)
        del line["time"]
    assert line == expected
