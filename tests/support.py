"""Helpers for tests that run real processes on free loopback ports."""

from scripts.processes import ROOT, Process, free_port, port_open, wait_until  # noqa: F401
from scripts.stack import BIN, redis_server_binary  # noqa: F401
from scripts.stack import development_environment as process_environment  # noqa: F401
