"""The helpers that run the app's processes: free ports."""

import collections
import socket

from scripts import processes


def bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_a_port_handed_out_is_not_handed_out_again_before_it_is_bound(monkeypatch):
    low, high = processes._port_range()
    first, second = [port for port in range(low, high) if bindable(port)][:2]
    draws = iter([first, first, first, second])
    monkeypatch.setattr(processes, "_HANDED_OUT", collections.deque(maxlen=512))
    monkeypatch.setattr(processes.random, "randrange", lambda *_: next(draws))

    assert [processes.free_port(), processes.free_port()] == [first, second]


def test_each_xdist_worker_draws_from_a_slice_of_its_own(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    slices = []
    for worker in ("gw0", "gw1"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        slices.append(processes._port_range())

    (low0, high0), (low1, high1) = slices
    assert low0 == processes.LOWEST_PORT and high0 == low1 and high1 <= processes._ephemeral_start()
    assert low0 < high0 < high1
