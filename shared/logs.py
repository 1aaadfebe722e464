"""One log format for every process: web, worker and beat.

Each line is ``LEVEL logger: message``, without a time: whatever runs the
processes stamps every line already (honcho in ``make run``, Heroku's router,
Docker, journald), and a second time on each line was noise. Granian's own
lines take the same format from ``web/granian-logging.json``.

Celery's "Task ... received" and "Task ... succeeded" lines, one pair per
task, are logged at DEBUG, not INFO: they were a third of a run's log.
"""

from __future__ import annotations

import logging
import sys

from celery.app.trace import LOG_RECEIVED, LOG_SUCCESS

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
PER_TASK_LINES = {"celery.worker.strategy": LOG_RECEIVED, "celery.app.trace": LOG_SUCCESS}


class OurHandler(logging.StreamHandler):
    """The handler :func:`configure_logging` installs: writes to whatever ``sys.stderr``
    is when a record comes (as a test runner swaps it), told apart from other handlers."""

    @property
    def stream(self):
        """This moment's ``sys.stderr``."""
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
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


def configure_logging(level: str | int) -> None:
    """Send every logger's records to stderr in :data:`LOG_FORMAT` at ``level``.

    Calling it again replaces its own handler (other handlers, such as a test
    runner's, are left alone).
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, OurHandler)]:
        root.removeHandler(handler)
    handler = OurHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    for name, message in PER_TASK_LINES.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, PerTaskLinesAtDebug) for f in logger.filters):
            logger.addFilter(PerTaskLinesAtDebug(message))
