"""The intake streams, against a real Redis."""

import json

import pytest

from emulators.eventsub.messages import notification_body
from shared import intake


def test_the_partition_key_is_the_broadcaster_id_without_parsing_the_body():
    body = b'{"subscription":{"condition":{"broadcaster_user_id":"1337"}},"event":{}}'
    assert intake.eventsub_partition_key(body) == "1337"
    raid = b'{"condition": {"from_broadcaster_user_id" : "42"}}'
    assert intake.eventsub_partition_key(raid) == "42"
    assert intake.eventsub_partition_key(b"[1, 2, 3]") == ""
    assert intake.eventsub_partition_key(b'{"broadcaster_user_id": 1337}') == "", "ids are strings"


def test_a_raid_lands_on_the_raiding_broadcasters_shard():
    raid = notification_body(
        "channel.raid",
        "cool_user",
        "http://localhost/api/callback",
        broadcaster_id="1337",
        raided={"login": "night_owl", "id": "4242"},
        viewers=1234,
    )
    online = notification_body(
        "stream.online", "cool_user", "http://localhost/api/callback", broadcaster_id="1337"
    )
    for body in (raid, {"event": dict(reversed(raid["event"].items()))}):
        raw = json.dumps(body).encode()
        assert intake.eventsub_partition_key(raw) == "1337", raw
    raid_shard = intake.shard_of(intake.eventsub_partition_key(json.dumps(raid).encode()), 8)
    online_shard = intake.shard_of(intake.eventsub_partition_key(json.dumps(online).encode()), 8)
    assert raid_shard == online_shard


def test_one_broadcaster_always_lands_on_one_shard_and_all_shards_are_used():
    assert len({intake.shard_of("1337", 8) for _ in range(5)}) == 1
    assert {intake.shard_of(str(n), 8) for n in range(200)} == set(range(8))


def test_enqueued_messages_wait_until_finished(redis_client):
    intake.ensure_groups(redis_client, 4)
    intake.ensure_groups(redis_client, 4)  # twice is harmless
    entry_id = intake.enqueue(
        redis_client, 4, intake.EVENTSUB, {"Twitch-Eventsub-Message-Id": "m"}, "{}", "1337"
    )
    [waiting] = intake.waiting(redis_client, 4)
    assert waiting["id"] == entry_id and waiting["headers"] == {"Twitch-Eventsub-Message-Id": "m"}
    assert sum(intake.backlog(redis_client, 4).values()) == 1
    stream = intake.intake_key(intake.shard_of("1337", 4))
    redis_client.xreadgroup(intake.GROUP, "pump-a", {stream: ">"})
    with redis_client.pipeline() as pipe:
        intake.queue_finish(pipe, [(stream, entry_id)])
        pipe.execute()
    assert (
        intake.waiting(redis_client, 4) == [] and sum(intake.backlog(redis_client, 4).values()) == 0
    )
    assert redis_client.xpending(stream, intake.GROUP)["pending"] == 0


def test_an_append_waits_for_replicas_when_asked(redis_client):
    """The test Redis has no replica: with one asked for, the append is reported as not
    safely queued; with none asked for, it is queued."""
    with pytest.raises(intake.ReplicasBehind, match="0 of 1 replicas"):
        intake.enqueue(redis_client, 8, intake.WEBSUB, {}, "body", "7", 1, 50)
    assert intake.enqueue(redis_client, 8, intake.WEBSUB, {}, "body", "7", 0)
