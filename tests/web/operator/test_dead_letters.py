"""The dead-letters operator commands."""

import json
import re

from shared import intake
from shared.store import add_dead_letter, dead_letters

EVENT = {
    "id": "m1",
    "type": "stream.offline",
    "message": "Cool_User ended the stream",
    "broadcaster": {"id": "1", "login": "cool_user", "name": "Cool_User"},
    "occurred_at": "2026-01-01T00:00:00Z",
}


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
    add_dead_letter(
        redis_client,
        "ingest",
        {"headers": {"Twitch-Eventsub-Message-Id": "x"}, "body": "{}"},
        "unusable",
    )
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
    assert [
        letter["payload"].get("headers", {}).get("Twitch-Eventsub-Message-Id")
        for letter in dead_letters(redis_client)
    ] == [None, "x-2"]
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
    assert missing.exit_code == 2 and "`dead-letters list`, 1, or its" in missing.output
    assert len(dead_letters(redis_client)) == 1


def test_replay_takes_a_snapshot_and_replays_each_letter_once(runner, redis_client, monkeypatch):
    """A worker dead-lettering during the replay adds to the next replay, not this one."""
    import web.operator.dead_letters

    for number in range(3):
        add_dead_letter(redis_client, "publish", {**EVENT, "id": f"old-{number}"}, "why")
    replayed = []

    def replay_while_a_worker_adds(client, letter):
        replayed.append(letter["payload"]["id"])
        if len(replayed) <= 3:  # (bounded, so that a replay without a snapshot ends too)
            add_dead_letter(redis_client, "publish", {**EVENT, "id": f"new-{len(replayed)}"}, "why")

    monkeypatch.setattr(web.operator.dead_letters, "replay", replay_while_a_worker_adds)
    result = runner.invoke(args=["dead-letters", "replay"])
    assert result.exit_code == 0 and "replayed 3 dead letter(s)" in result.output
    assert replayed == ["old-0", "old-1", "old-2"]
    assert [letter["payload"]["id"] for letter in dead_letters(redis_client)] == [
        "new-1",
        "new-2",
        "new-3",
    ]


def test_a_letter_that_cannot_be_queued_goes_back_with_the_rest_in_order(
    runner, redis_client, monkeypatch
):
    import web.operator.dead_letters

    for number in range(4):
        add_dead_letter(redis_client, "publish", {**EVENT, "id": f"old-{number}"}, "why")
    calls = []

    def failing_on_the_second(client, letter):
        calls.append(letter["payload"]["id"])
        add_dead_letter(redis_client, "publish", {**EVENT, "id": f"new-{len(calls)}"}, "why")
        if len(calls) == 2:
            raise ConnectionError("broker down")

    monkeypatch.setattr(web.operator.dead_letters, "replay", failing_on_the_second)
    result = runner.invoke(args=["dead-letters", "replay"])
    assert result.exit_code == 1 and "the other 3 dead letter(s) were kept" in result.output
    assert [letter["payload"]["id"] for letter in dead_letters(redis_client)] == [
        "old-1",
        "old-2",
        "old-3",
        "new-1",
        "new-2",
    ]


def test_an_interrupted_replay_is_finished_by_the_next(runner, redis_client):
    from shared.store import DEAD_LETTERS_REPLAYING

    add_dead_letter(redis_client, "publish", EVENT, "why")
    redis_client.rename("sev:dead-letters", DEAD_LETTERS_REPLAYING)  # killed mid-replay
    add_dead_letter(redis_client, "publish", {**EVENT, "id": "m2"}, "why")
    listed = runner.invoke(args=["dead-letters", "list"])
    assert "1 more wait from an interrupted replay" in listed.output
    result = runner.invoke(args=["dead-letters", "replay"])
    assert "finishing an interrupted replay: 1" in result.output
    assert "replayed 1 dead letter(s)" in result.output
    assert [letter["payload"]["id"] for letter in dead_letters(redis_client)] == ["m2"]
    assert (
        runner.invoke(args=["dead-letters", "replay"]).output.strip() == "replayed 1 dead letter(s)"
    )


def test_list_shows_twitch_text_without_obeying_its_control_characters(runner, redis_client):
    hostile = {
        **EVENT,
        "message": "Cool_User went live: \x1b[2J\x1b]0;pwned\x07 \u202eevil",
        "broadcaster": {**EVENT["broadcaster"], "login": "cool\ruser"},
    }
    add_dead_letter(redis_client, "publish", hostile, "refused: \x1b[31mred\x1b[0m\nfake line")
    result = runner.invoke(args=["dead-letters", "list"])
    [line] = result.stdout.splitlines()
    for dangerous in ("\x1b", "\x07", "\r", "\u202e"):
        assert dangerous not in result.output
    assert "\\x1b[2J\\x1b]0;pwned\\x07 \\u202eevil" in line
    assert "cool\\ruser" in line and "\\x1b[31mred\\x1b[0m\\nfake line" in line
    as_json = json.loads(runner.invoke(args=["dead-letters", "list", "--json"]).output)
    assert as_json["payload"] == hostile


def test_list_and_queues_count_the_letters_dropped_at_the_cap(runner, redis_client):
    from shared.store import DEAD_LETTERS_DROPPED

    add_dead_letter(redis_client, "publish", EVENT, "why")
    redis_client.set(DEAD_LETTERS_DROPPED, 7)
    result = runner.invoke(args=["dead-letters", "list"])
    assert (
        "1 dead letter(s); 7 older one(s) dropped, as only the newest 10000 are kept"
        in result.output
    )
    report = json.loads(runner.invoke(args=["queues", "--json"]).output)
    assert report["dead_letters"]["dropped"] == 7
    table = runner.invoke(args=["queues"]).output
    assert re.search(r"dropped \(over the cap\)\s+7", table)


def test_a_dead_letter_named_when_there_are_none_says_there_are_none(runner, redis_client):
    for command in ("replay", "delete"):
        missing = runner.invoke(args=["dead-letters", command, "1"])
        assert missing.exit_code == 2
        assert "no dead letter '1' (there are none)" in missing.output
        assert "1 to 0" not in missing.output


def test_a_dead_letter_out_of_range_is_answered_with_the_numbers_there_are(runner, redis_client):
    for number in (1, 2):
        add_dead_letter(redis_client, "ingest", ingest_letter(f"x-{number}"), "broken")
    missing = runner.invoke(args=["dead-letters", "replay", "3"])
    assert missing.exit_code == 2 and "`dead-letters list`, 1 to 2, or its" in missing.output


def test_every_operator_commands_help_is_plain_text(app, runner):
    groups = [("", app.cli)]
    helps = []
    while groups:
        path, group = groups.pop()
        for name, command in group.commands.items():
            if name in ("run", "shell", "routes"):  # Flask's own
                continue
            args = [*path.split(), name]
            helps.append(runner.invoke(args=[*args, "--help"]).output)
            if hasattr(command, "commands"):
                groups.append((" ".join(args), command))
    assert len(helps) >= 9  # dead-letters (3), leases (3), queues, revocations, the groups
    for text in helps:
        assert "``" not in text, text
