"""ShardOwnership's contracts, one at a time and with several pumps, against a real Redis:
who wants which shard, leases taken, renewed, kept while busy, released, lapsed."""

import random
import time

import pytest

from shared.intake import PUMPS, owner_key


@pytest.fixture
def shards(worker_environment):
    from worker import shards

    return shards


def test_the_live_pumps_sorted_by_name_split_the_shards_by_remainder(shards, redis_client):
    pumps = [shards.ShardOwnership(redis_client, name, 8) for name in ("c", "a", "b")]
    for pump in pumps:
        pump.heartbeat(set())
    for _ in range(2):  # the first comer gives up what the others want; then they take it
        for pump in pumps:
            pump.heartbeat(set())
    owned = {pump.name: pump.owned for pump in pumps}
    assert owned == {
        "a": frozenset({0, 3, 6}),
        "b": frozenset({1, 4, 7}),
        "c": frozenset({2, 5}),
    }
    for pump in pumps:
        assert pump.reading() == pump.owned == pump.wanted
        for shard in pump.owned:
            assert redis_client.get(owner_key(shard)) == pump.name


def test_a_lease_lasts_lease_seconds_and_each_heartbeat_renews_it(shards, redis_client):
    pump = shards.ShardOwnership(redis_client, "a", 2)
    pump.heartbeat(set())
    lease_ms = shards.LEASE_SECONDS * 1000
    assert lease_ms - 200 < redis_client.pttl(owner_key(0)) <= lease_ms
    redis_client.pexpire(owner_key(0), 300)
    redis_client.zadd(PUMPS, {"a": time.time() - 60})
    assert pump.heartbeat(set()) == frozenset(), "a renewal gains nothing"
    assert redis_client.pttl(owner_key(0)) > lease_ms - 200
    assert redis_client.zscore(PUMPS, "a") > time.time() - 5, "the heartbeat is announced"


def test_a_shard_held_by_another_is_not_taken_even_when_wanted(shards, redis_client):
    redis_client.set(owner_key(0), "other", px=5000)
    pump = shards.ShardOwnership(redis_client, "a", 2)
    assert pump.heartbeat(set()) == frozenset({1})
    assert pump.wanted == frozenset({0, 1}), "alone, it wants both"
    assert pump.reading() == frozenset({1})
    assert redis_client.get(owner_key(0)) == "other"


def test_pumps_silent_for_a_lease_are_forgotten(shards, redis_client):
    redis_client.zadd(PUMPS, {"0-gone": time.time() - shards.LEASE_SECONDS - 1})
    redis_client.zadd(PUMPS, {"0-live": time.time()})
    pump = shards.ShardOwnership(redis_client, "a", 4)
    pump.heartbeat(set())
    assert redis_client.zrange(PUMPS, 0, -1) == ["0-live", "a"]
    assert pump.wanted == frozenset({1, 3}), "split with the live pump alone"


def test_a_busy_shard_is_kept_and_renewed_but_not_read(shards, redis_client):
    first = shards.ShardOwnership(redis_client, "a", 4)
    first.heartbeat(set())
    shards.ShardOwnership(redis_client, "b", 4).heartbeat(set())
    redis_client.pexpire(owner_key(1), 300)
    first.heartbeat(busy_shards={1, 2})
    assert first.owned == frozenset({0, 1, 2})
    assert first.reading() == frozenset({0, 2}), "shard 1 is given up: no new entries"
    assert redis_client.get(owner_key(1)) == "a"
    assert redis_client.pttl(owner_key(1)) > 1000, "a busy shard's lease is renewed"
    assert not redis_client.exists(owner_key(3)), "shard 3 was idle: released at once"


def test_a_pump_whose_lease_was_taken_stops_reading_and_never_deletes_the_new_lease(
    shards, redis_client
):
    paused = shards.ShardOwnership(redis_client, "b", 2)
    paused.heartbeat(set())
    redis_client.delete(*(owner_key(shard) for shard in range(2)))  # lapsed while it slept
    redis_client.zrem(PUMPS, "b")
    survivor = shards.ShardOwnership(redis_client, "a", 2)
    assert survivor.heartbeat(set()) == frozenset({0, 1})
    paused.heartbeat(set())  # wakes up: wants shard 1 again, which "a" holds
    assert paused.owned == frozenset()
    assert paused.reading() == frozenset()
    assert redis_client.get(owner_key(1)) == "a"
    paused.leave()
    assert [redis_client.get(owner_key(shard)) for shard in range(2)] == ["a", "a"]


def test_leaving_releases_only_its_own_leases_and_its_heartbeat(shards, redis_client):
    leaving = shards.ShardOwnership(redis_client, "a", 4)
    leaving.heartbeat(set())
    redis_client.set(owner_key(3), "b")  # lapsed and taken by another meanwhile
    leaving.leave()
    assert leaving.owned == frozenset()
    assert redis_client.zscore(PUMPS, "a") is None
    assert [redis_client.get(owner_key(shard)) for shard in range(4)] == [None, None, None, "b"]


def test_leases_are_never_shared_while_pumps_come_go_and_stay_busy(shards, redis_client):
    rounds = random.Random(22)
    names = ["a", "b", "c"]
    pumps: dict = {}
    for _ in range(300):
        name = rounds.choice(names)
        if name in pumps and rounds.random() < 0.1:
            pumps.pop(name).leave()
            continue
        pump = pumps.setdefault(name, shards.ShardOwnership(redis_client, name, 8))
        pump.heartbeat({shard for shard in pump.owned if rounds.random() < 0.3})
        owners = [shard for pump in pumps.values() for shard in pump.owned]
        assert len(owners) == len(set(owners)), "two pumps own one shard"
        for other in pumps.values():
            for shard in other.owned:
                assert redis_client.get(owner_key(shard)) == other.name
    for _ in range(2):  # nothing busy any more: the split settles
        for pump in pumps.values():
            pump.heartbeat(set())
    owned = sorted(shard for pump in pumps.values() for shard in pump.reading())
    assert owned == list(range(8)), "every shard is read by exactly one pump"
