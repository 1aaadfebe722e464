"""One log format for every process: web, worker and beat.

Each line is ``LEVEL logger: message``, without a time: whatever runs the
processes stamps every line already (honcho in ``make run``, Heroku's router,
Docker, journald), and a second time on each line was noise. Granian's own
lines take the same format from ``web/granian-logging.json``, and a worker that
exits cleanly before Granian stops it is not reported as an error
(:class:`GranianCleanExitFilter`).

``LOG_FORMAT=json`` writes one JSON object a line instead, for a log shipper:
``time`` (UTC), ``level``, ``logger``, ``message``, ``exception`` (the traceback,
when there is one) and the record's extra fields.

Every line about one webhook carries its Twitch message id, so that one grep
follows it across processes: a field ``message_id`` (``message_ids``, a list,
on a line about several), given with ``extra=`` or, for a stretch of code, with
:func:`log_context`. The text format ends such a line with ``[message_id=...]``.

Celery's "Task ... received" and "Task ... succeeded" lines, one pair per
task, are logged at DEBUG, not INFO: they were a third of a run's log.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TextIO

from celery.app.trace import LOG_RECEIVED, LOG_SUCCESS
from pythonjsonlogger.json import JsonFormatter

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
PER_TASK_LINES = {"celery.worker.strategy": LOG_RECEIVED, "celery.app.trace": LOG_SUCCESS}
MESSAGE_FIELDS = ("message_id", "message_ids")
JSON_NAMES = {"levelname": "level", "name": "logger", "exc_info": "exception"}
_context: ContextVar[dict | None] = ContextVar("log_context", default=None)


@contextlib.contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Every record this thread logs inside the ``with`` block carries ``fields``."""
    token = _context.set({**(_context.get() or {}), **fields})
    try:
        yield
    finally:
        _context.reset(token)


def set_log_context(**fields: object) -> None:
    """From now on, every record this thread logs carries ``fields`` (none: no fields):
    for code that cannot wrap the work in :func:`log_context`, such as signal handlers."""
    _context.set(fields)


class ContextFields(logging.Filter):
    """Copies the fields of :func:`log_context` onto each record (``extra=`` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the fields; never drops a record."""
        for name, value in (_context.get() or {}).items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class TextFormatter(logging.Formatter):
    """``fmt``, then ``[message_id=...]`` when the record names a message."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The line, with the message id(s) at its end (before any traceback)."""
        line = super().formatMessage(record)
        for name in MESSAGE_FIELDS:
            value = getattr(record, name, None)
            if value:
                text = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else value
                line += f" [{name}={text}]"
        return line


def make_formatter(log_format: str, logger_name: str | None = None) -> logging.Formatter:
    """The formatter of ``LOG_FORMAT`` (``text`` or ``json``); ``logger_name`` replaces
    the record's logger name (Granian's lines say ``granian``)."""
    if log_format == "json":
        if logger_name:
            return JsonFormatter(
                "{levelname}{message}",
                style="{",
                rename_fields=JSON_NAMES,
                defaults={"logger": logger_name},
                timestamp="time",
            )
        return JsonFormatter(
            "{levelname}{name}{message}", style="{", rename_fields=JSON_NAMES, timestamp="time"
        )
    return TextFormatter(LOG_FORMAT.replace("%(name)s", logger_name) if logger_name else LOG_FORMAT)


def granian_formatter(name: str) -> logging.Formatter:
    """Granian's formatter (``web/granian-logging.json``), in the ``LOG_FORMAT`` of the
    environment; text when the settings cannot be read (the app then says why)."""
    from shared.settings import SettingsError, load_settings

    try:
        log_format = load_settings().log_format
    except SettingsError:
        log_format = "text"
    return make_formatter(log_format, name)


class GranianCleanExitFilter(logging.Filter):
    """Granian's "Unexpected exit from worker-N", at INFO when the worker exited with
    status 0, as a worker does on a stop signal.

    A stop signal sent to a process group (honcho's, Heroku's to every process of a
    dyno) reaches Granian's workers as well as Granian. A worker that has finished
    before Granian marked it as being stopped is reported as an unexpected exit: an
    ERROR line on a clean stop. Granian logs that line from the thread that waited for
    the worker, so the worker's exit status is at hand. A crash or a kill keeps its
    ERROR.
    """

    UNEXPECTED_EXIT = "Unexpected exit from "

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(self.UNEXPECTED_EXIT) and _granian_worker_exit_status() == 0:
            worker = message.removeprefix(self.UNEXPECTED_EXIT)
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg, record.args = f"{worker} exited cleanly (status 0)", ()
        return True


def _granian_worker_exit_status() -> int | None:
    """The exit status of the Granian worker this thread waited for; None when this
    thread is not one of Granian's worker watchers."""
    target = getattr(threading.current_thread(), "_target", None)
    process = getattr(getattr(target, "__self__", None), "inner", None)
    return getattr(process, "exitcode", None)


class OurHandler(logging.StreamHandler):
    """The handler :func:`configure_logging` installs: writes to whatever ``sys.stderr``
    is when a record comes (as a test runner swaps it), told apart from other handlers."""

    @property
    def stream(self) -> TextIO:
        """This moment's ``sys.stderr``."""
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


class PerTaskLinesAtDebug(logging.Filter):
    """Logs a logger's per-task line at DEBUG instead of INFO (dropped unless DEBUG is on)."""

    def __init__(self, message: str):
        super().__init__()
        self.message = message

    def filter(self, record: logging.LogRecord) -> bool:
        """Demote the per-task line; let every other record through unchanged."""
        if record.msg != self.message or record.levelno != logging.INFO:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def configure_logging(level: str | int, log_format: str = "text") -> None:
    """Send every logger's records to stderr at ``level``, in :data:`LOG_FORMAT` or, with
    ``log_format="json"``, as one JSON object a line.

    Calling it again replaces its own handler (other handlers, such as a test
    runner's, are left alone).
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, OurHandler)]:
        root.removeHandler(handler)
    handler = OurHandler()
    handler.setFormatter(make_formatter(log_format))
    handler.addFilter(ContextFields())
    root.addHandler(handler)
    root.setLevel(level)
    for name, message in PER_TASK_LINES.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, PerTaskLinesAtDebug) for f in logger.filters):
            logger.addFilter(PerTaskLinesAtDebug(message))
