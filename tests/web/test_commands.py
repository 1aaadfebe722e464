"""The dead-letters operator commands."""

import json
import re

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


def ingest_letter(message_id):
    return {"headers": {"Twitch-Eventsub-Message-Id": message_id}, "body": "{}"}


def test_list_as_json_prints_nothing_but_json(runner, redis_client):
    assert runner.invoke(args=["dead-letters", "list", "--json"]).output == ""
    add_dead_letter(redis_client, "publish", EVENT, "why")
    result = runner.invoke(args=["dead-letters", "list", "--json"])
    [line] = result.output.splitlines()
    letter = json.loads(line)
    assert letter["number"] == 1 and letter["id"] == "m1"


def test_failed_at_is_shown_as_a_utc_time(runner, redis_client):
    add_dead_letter(redis_client, "publish", EVENT, "why")
    iso_utc = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    letter = json.loads(runner.invoke(args=["dead-letters", "list", "--json"]).output)
    assert iso_utc.fullmatch(letter["failed_at"])
    [line] = runner.invoke(args=["dead-letters", "list"]).stdout.splitlines()
    assert line.startswith("1\t") and iso_utc.search(line)


def test_one_dead_letter_is_replayed_by_number_or_id(runner, redis_client):
    add_dead_letter(redis_client, "publish", EVENT, "why")
    add_dead_letter(redis_client, "ingest", ingest_letter("x-1"), "unusable")
    add_dead_letter(redis_client, "ingest", ingest_letter("x-2"), "unusable")
    result = runner.invoke(args=["dead-letters", "replay", "2"])
    assert result.exit_code == 0, result.output
    assert [letter["payload"].get("headers", {}).get("Twitch-Eventsub-Message-Id")
            for letter in dead_letters(redis_client)] == [None, "x-2"]
    assert sum(intake.backlog(redis_client, 8).values()) == 1
    assert runner.invoke(args=["dead-letters", "replay", "m1"]).exit_code == 0
    assert redis_client.llen("publish") == 1
    assert [letter["reason"] for letter in dead_letters(redis_client)] == ["unusable"]


def test_one_dead_letter_is_deleted(runner, redis_client):
    add_dead_letter(redis_client, "ingest", ingest_letter("x-1"), "first")
    add_dead_letter(redis_client, "ingest", ingest_letter("x-2"), "second")
    assert runner.invoke(args=["dead-letters", "delete", "x-1"]).exit_code == 0
    assert [letter["reason"] for letter in dead_letters(redis_client)] == ["second"]
    missing = runner.invoke(args=["dead-letters", "delete", "7"])
    assert missing.exit_code == 2 and "1 to 1" in missing.output
    assert len(dead_letters(redis_client)) == 1
