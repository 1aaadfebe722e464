"""The flower process's launcher (worker/flower.py)."""

import subprocess
import sys

from tests.support import PRODUCTION_SETTINGS as PRODUCTION
from tests.support import ROOT, process_environment


def launch(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "worker.flower", *args],
        env={**process_environment(), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_flower_without_a_password_refuses_to_start():
    result = launch(PRODUCTION, "--port=0")
    assert result.returncode == 2
    assert "FLOWER_BASIC_AUTH is not set" in result.stderr


def test_with_a_password_it_becomes_celery_flower():
    result = launch({**PRODUCTION, "FLOWER_BASIC_AUTH": "admin:secret-pass"}, "--help")
    assert result.returncode == 0, result.stderr
    assert "celery flower" in result.stdout and "monitoring" in result.stdout
