"""What the project's files promise: .env.example against the real defaults, and the
Makefile's operator command against a checkout with a .env."""

import re
import subprocess

import pytest

from shared.settings import OPTIONAL_DEFAULTS, PUSHER_EMULATOR_DEFAULTS, TWITCH_EMULATOR_DEFAULTS
from tests.support import ROOT

REQUIRED_IN_PRODUCTION = ("REDIS_URL", "SECRET_KEY", "PUBLIC_URL", "TWITCH_WEBHOOK_SECRET")


def documented() -> dict[str, str]:
    """Each ``NAME=value`` of .env.example, commented out or not."""
    text = (ROOT / ".env.example").read_text()
    return dict(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=(.*)$", text, re.MULTILINE))


def test_env_example_documents_every_setting_with_its_default():
    values = documented()
    every = {
        *OPTIONAL_DEFAULTS,
        *TWITCH_EMULATOR_DEFAULTS,
        *PUSHER_EMULATOR_DEFAULTS,
        *REQUIRED_IN_PRODUCTION,
    }
    assert sorted(every - set(values)) == []
    wrong = {
        name: (values[name], default)
        for name, default in OPTIONAL_DEFAULTS.items()
        if default and values[name] != default
    }
    assert wrong == {}


def test_env_example_gives_the_procfiles_web_default():
    procfile = (ROOT / "Procfile").read_text()
    assert f"${{WEB_CONCURRENCY:-{documented()['WEB_CONCURRENCY']}}}" in procfile


@pytest.mark.timeout(60)
def test_make_flask_prints_only_what_the_command_prints(tmp_path, redis_client, redis_server):
    """A checkout with a .env, whose local run wrote .run/env (symlinks to this one)."""
    for entry in ROOT.iterdir():
        if entry.name not in (".env", ".run", ".git"):
            (tmp_path / entry.name).symlink_to(entry)
    (tmp_path / ".env").write_text("APP_ENV=development\n")
    (tmp_path / ".run").mkdir()
    (tmp_path / ".run" / "env").write_text(f"APP_ENV=development\nREDIS_URL={redis_server}\n")
    result = subprocess.run(
        ["make", "--no-print-directory", "-o", "install", "flask", "ARGS=dead-letters list --json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", ""), "no tip, no echoed command"


def test_compose_publishes_ports_on_localhost_only_by_default():
    text = (ROOT / "docker-compose.yml").read_text()
    published = re.findall(r'^\s+- "([^"]*:\d+:\d+)"\s*$', text, re.MULTILINE)
    assert len(published) == 4
    for mapping in published:
        host = mapping.rsplit(":", 2)[0]
        assert host in ("127.0.0.1", "${WEB_BIND:-127.0.0.1}"), mapping
    assert not re.findall(r'^\s+- "?\d+:\d+"?\s*$', text, re.MULTILINE)
