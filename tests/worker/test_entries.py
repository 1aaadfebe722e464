"""Intake entries as the worker reads them: from a stream's fields, their Twitch headers,
their type for the metrics and a dead letter's reason."""

import json

import pytest


@pytest.fixture
def entries(worker_environment):
    """The module (the worker package reads its settings on first import)."""
    from worker import entries

    return entries


def fields(headers, kind="eventsub", body="{}"):
    return {"kind": kind, "headers": json.dumps(headers), "body": body}


def test_an_entry_keeps_its_stream_id_kind_headers_and_body(entries):
    headers = {
        "Twitch-Eventsub-Message-Id": "m-1",
        "Twitch-Eventsub-Message-Timestamp": "2026-01-01T12:00:00Z",
    }
    entry = entries.Entry.from_fields("sev:intake:3", "5-0", fields(headers, body='{"a": 1}'))
    assert (entry.stream, entry.entry_id, entry.kind, entry.body) == (
        "sev:intake:3",
        "5-0",
        "eventsub",
        '{"a": 1}',
    )
    assert entry.headers == headers and entry.redelivered is False
    assert entry.message_id == "m-1" and entry.timestamp == "2026-01-01T12:00:00Z"
    again = entries.Entry.from_fields("sev:intake:3", "5-0", fields(headers), redelivered=True)
    assert again.redelivered is True


def test_a_websub_entry_has_its_notification_id_and_time(entries):
    from shared.websub import NOTIFICATION_ID, NOTIFICATION_TIMESTAMP

    headers = {NOTIFICATION_ID: "w-1", NOTIFICATION_TIMESTAMP: "2026-01-01T12:00:00Z"}
    entry = entries.Entry.from_fields("sev:intake:0", "6-0", fields(headers, kind="websub"))
    assert entry.message_id == "w-1" and entry.timestamp == "2026-01-01T12:00:00Z"


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '"text"', None])
def test_headers_that_are_not_an_object_count_as_none(entries, raw):
    entry = entries.Entry.from_fields("sev:intake:0", "7-0", {"headers": raw, "body": "x"})
    assert entry.headers == {} and entry.kind == ""
    assert entry.message_id == "7-0", "without a message id, the entry's id stands for it"
    assert entry.timestamp == ""


def test_an_entrys_type_is_its_events_else_its_subscriptions(entries):
    entry = entries.Entry.from_fields(
        "sev:intake:0", "8-0", fields({"Twitch-Eventsub-Subscription-Type": "channel.update"})
    )
    assert entries.entry_type(entry) == "channel.update"
    assert entries.entry_type(entry, {"type": "stream.online"}) == "stream.online"
    assert entries.entry_type(entries.Entry.from_fields("s", "9-0", fields({}))) == ""


def test_a_dead_letters_reason_says_what_went_wrong_briefly(entries):
    assert entries.describe_error(KeyError("event")) == "missing 'event'"
    assert entries.describe_error(RecursionError()) == "nested too deeply"
    assert entries.describe_error(ValueError()) == "ValueError"
    assert entries.describe_error(ValueError("x" * 1000)) == "x" * 300
