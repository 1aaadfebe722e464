"""The pump's shared state: touched by its threads only under its condition."""

import dataclasses
import math
import sys
import threading

import pytest

from scripts.processes import wait_until
from shared.store import published_key
from tests.worker.support import send

SHARED = ("in_flight", "free_slots", "reading", "to_reclaim", "sequencer")


@pytest.fixture
def fine_switching():
    """Let threads switch far more often than usual, so that races show."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def checked_pump_class():
    """A Pump that records each touch of its shared state made without holding
    ``changed``."""
    from worker.pump import Pump

    class Guarded(dict):
        def __init__(self, pump):
            super().__init__()
            self.pump = pump

        def __setitem__(self, key, value):
            self.pump.check("in_flight")
            super().__setitem__(key, value)

        def pop(self, *args):
            self.pump.check("in_flight")
            return super().pop(*args)

    class CheckedSequencer:
        def __init__(self, pump, sequencer):
            self.pump, self.sequencer = pump, sequencer

        def __getattr__(self, name):
            self.pump.check("sequencer")
            return getattr(self.sequencer, name)

    class CheckedPump(Pump):
        def __init__(self, *args):
            self.unguarded: list[str] = []
            super().__init__(*args)
            self.in_flight = Guarded(self)
            self.sequencer = CheckedSequencer(self, self.sequencer)
            self.ready = True

        def check(self, name):
            if getattr(self, "ready", False) and not self.changed._is_owned():
                self.unguarded.append(f"{name} in {threading.current_thread().name}")

        def __getattribute__(self, name):
            if name in SHARED:
                object.__getattribute__(self, "check")(name)
            return object.__getattribute__(self, name)

        def __setattr__(self, name, value):
            if name in SHARED:
                self.check(name)
            object.__setattr__(self, name, value)

    return CheckedPump


def test_shards_noted_while_the_reader_takes_them_are_each_handed_out_once(
    worker_environment, redis_client, fine_switching
):
    from worker.context import redis_client as worker_redis
    from worker.pump import Pump

    pump = Pump(worker_redis(), worker_environment, "state-pump", lambda *args: None)
    taken: list[int] = []
    noted = threading.Event()

    def heartbeat():
        for shard in range(20_000):
            pump.note_shards(frozenset({shard}), frozenset({shard % 8}), math.inf)
        noted.set()

    thread = threading.Thread(target=heartbeat)
    thread.start()
    while not noted.is_set() or pump.to_reclaim:
        taken += pump.shards_to_reclaim()
    thread.join()
    assert sorted(taken) == list(range(20_000)), "a shard lost or handed out twice"
    assert pump.reading == frozenset({19_999 % 8})


def test_two_pumps_sharing_shards_while_entries_flow_touch_shared_state_only_under_the_lock(
    worker_environment, redis_client, pusher_emulator, fine_switching
):
    from worker.context import redis_client as worker_redis

    settings = dataclasses.replace(worker_environment, event_order_window_ms=1)
    checked = checked_pump_class()
    pumps = [checked(worker_redis(), settings, f"state-pump-{n}", lambda *a: None) for n in (1, 2)]
    sent = []
    try:
        pumps[0].start()
        sent += [
            send(redis_client, "stream.offline", f"state_{n % 5}", "2026-01-01T12:00:00Z")
            for n in range(100)
        ]
        pumps[1].start()  # takes half the shards while the first pump reads and publishes
        while not pumps[1].ownership.owned:
            sent += [
                send(redis_client, "stream.offline", f"state_{n % 5}", "2026-01-01T12:00:01Z")
                for n in range(5)
            ]
        sent += [
            send(redis_client, "stream.offline", f"state_{n % 5}", "2026-01-01T12:00:02Z")
            for n in range(100)
        ]
        wait_until(
            lambda: all(redis_client.exists(published_key(message)) for message in sent),
            timeout=30,
        )
    finally:
        for pump in pumps:
            pump.stop()
    assert all(pump.ownership.owned == frozenset() for pump in pumps)
    assert [pump.unguarded for pump in pumps] == [[], []]
