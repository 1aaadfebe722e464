"""Running the app's processes as children: free ports, readiness, clean stops.

Used by the benchmark and the tests.
"""

from __future__ import annotations

import collections
import os
import random
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


LOWEST_PORT = 10000
# Ports this process handed out lately: a port is free until its server binds it, so a
# stack asking for four ports in a row must not be given one of them twice.
_HANDED_OUT: collections.deque[int] = collections.deque(maxlen=512)
_HANDING_OUT = threading.Lock()


def free_port() -> int:
    """A free TCP port on 127.0.0.1, below the kernel's ephemeral range when it can.

    A port the kernel hands out (bind to port 0) comes from the range it also gives
    every outgoing connection (a browser's, wrk's), so one of those can take it
    before the server meant to listen there binds it; below that range only a
    listener can. Each of pytest-xdist's workers (and what they start) draws from a
    slice of its own, so two of them never pick the same port at once, and a process is
    never given a port it was given among its last 512.
    """
    low, high = _port_range()
    with _HANDING_OUT:
        for _ in range(200):
            port = random.randrange(low, high) if high > low + 1000 else 0
            if port in _HANDED_OUT:
                continue
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue
                port = probe.getsockname()[1]
            if port not in _HANDED_OUT:
                _HANDED_OUT.append(port)
                return port
    raise RuntimeError("no free TCP port on 127.0.0.1")


def _port_range() -> tuple[int, int]:
    """The ports :func:`free_port` draws from: its slice when a pytest-xdist worker runs."""
    low, high = LOWEST_PORT, _ephemeral_start()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if worker.startswith("gw") and workers > 1:
        size = (high - low) // workers
        low += int(worker.removeprefix("gw")) * size
        high = low + size
    return low, high


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def port_open(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:port."""
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_until(condition, timeout: float = 10.0, message: str = "", interval: float = 0.02):
    """Poll ``condition`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(message or f"condition not met within {timeout}s")
        time.sleep(interval)


class Process:
    """A child process in its own process group, with its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict, log_dir: Path, port: int | None):
        self.name, self.args, self.env, self.port = name, args, env, port
        self.log_path = Path(log_dir) / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self, ready_timeout: float = 20.0) -> Process:
        """Start the process and wait until its port (if any) accepts connections."""
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                self.args,
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if self.port:
            wait_until(
                lambda: port_open(self.port) or self.popen.poll() is not None,
                timeout=ready_timeout,
                message=f"{self.name} did not open its port",
            )
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log()}")
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        """Signal the whole process group and wait for it to end."""
        if self.popen is None or self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, sig)
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash would."""
        self.stop(signal.SIGKILL)

    def pause(self) -> None:
        """SIGSTOP the whole process group: it keeps its sockets but answers nothing
        (connections are still accepted by the kernel, then hang), like a frozen host."""
        os.killpg(self.popen.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT the process group after :meth:`pause`."""
        os.killpg(self.popen.pid, signal.SIGCONT)

    def log(self) -> str:
        """Everything the process printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def peak_memory(self) -> int:
        """Peak resident memory (bytes) summed over the process and its live children."""
        return self._memory("VmHWM:")

    def memory(self) -> int:
        """Resident memory (bytes) now, summed over the process and its live children."""
        return self._memory("VmRSS:")

    def _memory(self, field: str) -> int:
        total = 0
        for pid in [self.popen.pid, *descendants(self.popen.pid)]:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith(field):
                    total += int(line.split()[1]) * 1024
        return total


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (Linux /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += [child, *descendants(child)]
    return found
