"""The local run's helpers: ports, the ready line, and ending on Ctrl-C."""

import http.server
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from scripts import run_local
from shared.vapid import public_key_of
from tests.support import ROOT, free_port, wait_until


def two_free_ports_in_a_row() -> int:
    """A port that is free, with the next one free too."""
    while True:
        port = free_port()
        if run_local.port_is_free(port + 1):
            return port


def test_a_taken_port_falls_back_to_the_next_free_one(capsys):
    port = two_free_ports_in_a_row()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        assert run_local.first_free_port(port) == port + 1
    assert f"port {port} is taken; using {port + 1}" in capsys.readouterr().err
    assert run_local.first_free_port(port) == port


class Health(http.server.BaseHTTPRequestHandler):
    """Answers /healthz with 503 for its first two requests, then 200."""

    asked = 0

    def do_GET(self):
        Health.asked += 1
        self.send_response(200 if Health.asked > 2 else 503)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_url_is_printed_again_once_the_web_answers(capsys):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        health = f"http://127.0.0.1:{server.server_address[1]}/healthz"
        assert run_local.announce_when_ready(health, "http://localhost:5001", timeout=20)
    finally:
        server.shutdown()
    assert Health.asked == 3
    assert "Ready: open http://localhost:5001" in capsys.readouterr().out


def test_nothing_is_printed_once_the_processes_ended(capsys):
    assert not run_local.announce_when_ready(
        f"http://127.0.0.1:{free_port()}/healthz", "http://localhost:5000", ended=lambda: 1
    )
    assert capsys.readouterr().out == ""


def honcho_stand_in(name: str, record: Path, status: int = 130, ends_after: float = 30) -> list:
    """A stand-in for one honcho: on SIGINT it notes in ``record`` that it is stopping,
    takes 0.3 s as processes do, notes that it stopped and exits with ``status``; by
    itself it exits with ``status`` after ``ends_after`` seconds."""
    code = textwrap.dedent(f"""
        import signal, sys, time
        def note(line):
            with open({str(record)!r}, "a") as file:
                file.write(line + "\\n")
        def stop(*_):
            note("{name} stopping")
            time.sleep(0.3)
            note("{name} stopped")
            sys.exit({status})
        signal.signal(signal.SIGINT, stop)
        note("{name} up")
        time.sleep({ends_after})
        note("{name} ended by itself")
        sys.exit({status})
    """)
    return [sys.executable, "-c", code]


def run_supervised(commands: list) -> subprocess.Popen:
    """``supervise(commands)`` in a process (and session) of its own."""
    run = textwrap.dedent(f"""
        import os, sys
        from scripts.run_local import supervise
        sys.exit(supervise({commands!r}, dict(os.environ),
                           "http://127.0.0.1:{free_port()}/healthz", "http://localhost:5000"))
    """)
    return subprocess.Popen([sys.executable, "-c", run], cwd=ROOT, start_new_session=True)


def notes(record: Path, count: int) -> list[str]:
    wait_until(lambda: record.exists() and len(record.read_text().splitlines()) >= count)
    return record.read_text().splitlines()


def test_ctrl_c_stops_the_app_before_what_it_needs_and_ends_with_status_0(tmp_path):
    record = tmp_path / "record"
    process = run_supervised(
        [honcho_stand_in("services", record), honcho_stand_in("app", record, status=3)]
    )
    try:
        assert sorted(notes(record, 2)) == ["app up", "services up"]
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does to the terminal's group
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert record.read_text().splitlines()[2:] == [
        "app stopping",
        "app stopped",
        "services stopping",
        "services stopped",
    ]


def test_a_part_that_ends_by_itself_stops_the_rest_with_its_status(tmp_path):
    record = tmp_path / "record"
    process = run_supervised(
        [honcho_stand_in("services", record), honcho_stand_in("app", record, 3, ends_after=0.5)]
    )
    try:
        assert process.wait(10) == 3
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert notes(record, 5)[2:] == ["app ended by itself", "services stopping", "services stopped"]


def sender_line(twitch_port: int) -> str:
    """The EventSub sender's command as the run prints it, the Twitch emulator on a port."""
    env = {
        "PUBLIC_URL": "http://localhost:5000",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "TWITCH_API_URL": f"http://localhost:{twitch_port}/helix",
    }
    return next(
        line for line in run_local.describe(env).splitlines() if "emulators.eventsub" in line
    )


def test_the_sender_is_pointed_at_a_twitch_emulator_off_its_default_port():
    assert sender_line(8081).endswith(" --twitch http://localhost:8081")
    assert "--twitch" not in sender_line(8080)


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_the_local_run_starts_and_stops_without_a_warning_from_the_app(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith((*run_local.SETTING_PREFIXES, "PORT"))
    }
    env.update(PORT=str(free_port()), PUSHER_PORT=str(free_port()))
    log = tmp_path / "run.log"
    # The run's own directory, not the .run of a make run that may be going.
    main = "import sys, pathlib, scripts.run_local as r; r.RUN_DIR = pathlib.Path(sys.argv[1])"
    main += "; r.main()"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", main, str(tmp_path / "run")],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(
            lambda: "Ready: open" in log.read_text() and "took intake shards" in log.read_text(),
            timeout=120,
            message="the run to be ready",
        )
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does to the terminal's group
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    lines = log.read_text().splitlines()
    app = [line for line in lines if line[9:].startswith(("web.1", "worker.1", "beat.1"))]
    assert app and not [line for line in app if "WARNING" in line or "ERROR" in line]
    stopped = [line.split("| ")[1].split()[0] for line in lines if " stopped (rc=" in line]
    assert sorted(stopped[:3]) == ["beat.1", "web.1", "worker.1"], stopped


def test_the_run_makes_a_vapid_key_pair_once_and_keeps_it(tmp_path, monkeypatch):
    monkeypatch.setattr(run_local, "RUN_DIR", tmp_path)
    first = run_local.vapid_keys()
    assert public_key_of(first["VAPID_PRIVATE_KEY"]) == first["VAPID_PUBLIC_KEY"]
    run_local.write_env_file({"APP_ENV": "development", **first})
    assert run_local.vapid_keys() == first
    (tmp_path / "env").unlink()
    assert run_local.vapid_keys() != first
