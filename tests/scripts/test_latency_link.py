"""The benchmark's latency link, with real sockets on loopback: an echo server behind it."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time

import pytest

from tests.support import Process, free_port, process_environment

RTT_MS = 100


@pytest.fixture
def echo_port():
    """A TCP echo server on a free port, one thread per connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stopping = threading.Event()

    def echo(connection):
        with connection:
            while data := connection.recv(65536):
                connection.sendall(data)

    def serve():
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=echo, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stopping.set()
    thread.join(5)
    listener.close()


@pytest.fixture
def link(echo_port, tmp_path):
    """The link, as its own process, in front of the echo server."""
    port = free_port()
    process = Process(
        "link",
        [
            sys.executable,
            "-m",
            "scripts.latency_link",
            "--listen",
            str(port),
            "--to",
            f"127.0.0.1:{echo_port}",
            "--rtt-ms",
            str(RTT_MS),
        ],
        process_environment(),
        tmp_path,
        port,
    ).start()
    yield port, process
    process.stop()


def exchange(connection: socket.socket, data: bytes) -> bytes:
    """Send ``data`` and read as many bytes back."""
    connection.sendall(data)
    received = b""
    while len(received) < len(data):
        received += connection.recv(65536)
    return received


def test_a_round_trip_costs_the_links_round_trip_and_opening_costs_another(link):
    port, _ = link
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as connection:
        assert exchange(connection, b"ping") == b"ping"
        first = time.monotonic() - started
        started = time.monotonic()
        assert exchange(connection, b"pong") == b"pong"
        second = time.monotonic() - started
    assert first >= 2 * RTT_MS * 0.95 / 1000, "opening the connection costs a round trip"
    assert second >= RTT_MS * 0.95 / 1000


def test_a_megabyte_passes_intact_and_in_order(link):
    port, _ = link
    data = os.urandom(2**20)
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.settimeout(30)
        sender = threading.Thread(target=connection.sendall, args=(data,))
        sender.start()
        received = bytearray()
        while len(received) < len(data):
            chunk = connection.recv(65536)
            assert chunk, "the link closed early"
            received += chunk
        sender.join(30)
    assert bytes(received) == data


def test_sigterm_stops_the_link_with_connections_open(link):
    port, process = link
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.settimeout(10)
        assert exchange(connection, b"hello") == b"hello"
        process.stop()
        assert process.popen.returncode == 0
        assert connection.recv(1) == b"", "the link closed the connection"
