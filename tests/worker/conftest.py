"""Run the worker's tasks in this process against a real Redis and the Pusher emulator.

The ``worker`` package builds its app from the environment when first imported, so the
environment is set before the tasks are imported, for the session, and restored after.
"""

from __future__ import annotations

import os
import sys

import pytest

from scripts.processes import Process, free_port
from scripts.stack import PUSHER_CREDENTIALS
from tests.support import process_environment

PUSHER_PORT = free_port()


@pytest.fixture(scope="session")
def worker_environment(redis_server):
    """Point the worker package at the test Redis and a Pusher emulator port; yields the
    worker's settings. The environment is restored after the session."""
    environment = process_environment(
        REDIS_URL=redis_server,
        PUSHER_HOST="127.0.0.1",
        PUSHER_PORT=PUSHER_PORT,
        PUSHER_SSL="false",
        PUBLISH_MAX_RETRIES=2,
        PUBLISH_RETRY_BACKOFF_MAX=1,
        **PUSHER_CREDENTIALS,
    )
    with pytest.MonkeyPatch.context() as patch:
        for name in set(os.environ) - set(environment):
            patch.delenv(name)
        for name, value in environment.items():
            patch.setenv(name, value)
        from worker.context import settings

        yield settings()


@pytest.fixture(autouse=True)
def worker_app_is_current():
    """The worker's tasks are sent through Celery's current app, and every Celery app
    made in this process becomes the current one (a web test's ``create_app`` makes
    one): give the worker's back before each test, whatever ran before it."""
    worker = sys.modules.get("worker")
    if worker is not None:
        worker.app.set_current()


@pytest.fixture(scope="session")
def pusher_emulator(worker_environment, tmp_path_factory):
    """The Pusher emulator the tasks publish to."""
    process = Process(
        "pusher",
        [sys.executable, "-m", "emulators.pusher", "--port", str(PUSHER_PORT)],
        dict(os.environ),
        tmp_path_factory.mktemp("pusher"),
        PUSHER_PORT,
    ).start()
    yield process
    process.stop()


@pytest.fixture
def pusher_client(worker_environment):
    """The official library's client of the emulator, as the worker uses it."""
    from worker.context import pusher_client

    return pusher_client()
