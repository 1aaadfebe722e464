"""The intake's writer on the event loop (web/intake/writer.py), against a real Redis."""

import asyncio

import pytest
import redis
import redis.asyncio

from shared import intake
from shared.store import connect_async
from tests.support import free_port, run_async
from web.intake.writer import IntakeWriter


def run_with_writer(redis_url: str, work, client_name: str | None = None):
    """Run ``work(writer)`` on a fresh loop with a writer of 8 shards (its Redis
    connections named ``client_name``, if given); its result."""

    async def main():
        client = connect_async(redis_url)
        if client_name:
            client = redis.asyncio.Redis.from_url(
                redis_url, decode_responses=True, client_name=client_name
            )
        writer = IntakeWriter(client, 8)
        try:
            return await work(writer)
        finally:
            await writer.close()

    return run_async(main())


def test_appends_that_arrive_together_all_land_over_one_connection(settings, redis_client):
    async def work(writer):
        appends = (
            writer.append("eventsub", {"n": str(n)}, f"body {n}".encode(), str(n))
            for n in range(50)
        )
        ids = await asyncio.gather(*appends)
        appenders = [c for c in redis_client.client_list() if c["name"] == "writer-under-test"]
        return ids, len(appenders)

    ids, appending_connections = run_with_writer(settings.redis_url, work, "writer-under-test")
    # Entry ids are a stream's own: the same id can stand in two shards.
    waiting = {(entry["stream"], entry["id"]): entry for entry in intake.waiting(redis_client, 8)}
    assert len(waiting) == 50
    for n, entry_id in enumerate(ids):
        entry = waiting[(intake.intake_key(intake.shard_of(str(n), 8)), entry_id)]
        assert entry["body"] == f"body {n}" and entry["headers"] == {"n": str(n)}
    assert appending_connections == 1, "one round trip at a time, one connection"


def test_a_lone_append_is_sent_at_once(settings, redis_client):
    async def work(writer):
        return await asyncio.wait_for(writer.append("eventsub", {}, b"alone", "7"), 1)

    entry_id = run_with_writer(settings.redis_url, work)
    assert [entry["id"] for entry in intake.waiting(redis_client, 8)] == [entry_id]


def test_when_redis_is_gone_every_waiting_append_fails():
    async def work(writer):
        return await asyncio.gather(
            *(writer.append("eventsub", {}, b"x", str(n)) for n in range(5)),
            return_exceptions=True,
        )

    answers = run_with_writer(f"redis://127.0.0.1:{free_port()}/0", work)
    assert all(isinstance(answer, redis.ConnectionError) for answer in answers)


def test_an_append_whose_request_went_away_does_not_hold_up_the_others(settings, redis_client):
    async def work(writer):
        abandoned = asyncio.create_task(writer.append("eventsub", {}, b"abandoned", "1"))
        kept = asyncio.create_task(writer.append("eventsub", {}, b"kept", "2"))
        await asyncio.sleep(0)
        abandoned.cancel()
        return await kept

    entry_id = run_with_writer(settings.redis_url, work)
    assert entry_id in [entry["id"] for entry in intake.waiting(redis_client, 8)]


@pytest.mark.parametrize("body", [b"plain", "ünïcode".encode()])
def test_the_body_is_kept_as_sent(settings, redis_client, body):
    run_with_writer(settings.redis_url, lambda writer: writer.append("eventsub", {}, body, "1"))
    [entry] = intake.waiting(redis_client, 8)
    assert entry["body"].encode() == body


def test_an_append_no_replica_confirms_fails_and_says_why(redis_server):
    """The test Redis has no replica: waiting for one must fail the append (the web
    answers 503 then, so Twitch sends the message again)."""

    async def main():
        waiting = IntakeWriter(connect_async(redis_server), 8, replicas=1, replica_timeout_ms=50)
        not_waiting = IntakeWriter(connect_async(redis_server), 8)
        try:
            with pytest.raises(intake.ReplicasBehind, match="0 of 1 replicas"):
                await waiting.append("eventsub", {}, b"body", "42")
            return await not_waiting.append("eventsub", {}, b"body", "42")
        finally:
            await waiting.close()
            await not_waiting.close()

    assert run_async(main())
