"""Pumps and their shards, against a real Redis and the Pusher emulator: a pump's start,
stop and heartbeat, what it leaves pending and who takes it, and pumps joining and
leaving while entries flow."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import threading
import time
import uuid
from collections import Counter

import pusher.requests
import pytest
import redis

from emulators.eventsub.messages import notification_body, revocation_body
from scripts.processes import Process, free_port, wait_until
from shared import intake
from shared.shard_count import SHARD_COUNT, ShardCountMismatch
from shared.store import connect, published_key
from tests.worker.support import Watcher

CALLBACK = "http://localhost/api/callback"
SHARDS = 8


@pytest.fixture
def pumps(worker_environment, redis_client, pusher_emulator, monkeypatch):
    """Start pumps by name (``client`` and settings changes optional); every pump still
    running is stopped after the test. Heartbeats come every 50 ms."""
    from worker import pump as pump_module
    from worker.context import redis_client as worker_redis

    monkeypatch.setattr(pump_module, "HEARTBEAT_SECONDS", 0.05)
    started = []

    def start(name, client=None, hand_off=lambda *args: None, **changes):
        settings = dataclasses.replace(worker_environment, **changes)
        pump = pump_module.Pump(client or worker_redis(), settings, name, hand_off)
        pump.start()
        started.append(pump)
        return pump

    yield start
    running = [pump for pump in started if not pump.stopping.is_set()]
    for pump in running:  # their reads end together
        pump.stopping.set()
    for pump in running:
        pump.stop()


@pytest.fixture
def watch(pusher_emulator):
    """A WebSocket watcher of some streamers' channels, closed after the test."""
    watchers = []

    def open_watcher(*logins):
        watchers.append(Watcher(pusher_emulator.port, logins))
        return watchers[-1]

    yield open_watcher
    for watcher in watchers:
        watcher.close()


def send(client, subscription_type, login, broadcaster_id, timestamp, body=None, **fields):
    """Put a notification (or ``body``, a revocation) on the intake as the web does; its
    message id."""
    body = body or notification_body(
        subscription_type, login, CALLBACK, broadcaster_id=broadcaster_id, **fields
    )
    headers = {
        "Twitch-Eventsub-Message-Id": str(uuid.uuid4()),
        "Twitch-Eventsub-Message-Timestamp": timestamp,
        "Twitch-Eventsub-Message-Type": "notification" if "event" in body else "revocation",
    }
    intake.enqueue(client, SHARDS, intake.EVENTSUB, headers, json.dumps(body), broadcaster_id)
    return headers["Twitch-Eventsub-Message-Id"]


def at(second: float) -> str:
    """A Twitch message time ``second`` seconds after noon."""
    return f"2026-01-01T12:{int(second // 60):02d}:{second % 60:06.3f}Z"


def broadcaster_on(shard: int) -> str:
    """A broadcaster id whose messages go to ``shard``."""
    return next(n for n in map(str, range(1000)) if intake.shard_of(n, SHARDS) == shard)


def owners(client) -> list[str | None]:
    """The holder of each shard's lease."""
    return [client.get(intake.owner_key(shard)) for shard in range(SHARDS)]


def pending(client) -> int:
    """Entries read by some pump and not finished."""
    return sum(
        client.xpending(intake.intake_key(shard), intake.GROUP)["pending"]
        for shard in range(SHARDS)
    )


def unfinished(client) -> int:
    """Entries in the intake, read or not."""
    return sum(intake.backlog(client, SHARDS).values())


def test_a_pump_announces_itself_takes_every_shard_and_gives_them_up_on_stop(pumps, redis_client):
    pump = pumps("solo")
    wait_until(lambda: owners(redis_client) == ["solo"] * SHARDS, message="shards not taken")
    first = redis_client.zscore(intake.PUMPS, "solo")
    wait_until(lambda: redis_client.zscore(intake.PUMPS, "solo") > first, message="no heartbeat")
    assert redis_client.get(SHARD_COUNT) == str(SHARDS), "the shard count is noted"
    pump.stop()
    assert owners(redis_client) == [None] * SHARDS
    assert redis_client.zscore(intake.PUMPS, "solo") is None
    assert not any(thread.is_alive() for thread in pump.threads)


def test_a_pump_made_for_another_shard_count_does_not_start(pumps, redis_client):
    redis_client.set(SHARD_COUNT, 4)
    with pytest.raises(ShardCountMismatch):
        pumps("wrong-count")
    assert redis_client.zcard(intake.PUMPS) == 0
    assert owners(redis_client) == [None] * SHARDS


def test_what_a_stopped_pump_held_is_published_once_by_the_next(pumps, watch, redis_client):
    watcher = watch("held_user")
    first = pumps("first", online_order_window_ms=60_000)
    message_id = send(redis_client, "stream.online", "held_user", "61", at(0))
    wait_until(lambda: pending(redis_client) == 1, message="the entry was never read")
    first.stop()  # the online still waits for its window: it stays pending
    assert pending(redis_client) == 1 and watcher.events == []
    started = time.monotonic()
    pumps("next")
    wait_until(lambda: watcher.events, message="the held entry was never published")
    assert time.monotonic() - started < 2, "the stopped pump's leases were released at once"
    wait_until(lambda: unfinished(redis_client) == 0, message="the entry was never finished")
    assert [event["id"] for event in watcher.events] == [message_id]
    assert redis_client.exists(published_key(message_id))


def test_a_killed_pumps_entries_wait_for_its_lease_then_are_published_once(
    pumps, watch, redis_client, monkeypatch
):
    from worker import pump as pump_module
    from worker import shards

    monkeypatch.setattr(shards, "LEASE_SECONDS", 0.6)
    monkeypatch.setattr(pump_module, "READ_COUNT", 2)  # reclaimed two at a time
    watcher = watch("killed_user")
    killed = pumps("killed", event_order_window_ms=60_000)
    sent = [
        send(redis_client, "channel.update", "killed_user", "71", at(n), title=str(n), category="C")
        for n in range(5)
    ]
    wait_until(lambda: pending(redis_client) == 5, message="the entries were never read")
    monkeypatch.setattr(killed.ownership, "leave", lambda: None)  # dies without a word
    killed.stop()
    started = time.monotonic()
    pumps("survivor")
    wait_until(lambda: len(watcher.events) == 5, timeout=3, message="not all were taken over")
    assert time.monotonic() - started >= 0.3, "the killed pump's lease was not respected"
    wait_until(lambda: unfinished(redis_client) == 0, message="the entries were never finished")
    assert [event["id"] for event in watcher.events] == sent
    # The killed pump's other shards follow once its heartbeat is old enough to drop.
    wait_until(lambda: owners(redis_client) == ["survivor"] * SHARDS, message="shards left unowned")


def test_stop_lets_a_publish_in_flight_finish_before_giving_the_shards_up(
    pumps, watch, redis_client, monkeypatch
):
    publishing = threading.Event()
    send_request = pusher.requests.RequestsBackend.send_request

    def slow_pusher(backend, request):
        publishing.set()
        time.sleep(0.3)
        return send_request(backend, request)

    monkeypatch.setattr(pusher.requests.RequestsBackend, "send_request", slow_pusher)
    watcher = watch("slow_user")
    pump = pumps("stopping")
    message_id = send(redis_client, "stream.offline", "slow_user", "75", at(0))
    assert publishing.wait(5), "the event was never published"
    pump.stop()
    assert unfinished(redis_client) == 0, "stopped before its publish ended"
    assert owners(redis_client) == [None] * SHARDS
    wait_until(lambda: watcher.events, message="the event never arrived")
    assert [event["id"] for event in watcher.events] == [message_id]


def test_an_entry_left_pending_by_a_failure_is_offered_again_by_the_sweep(
    pumps, redis_client, monkeypatch
):
    from worker import pump as pump_module

    monkeypatch.setattr(pump_module, "SWEEP_SECONDS", 0.3)
    handed_off = []

    def broker_down_once(revocation, message_id):
        handed_off.append(message_id)
        if len(handed_off) == 1:
            raise ConnectionError("broker down")

    pumps("sweeper", hand_off=broker_down_once)
    revocation = revocation_body("channel.update", "swept_user", CALLBACK, "user_removed")
    message_id = send(redis_client, "", "swept_user", "81", at(0), body=revocation)
    wait_until(lambda: len(handed_off) == 2, timeout=5, message="never offered again")
    wait_until(lambda: unfinished(redis_client) == 0, message="the entry was never finished")
    assert handed_off == [message_id, message_id]


def test_the_sweep_leaves_alone_what_the_pump_holds(pumps, watch, redis_client, monkeypatch):
    from worker import pump as pump_module

    monkeypatch.setattr(pump_module, "SWEEP_SECONDS", 0.05)
    watcher = watch("waiting_user")
    pumps("holder", online_order_window_ms=600)
    message_id = send(redis_client, "stream.online", "waiting_user", "91", at(0))
    wait_until(lambda: watcher.events, message="the online was never published")
    wait_until(lambda: unfinished(redis_client) == 0, message="the entry was never finished")
    time.sleep(0.1)
    assert [event["id"] for event in watcher.events] == [message_id]


def test_a_shard_given_up_is_kept_unread_until_what_is_in_hand_is_published(
    pumps, watch, redis_client
):
    broadcaster_id = broadcaster_on(1)
    stream = intake.intake_key(1)
    watcher = watch("busy_user")
    pumps("pump-a", online_order_window_ms=700)
    online = send(redis_client, "stream.online", "busy_user", broadcaster_id, at(0))
    wait_until(lambda: pending(redis_client) == 1, message="the entry was never read")
    pumps("pump-b")  # wants the odd shards
    wait_until(lambda: owners(redis_client)[3] == "pump-b", message="no shard handed over")
    time.sleep(0.15)  # a read begun before the hand-over has ended
    update = send(
        redis_client, "channel.update", "busy_user", broadcaster_id, at(1), title="T", category="C"
    )
    time.sleep(0.2)
    assert owners(redis_client)[1] == "pump-a", "given up while an event of it was in hand"
    assert redis_client.xlen(stream) == 2 and pending(redis_client) == 1, "read by nobody yet"
    assert watcher.events == []
    wait_until(lambda: len(watcher.events) == 2, message="the events never arrived")
    assert [event["id"] for event in watcher.events] == [online, update]
    assert owners(redis_client)[1] == "pump-b"


@pytest.mark.parametrize("leaving", ["stops", "dies"])
def test_two_pumps_joining_and_leaving_while_entries_flow_publish_each_once_in_order(
    pumps, watch, redis_client, monkeypatch, leaving
):
    from worker import shards

    monkeypatch.setattr(shards, "LEASE_SECONDS", 0.6)
    logins = [f"flow_{n}" for n in range(12)]
    watcher = watch(*logins)
    sent: dict[str, list[str]] = {login: [] for login in logins}

    def feed():
        for n in range(25):
            for number, login in enumerate(logins):
                message_id = send(
                    redis_client,
                    "channel.update",
                    login,
                    str(900 + number),
                    at(n / 10),
                    title=f"{login} {n}",
                    category="C",
                )
                sent[login].append(message_id)
            time.sleep(0.04)

    feeder = threading.Thread(target=feed)
    first = pumps("pump-a")
    feeder.start()
    time.sleep(0.25)
    pumps("pump-b")  # the first gives half of the shards up
    time.sleep(0.25)
    if leaving == "dies":  # without a word: its shards lapse, then are taken over
        monkeypatch.setattr(first.ownership, "leave", lambda: None)
    first.stop()  # the second takes them all
    time.sleep(0.2)
    pumps("pump-c")  # and gives some up again
    feeder.join()
    total = sum(len(ids) for ids in sent.values())
    wait_until(lambda: len(watcher.events) >= total, timeout=20, message="entries lost")
    wait_until(lambda: unfinished(redis_client) == 0, message="entries never finished")
    time.sleep(0.1)  # room for a second copy to arrive
    received: dict[str, list[str]] = {login: [] for login in logins}
    for event in watcher.events:
        received[event["broadcaster"]["login"]].append(event["id"])
    assert received == sent, "every event once, each streamer's in order"


def test_a_pump_rides_out_a_redis_it_cannot_reach(
    pumps, watch, redis_server, redis_client, tmp_path
):
    port = free_port()
    redis_port = int(redis_server.rsplit(":", 1)[1].split("/")[0])
    link = Process(
        "redis-link",
        [sys.executable, "-m", "scripts.latency_link", "--listen", str(port)]
        + ["--to", f"127.0.0.1:{redis_port}", "--rtt-ms", "0"],
        dict(os.environ),
        tmp_path,
        port,
    ).start()
    try:
        watcher = watch("outage_user")
        pumps("outage", client=connect(f"redis://127.0.0.1:{port}/0"))
        wait_until(lambda: owners(redis_client) == ["outage"] * SHARDS, message="not taken")
        link.stop()  # every connection of the pump dropped, new ones refused
        message_id = send(redis_client, "stream.offline", "outage_user", "95", at(0))
        time.sleep(0.3)
        assert watcher.events == []
        back = time.time()
        link.start()
        wait_until(lambda: watcher.events, timeout=5, message="the pump never came back")
        wait_until(
            lambda: redis_client.zscore(intake.PUMPS, "outage") > back, message="no heartbeat"
        )
    finally:
        link.stop()
    assert [event["id"] for event in watcher.events] == [message_id]
    wait_until(lambda: unfinished(redis_client) == 0, message="the entry was never finished")


class SlowAnswers(redis.Redis):
    """A client whose next XREADGROUP answer with entries, once ``delay`` is set, reaches
    the pump that late (a slow link, or a thread the interpreter did not run for a while).
    ``holding`` is set while it waits."""

    delay = 0.0

    def xreadgroup(self, *args, **kwargs):
        answer = super().xreadgroup(*args, **kwargs)
        if answer and self.delay:
            delay, self.delay = self.delay, 0.0
            self.holding.set()
            time.sleep(delay)
        return answer


def test_a_shard_is_not_given_up_while_a_read_of_it_is_on_its_way(
    pumps, watch, redis_server, redis_client
):
    logins = [f"slow_{n}" for n in range(SHARDS)]  # one streamer on each shard
    watcher = watch(*logins)
    slow = SlowAnswers.from_url(redis_server, decode_responses=True)
    slow.holding = threading.Event()
    pumps("pump-a", client=slow)
    wait_until(lambda: owners(redis_client) == ["pump-a"] * SHARDS, message="shards not taken")
    slow.delay = 0.6
    sent = [  # the odd shards, which the second pump will want, first
        send(redis_client, "stream.offline", logins[shard], broadcaster_on(shard), at(0))
        for shard in sorted(range(SHARDS), key=lambda shard: shard % 2 == 0)
    ]
    assert slow.holding.wait(5), "the read never came back"
    pumps("pump-b")
    wait_until(lambda: len(watcher.events) >= len(sent), message="entries lost")
    wait_until(lambda: unfinished(redis_client) == 0, message="entries never finished")
    time.sleep(0.2)
    published = Counter(event["id"] for event in watcher.events)
    assert [message_id for message_id, count in published.items() if count > 1] == []
    assert sorted(published) == sorted(sent)


class RecordedReads(redis.Redis):
    """A client noting each XREADGROUP asking for (``requested_foreign``) or answered with
    (``foreign``) entries of a shard whose lease another pump holds."""

    def xreadgroup(self, groupname, consumername, streams, *args, **kwargs):
        for stream in streams:
            holder = self.get(intake.owner_key(int(stream.rsplit(":", 1)[1])))
            if holder not in (consumername, None):
                self.requested_foreign.append((stream, holder))
        answer = super().xreadgroup(groupname, consumername, streams, *args, **kwargs)
        for stream, _ in answer or []:
            holder = self.get(intake.owner_key(int(stream.rsplit(":", 1)[1])))
            if holder != consumername:
                self.foreign.append((stream, holder))
        return answer


def test_a_read_waiting_in_redis_takes_nothing_from_a_shard_given_up(
    pumps, redis_server, redis_client, monkeypatch
):
    from worker import pump as pump_module

    monkeypatch.setattr(pump_module, "READ_BLOCK_MS", 700)
    recorded = RecordedReads.from_url(redis_server, decode_responses=True)
    recorded.foreign, recorded.requested_foreign = [], []
    pumps("pump-a", client=recorded)
    wait_until(lambda: owners(redis_client) == ["pump-a"] * SHARDS, message="shards not taken")
    send(redis_client, "stream.offline", "even_user", broadcaster_on(0), at(0))
    wait_until(lambda: unfinished(redis_client) == 0, message="the entry was never finished")
    pumps("pump-b")  # the first pump's read now waits on every shard, for 0.7 s
    wait_until(lambda: owners(redis_client)[1] == "pump-b", message="no shard handed over")
    send(redis_client, "stream.offline", "odd_user", broadcaster_on(1), at(0))
    wait_until(lambda: unfinished(redis_client) == 0, message="the entry was never finished")
    assert recorded.foreign == []


class StalledHeartbeat(RecordedReads):
    """A client whose heartbeat thread hangs while ``stalled`` is clear (its connection
    half-open, say, for the client's socket time-out) while reads go on."""

    def pipeline(self, *args, **kwargs):
        if threading.current_thread().name == "pump-heartbeat_loop":
            self.stalled.wait()
        return super().pipeline(*args, **kwargs)


def test_a_pump_that_cannot_renew_its_leases_stops_reading_once_they_lapse(
    pumps, redis_server, redis_client, monkeypatch
):
    from worker import shards

    monkeypatch.setattr(shards, "LEASE_SECONDS", 0.5)
    stalled = StalledHeartbeat.from_url(redis_server, decode_responses=True)
    stalled.foreign, stalled.requested_foreign = [], []
    stalled.stalled = threading.Event()
    stalled.stalled.set()
    pumps("pump-a", client=stalled)
    wait_until(lambda: owners(redis_client) == ["pump-a"] * SHARDS, message="shards not taken")
    stalled.stalled.clear()
    try:
        pumps("pump-b")
        wait_until(lambda: owners(redis_client) == ["pump-b"] * SHARDS, message="no take-over")
        send(redis_client, "stream.offline", "lapsed_user", broadcaster_on(0), at(0))
        wait_until(lambda: unfinished(redis_client) == 0, message="the entry was never finished")
        time.sleep(0.2)
    finally:
        stalled.stalled.set()
    assert stalled.requested_foreign == []
