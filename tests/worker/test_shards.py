"""Shard ownership between pumps, against a real Redis."""

import time

import pytest


@pytest.fixture
def shards(worker_environment, monkeypatch):
    from worker import shards

    monkeypatch.setattr(shards, "LEASE_SECONDS", 0.5)
    return shards


def test_a_lone_pump_owns_every_shard(shards, redis_client):
    alone = shards.ShardOwnership(redis_client, "a", 8)
    assert alone.heartbeat(set()) == frozenset(range(8))
    assert alone.reading() == frozenset(range(8))
    assert alone.heartbeat(set()) == frozenset(), "nothing new on renewal"


def test_a_joining_pump_gets_its_share_once_the_other_lets_go(shards, redis_client):
    first = shards.ShardOwnership(redis_client, "a", 8)
    first.heartbeat(set())
    second = shards.ShardOwnership(redis_client, "b", 8)
    assert second.heartbeat(set()) == frozenset(), "the shards are still held"
    first.heartbeat(busy_shards={1})  # shard 1 still has events in flight
    assert first.reading() == frozenset({0, 2, 4, 6})
    assert second.heartbeat(set()) == frozenset({3, 5, 7})
    first.heartbeat(busy_shards=set())
    assert second.heartbeat(set()) == frozenset({1})
    assert first.owned & second.owned == frozenset()


def test_a_silent_pumps_shards_lapse_and_are_taken_over(shards, redis_client):
    dead = shards.ShardOwnership(redis_client, "a", 4)
    dead.heartbeat(set())
    survivor = shards.ShardOwnership(redis_client, "b", 4)
    survivor.heartbeat(set())
    assert survivor.owned == frozenset()
    time.sleep(0.6)
    survivor.heartbeat(set())
    assert survivor.owned == frozenset(range(4))


def test_leaving_hands_everything_over_at_once(shards, redis_client):
    leaving = shards.ShardOwnership(redis_client, "a", 4)
    leaving.heartbeat(set())
    leaving.leave()
    assert shards.ShardOwnership(redis_client, "b", 4).heartbeat(set()) == frozenset(range(4))
