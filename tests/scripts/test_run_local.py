"""The local run's helpers: ports, the ready line, and ending on Ctrl-C."""

import http.server
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading

from scripts import run_local
from tests.support import ROOT, free_port


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


def test_ctrl_c_ends_the_run_with_status_0():
    honcho_stand_in = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGINT, lambda *_: sys.exit(130))\n"
        "print('up', flush=True)\n"
        "time.sleep(30)\n"
    )
    run = textwrap.dedent(f"""
        import os, sys
        from scripts.run_local import supervise
        sys.exit(supervise([sys.executable, "-c", {honcho_stand_in!r}], dict(os.environ),
                           "http://127.0.0.1:{free_port()}/healthz", "http://localhost:5000"))
    """)
    process = subprocess.Popen(
        [sys.executable, "-c", run],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout.readline().strip() == "up"
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does to the terminal's group
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


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
