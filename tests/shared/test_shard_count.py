"""The intake's shard count noted in Redis (shared/shard_count.py), against the test Redis."""

import time

import pytest

from shared import intake
from shared.shard_count import (
    SHARD_COUNT,
    ShardCountMismatch,
    change_shard_count,
    claim_shard_count,
)


def test_the_first_process_notes_the_count_and_the_others_must_match(redis_client):
    claim_shard_count(redis_client, 8)
    claim_shard_count(redis_client, 8)
    assert redis_client.get(SHARD_COUNT) == "8"
    with pytest.raises(ShardCountMismatch, match="INTAKE_SHARDS is 16, but the intake") as error:
        claim_shard_count(redis_client, 16)
    assert "flask intake-shards 16" in str(error.value)
    assert redis_client.get(SHARD_COUNT) == "8"


def test_the_count_changes_only_with_no_worker_running_and_the_intake_empty(redis_client):
    claim_shard_count(redis_client, 8)
    redis_client.zadd(intake.PUMPS, {"pump-a": time.time()})
    with pytest.raises(ValueError, match="1 worker pump"):
        change_shard_count(redis_client, 16)
    redis_client.zadd(intake.PUMPS, {"pump-a": time.time() - 60})  # long gone
    intake.enqueue(redis_client, 8, intake.EVENTSUB, {}, "{}", "7")
    with pytest.raises(ValueError, match="1 entries"):
        change_shard_count(redis_client, 16)
    assert redis_client.get(SHARD_COUNT) == "8"

    redis_client.delete(*[intake.intake_key(shard) for shard in range(8)])
    assert change_shard_count(redis_client, 16) == 8
    claim_shard_count(redis_client, 16)
    with pytest.raises(ShardCountMismatch):
        claim_shard_count(redis_client, 8)
