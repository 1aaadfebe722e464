"""Claims of ingested messages, against a real Redis: what each kind of event claims, and
a batch's verdicts in one pipeline."""

import json
import uuid

import pytest

from emulators.eventsub.messages import notification_body
from shared.events import event_or_revocation
from shared.store import (
    CLAIMED,
    DUPLICATE_MESSAGE,
    DUPLICATE_STREAM,
    channel_state,
    seen_message_key,
    seen_stream_key,
)

CALLBACK = "http://localhost/api/callback"
TIMESTAMP = "2026-01-01T12:00:00.5Z"


@pytest.fixture
def claims(worker_environment):
    """The module (the worker package reads its settings on first import)."""
    from worker import claims

    return claims


def message(subscription_type, entry_id="1-0", message_id=None, timestamp=TIMESTAMP, **fields):
    """An intake entry of a notification and its event."""
    from worker.entries import Entry

    headers = {
        "Twitch-Eventsub-Message-Id": message_id or str(uuid.uuid4()),
        "Twitch-Eventsub-Message-Timestamp": timestamp,
        "Twitch-Eventsub-Message-Type": "notification",
    }
    body = notification_body(subscription_type, "cool_user", CALLBACK, broadcaster_id="7", **fields)
    entry = Entry("sev:intake:0", entry_id, "eventsub", headers, json.dumps(body))
    event, _ = event_or_revocation(body, headers)
    return entry, event


def claim(claims, entry, event):
    """A claim as the ingest makes it."""
    return entry, event, None, claims.claim_arguments(entry, event)


def test_an_offline_claims_its_message_alone(claims):
    entry, event = message("stream.offline", message_id="m-1")
    assert claims.claim_arguments(entry, event) == (seen_message_key("m-1"), None, None)


def test_a_revocation_claims_its_message_alone(claims):
    entry, _ = message("stream.offline", message_id="m-2")
    assert claims.claim_arguments(entry, None) == (seen_message_key("m-2"), None, None)


def test_an_online_claims_its_stream_too(claims):
    entry, event = message("stream.online", message_id="m-3", stream_id="555")
    assert claims.claim_arguments(entry, event) == (
        seen_message_key("m-3"),
        seen_stream_key("555"),
        None,
    )
    event["stream_id"] = ""
    assert claims.claim_arguments(entry, event)[1] is None, "no stream named: none claimed"


def test_an_update_records_its_title_and_category_as_of_twitchs_time(claims):
    entry, event = message("channel.update", title="Chess night", category="Chess")
    _, _, state = claims.claim_arguments(entry, event)
    assert state == ("7", "2026-01-01T12:00:00.500000000Z", "Chess night", "Chess")
    entry.headers.pop("Twitch-Eventsub-Message-Timestamp")
    event["occurred_at"] = "2026-01-01T13:00:00Z"
    assert claims.claim_arguments(entry, event)[2][1] == "2026-01-01T13:00:00.000000000Z", (
        "without the header, the event's time"
    )


def test_an_update_with_a_malformed_time_cannot_be_claimed(claims):
    entry, event = message("channel.update", title="T")
    entry.headers["Twitch-Eventsub-Message-Timestamp"] = "yesterday"
    with pytest.raises(ValueError):
        claims.claim_arguments(entry, event)


def test_a_batchs_verdicts_come_in_order(claims, redis_client):
    first = message("stream.online", "1-0", message_id="m-online", stream_id="900")
    twice = message("stream.offline", "2-0", message_id="m-twice")
    again = message("stream.offline", "3-0", message_id="m-twice")  # Twitch sent it twice
    same_stream = message("stream.online", "4-0", stream_id="900")
    update = message("channel.update", "5-0", title="New", category="Art")
    batch = [claim(claims, *item) for item in (first, twice, again, same_stream, update)]
    verdicts = claims.queue_claims(redis_client, batch, 3600)
    assert verdicts == [CLAIMED, CLAIMED, DUPLICATE_MESSAGE, DUPLICATE_STREAM, CLAIMED]
    assert redis_client.get(seen_message_key("m-twice")) == "2-0", "the claim is the entry's"
    assert redis_client.get(seen_stream_key("900")) == "1-0"
    assert 3500 < redis_client.ttl(seen_message_key("m-online")) <= 3600  # the dedupe window
    assert channel_state(redis_client, "7") == {"title": "New", "category_name": "Art"}
    assert 3500 < redis_client.ttl("sev:channel:7") <= 3600


def test_an_entry_claimed_again_keeps_its_claim(claims, redis_client):
    online = message("stream.online", "1-0", message_id="m-1", stream_id="901")
    assert claims.queue_claims(redis_client, [claim(claims, *online)], 3600) == [CLAIMED]
    assert claims.queue_claims(redis_client, [claim(claims, *online)], 3600) == [CLAIMED], (
        "a pump that takes over an entry claims it again"
    )


def test_an_older_update_claimed_later_leaves_the_newer_title(claims, redis_client):
    newer = message("channel.update", "1-0", timestamp="2026-01-01T12:00:02Z", title="Newer")
    older = message("channel.update", "2-0", timestamp="2026-01-01T12:00:01Z", title="Older")
    claims.queue_claims(redis_client, [claim(claims, *newer)], 3600)
    assert claims.queue_claims(redis_client, [claim(claims, *older)], 3600) == [CLAIMED]
    assert channel_state(redis_client, "7")["title"] == "Newer"


def test_nothing_to_claim_sends_nothing(claims, redis_client):
    assert claims.queue_claims(redis_client, [], 3600) == []
