"""The optional ``flower`` process (Procfile): Celery's monitor, which shows every task
with its arguments, so in production it starts only behind a password
(``FLOWER_BASIC_AUTH``, which Flower reads itself).

    python -m worker.flower --port=5555
"""

from __future__ import annotations

import os
import sys

from worker.context import settings as worker_settings


def main(argv: list[str]) -> None:
    """Refuse a production Flower without a password; else become ``celery flower``."""
    settings = worker_settings()  # read once already, as the worker package was imported
    if settings.app_env == "production" and not settings.flower_basic_auth:
        print(
            "configuration error: FLOWER_BASIC_AUTH is not set (required in production: "
            "Flower shows every task and its arguments)",
            file=sys.stderr,
            flush=True,
        )
        raise SystemExit(2)  # as every other configuration error ends a process
    os.execv(sys.executable, [sys.executable, "-m", "celery", "-A", "worker", "flower", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
