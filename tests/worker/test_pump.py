"""The pump in this process: real Redis, the Pusher emulator and a WebSocket client."""

import base64
import dataclasses
import json
import time

import pytest

from scripts.processes import wait_until
from shared import intake
from shared.store import published_key
from tests.worker.support import Watcher, send


@pytest.fixture
def pump(worker_environment, redis_client, pusher_emulator, monkeypatch):
    """A running pump (its hand-offs of revocations recorded), stopped after the test."""
    from worker.context import redis_client as worker_redis
    from worker.pump import Pump

    pumps = []

    def start(name="test-pump", **changes):
        settings = dataclasses.replace(worker_environment, **changes)
        pump = Pump(worker_redis(), settings, name, lambda *args: None)
        pump.start()
        pumps.append(pump)
        return pump

    yield start
    for pump in pumps:
        pump.stop()


@pytest.fixture
def watch(pusher_emulator):
    watchers = []

    def open_watcher(*logins):
        watcher = Watcher(pusher_emulator.port, logins)
        watchers.append(watcher)
        return watcher

    yield open_watcher
    for watcher in watchers:
        watcher.close()


def test_an_update_sent_before_an_online_is_published_first_and_names_the_title(
    pump, watch, redis_client
):
    watcher = watch("order_user")
    online = send(
        redis_client, "stream.online", "order_user", "2026-01-01T12:00:01.000Z", broadcaster_id="31"
    )
    pump(online_order_window_ms=300)
    time.sleep(0.1)  # the update reaches us after the online, within its window
    update = send(
        redis_client,
        "channel.update",
        "order_user",
        "2026-01-01T12:00:00.900Z",
        broadcaster_id="31",
        title="New Title",
        category="Chess",
    )
    wait_until(lambda: len(watcher.events) == 2, message="both events never arrived")
    assert [event["id"] for event in watcher.events] == [update, online]
    assert watcher.events[1]["message"] == "order_user went live: New Title (Chess)"
    wait_until(
        lambda: sum(intake.backlog(redis_client, 8).values()) == 0,
        message="the entries were never finished",
    )
    assert redis_client.exists(published_key(online))


def test_a_burst_over_many_broadcasters_arrives_once_each(pump, watch, redis_client):
    logins = [f"burst_{n}" for n in range(20)]
    watcher = watch(*logins)
    pump()
    sent = [
        send(
            redis_client,
            "channel.update",
            login,
            f"2026-01-01T12:00:{n % 60:02d}.000Z",
            broadcaster_id=str(1000 + n % 20),
            title=f"T{n}",
            category="C",
        )
        for n, login in enumerate(logins * 10)
    ]
    wait_until(
        lambda: len(watcher.events) >= len(sent),
        timeout=20,
        message="the burst never arrived whole",
    )
    assert sorted(event["id"] for event in watcher.events) == sorted(sent)


def test_a_dead_pumps_shards_and_pending_entries_are_taken_over(
    pump, watch, redis_client, monkeypatch
):
    from worker import shards

    watcher = watch("orphan_user")
    message_id = send(
        redis_client, "stream.offline", "orphan_user", "2026-01-01T12:00:00Z", broadcaster_id="41"
    )
    intake.ensure_groups(redis_client, 8)
    for shard in range(8):  # a pump that read the entry, held every shard, then died
        redis_client.xreadgroup(intake.GROUP, "dead-pump", {intake.intake_key(shard): ">"})
        redis_client.set(shards.owner_key(shard), "dead-pump", px=1500)
    redis_client.zadd(shards.PUMPS, {"dead-pump": time.time()})
    monkeypatch.setattr(shards, "LEASE_SECONDS", 1.0)
    monkeypatch.setattr(shards, "HEARTBEAT_SECONDS", 0.2)
    started = time.monotonic()
    pump()
    wait_until(lambda: watcher.events, timeout=10, message="the orphaned entry never arrived")
    assert watcher.events[0]["id"] == message_id
    assert time.monotonic() - started >= 1.0, "the dead pump's lease was not respected"


def test_events_pusher_cannot_take_are_handed_to_the_retry_queue(
    pump, redis_client, pusher_emulator
):
    pusher_emulator.stop()
    try:
        message_id = send(
            redis_client,
            "stream.offline",
            "retry_user",
            "2026-01-01T12:00:00Z",
            broadcaster_id="51",
        )
        pump()
        wait_until(
            lambda: redis_client.llen("publish") == 1,
            timeout=15,
            message="the failed publish was never queued for retry",
        )
    finally:
        pusher_emulator.start()
    [message] = [json.loads(m) for m in redis_client.lrange("publish", 0, -1)]
    assert message["headers"]["task"] == "publish.stream_event"
    [(event,), _, _] = json.loads(base64.b64decode(message["body"]))
    assert event["id"] == message_id, "the event travels with its retry"
    wait_until(
        lambda: sum(intake.backlog(redis_client, 8).values()) == 0,
        message="the entry stayed in the intake after its retry was queued",
    )
    assert not redis_client.exists(published_key(message_id))


def test_a_pump_whose_redis_lost_the_intake_makes_it_again_and_goes_on(pump, watch, redis_client):
    watcher = watch("lost_user")
    pump()
    wait_until(lambda: redis_client.exists(intake.owner_key(0)), message="shards not taken")
    redis_client.flushall()  # a Redis restarted without its data
    message_id = send(
        redis_client, "stream.offline", "lost_user", "2026-01-01T12:00:00Z", broadcaster_id="61"
    )
    wait_until(lambda: watcher.events, timeout=5, message="the pump never read again")
    assert [event["id"] for event in watcher.events] == [message_id]
    wait_until(
        lambda: sum(intake.backlog(redis_client, 8).values()) == 0,
        message="the entry was never finished",
    )


def test_a_pump_holding_its_most_events_leaves_the_rest_in_redis(pump, redis_client, monkeypatch):
    from worker import pump as pump_module

    monkeypatch.setattr(pump_module, "MAX_HELD", 3)
    monkeypatch.setattr(pump_module, "READ_COUNT", 1)
    for n in range(6):
        send(
            redis_client,
            "channel.update",
            "held_user",
            f"2026-01-01T12:00:0{n}Z",
            broadcaster_id="71",
            title=f"T{n}",
            category="C",
        )
    pump(event_order_window_ms=60_000)  # nothing leaves: all it reads stays held
    stream = intake.intake_key(intake.shard_of("71", 8))
    wait_until(
        lambda: redis_client.xpending(stream, intake.GROUP)["pending"] == 3,
        message="the pump never read",
    )
    time.sleep(0.3)
    assert redis_client.xpending(stream, intake.GROUP)["pending"] == 3, "read past what it may hold"
    assert redis_client.xlen(stream) == 6
