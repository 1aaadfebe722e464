"""The dead-letters operator command."""

import json

from shared import intake
from shared.store import add_dead_letter, dead_letters

EVENT = {"id": "m1", "type": "stream.offline", "message": "Cool_User ended the stream",
         "broadcaster": {"id": "1", "login": "cool_user", "name": "Cool_User"},
         "occurred_at": "2026-01-01T00:00:00Z"}


def test_list_shows_each_dead_letter_with_its_reason(runner, redis_client):
    add_dead_letter(redis_client, "publish", EVENT, "gave up after 9 attempts: timed out")
    result = runner.invoke(args=["dead-letters", "list"])
    assert result.exit_code == 0
    assert "stream.offline cool_user: Cool_User ended the stream" in result.output
    assert "gave up after 9 attempts: timed out" in result.output
    assert "1 dead letter(s)" in result.output


def test_list_as_json(runner, redis_client):
    add_dead_letter(redis_client, "publish", EVENT, "why")
    result = runner.invoke(args=["dead-letters", "list", "--json"])
    assert json.loads(result.output.splitlines()[0])["payload"] == EVENT


def test_replay_queues_each_again_and_empties_the_list(runner, redis_client):
    add_dead_letter(redis_client, "publish", EVENT, "why")
    add_dead_letter(redis_client, "ingest", {"headers": {"Twitch-Eventsub-Message-Id": "x"},
                                             "body": "{}"}, "unusable")
    result = runner.invoke(args=["dead-letters", "replay"])
    assert result.exit_code == 0 and "replayed 2" in result.output
    assert dead_letters(redis_client) == []
    assert redis_client.llen("publish") == 1
    assert sum(intake.backlog(redis_client, 8).values()) == 1, "the message is back in the intake"
