"""The log formats (text, JSON), the message ids on the lines, Celery's per-task
lines at DEBUG, and Granian's record of a worker that stopped with it."""

import json
import logging
import logging.config
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from celery.app.trace import LOG_RECEIVED, LOG_SUCCESS

from scripts.processes import free_port, wait_until
from shared.logs import (
    GranianCleanExitFilter,
    OurHandler,
    configure_logging,
    log_context,
    set_log_context,
)

GRANIAN_LOG_CONFIG = Path(__file__).parents[2] / "web" / "granian-logging.json"


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
    config = json.loads(GRANIAN_LOG_CONFIG.read_text())
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


class Watched:
    """What Granian's worker watcher is bound to: a worker whose process has ended."""

    def __init__(self, exit_status):
        self.inner = SimpleNamespace(exitcode=exit_status)
        self.records = []

    def watch(self):
        record = logging.LogRecord(
            "_granian", logging.ERROR, "", 0, "Unexpected exit from worker-%d", (2,), None
        )
        GranianCleanExitFilter().filter(record)
        self.records.append(record)


@pytest.mark.parametrize(
    "exit_status, expected",
    [
        (0, ("INFO", "worker-2 exited cleanly (status 0)")),
        (1, ("ERROR", "Unexpected exit from worker-2")),
        (-signal.SIGKILL, ("ERROR", "Unexpected exit from worker-2")),
    ],
)
def test_a_worker_that_ended_cleanly_is_not_an_error(exit_status, expected):
    worker = Watched(exit_status)
    watcher = threading.Thread(target=worker.watch)
    watcher.start()
    watcher.join()
    [record] = worker.records
    assert (record.levelname, record.getMessage()) == expected


def test_the_record_is_kept_as_it_is_outside_a_watcher():
    record = logging.LogRecord(
        "_granian", logging.ERROR, "", 0, "Unexpected exit from worker-1", (), None
    )
    assert GranianCleanExitFilter().filter(record)
    assert (record.levelname, record.getMessage()) == ("ERROR", "Unexpected exit from worker-1")


RSGI_APP = """
import os


class App:
    def __rsgi_init__(self, loop):
        loop.call_soon(lambda: print("loop running in", os.getpid(), flush=True))

    async def __rsgi__(self, scope, protocol):
        protocol.response_str(200, [], "ok")


def create():
    return App()
"""


@pytest.fixture
def granian(tmp_path):
    """Start Granian (two workers, the web's log config) on a small app in a process
    group of its own; yields the process and a function giving its log lines."""
    (tmp_path / "small_app.py").write_text(RSGI_APP)
    port = free_port()
    log = tmp_path / "granian.log"
    env = {
        **os.environ,
        "LOG_FORMAT": "text",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(GRANIAN_LOG_CONFIG.parents[1])]),
    }
    command = [
        str(Path(sys.executable).with_name("granian")),
        *("--interface", "rsgi", "--factory", "--workers", "2", "--port", str(port)),
        *("--log-config", str(GRANIAN_LOG_CONFIG), "small_app:create"),
    ]
    with open(log, "wb") as output:
        process = subprocess.Popen(
            command,
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def running():
        # A worker's stop signals are watched once its loop runs (uvloop): before that,
        # a SIGTERM would be lost.
        text = log.read_text()
        pids = [line.split()[-1] for line in text.splitlines() if "Spawning worker-" in line]
        return len(pids) == 2 and all(f"loop running in {pid}\n" in text for pid in pids)

    try:
        wait_until(running, timeout=20, message="both of Granian's workers to run their loops")
        yield process, lambda: log.read_text().splitlines()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def ended(pid: int) -> bool:
    """Whether the process ``pid`` has ended (its parent, paused, has not reaped it yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.integration
def test_a_stop_signal_to_granians_group_logs_no_error_when_the_workers_end_first(granian):
    process, lines = granian
    # Granian paused while the signal reaches the group, until its workers have ended:
    # once it runs again, its threads that waited for them usually log their exits
    # before its own handler of the signal has marked them as being stopped.
    workers = [int(line.split()[-1]) for line in lines() if "Spawning worker-" in line]
    process.send_signal(signal.SIGSTOP)
    os.killpg(process.pid, signal.SIGTERM)
    wait_until(lambda: all(map(ended, workers)), timeout=20, message="the workers to end")
    process.send_signal(signal.SIGCONT)
    process.wait(20)
    assert "Granian shutdown completed, see ya!" in lines()[-1]
    assert not [line for line in lines() if line.startswith(("ERROR", "WARNING"))], lines()


@pytest.mark.integration
@pytest.mark.parametrize(
    "sent, told",
    [
        (signal.SIGTERM, "INFO granian: worker-2 exited cleanly (status 0)"),
        (signal.SIGKILL, "ERROR granian: Unexpected exit from worker-2"),
    ],
    ids=["stopped cleanly: INFO", "killed: ERROR"],
)
def test_a_worker_signalled_while_granian_runs_is_told_by_how_it_ended(granian, sent, told):
    process, lines = granian
    worker = int(next(line for line in lines() if "Spawning worker-2" in line).split()[-1])
    os.kill(worker, sent)
    process.wait(20)
    assert told in lines()
    assert [line for line in lines() if line.startswith(("ERROR", "WARNING"))] in ([], [told])
