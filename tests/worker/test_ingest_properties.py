"""Property: whatever signed JSON reaches ingest, each entry ends up somewhere, with a reason.

The web accepts any body that carries a valid signature, so the worker must cope with
any JSON value: each entry becomes an event, or is finished as a dead letter carrying
its reason (or as a handed-off revocation); ``prepare`` never raises and never drops
an entry silently. Runs against the real test Redis.
"""

import json
import uuid

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from emulators.eventsub.messages import notification_body, revocation_body
from shared.events import TITLE_LIMIT
from shared.store import channel_state, dead_letters

CALLBACK = "http://localhost/api/callback"
TIMESTAMP = "2026-01-01T12:00:00.000000000Z"

# Any JSON value: scalars (including the odd strings and huge numbers JSON allows),
# nested in lists and objects.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5)
    ),
    max_leaves=30,
)
# What Twitch's fields look like, and what they must not be.
field_values = json_values | st.sampled_from(
    [
        "",
        "1337",
        "\u0661\u0663",
        "\u00b9",
        "x" * 300,
        "2026-01-01T12:00:00Z",
        "20260101T120000Z",
        "stream.online",
        "channel.update",
        "stream.offline",
        "channel.raid",
        "live",
        {},
        [],
        10**30,
        -1,
        1234,
        True,
        2.5,
    ]
)
valid_bodies = st.sampled_from(
    [
        notification_body(
            "stream.online", "cool_user", CALLBACK, broadcaster_id="1337", stream_id="9001"
        ),
        notification_body("stream.offline", "cool_user", CALLBACK, broadcaster_id="1337"),
        notification_body(
            "channel.update",
            "cool_user",
            CALLBACK,
            broadcaster_id="1337",
            title="Best Stream Ever",
            category="Fortnite",
        ),
        notification_body(
            "channel.raid",
            "cool_user",
            CALLBACK,
            broadcaster_id="1337",
            raided={"login": "night_owl", "id": "4242"},
            viewers=1234,
        ),
        revocation_body(
            "stream.online", "cool_user", CALLBACK, "authorization_revoked", broadcaster_id="1337"
        ),
        revocation_body(
            "channel.raid", "cool_user", CALLBACK, "authorization_revoked", broadcaster_id="1337"
        ),
    ]
)


def paths(node, prefix=()):
    """The path of every value in a JSON object, objects included."""
    for key, value in node.items():
        yield prefix + (key,)
        if isinstance(value, dict):
            yield from paths(value, prefix + (key,))


@st.composite
def mutated_bodies(draw):
    """A valid body with one to three values, at any depth, replaced or removed."""
    body = json.loads(json.dumps(draw(valid_bodies)))
    for _ in range(draw(st.integers(1, 3))):
        choices = sorted(paths(body))
        if not choices:
            break
        *parents, key = draw(st.sampled_from(choices))
        node = body
        for parent in parents:
            node = node[parent]
        if draw(st.integers(0, 4)) == 0:
            del node[key]
        else:
            node[key] = draw(field_values)
    return body


def update_with(**event):
    body = notification_body(
        "channel.update",
        "cool_user",
        CALLBACK,
        broadcaster_id="1337",
        title="Best Stream Ever",
        category="Fortnite",
    )
    body["event"].update(event)
    return json.dumps(body)


raw_bodies = st.one_of(
    json_values.map(json.dumps),
    mutated_bodies().map(json.dumps),
    st.text(max_size=50),  # not JSON at all
    st.integers(1, 5_000).map(lambda depth: "[" * depth + "]" * depth),
)


@pytest.fixture
def run_prepare(worker_environment, redis_client):
    from worker.entries import Entry
    from worker.ingest import prepare

    def run(raw: str, message_type: str):
        redis_client.flushall()
        handed_off = []
        headers = {
            "Twitch-Eventsub-Message-Id": str(uuid.uuid4()),
            "Twitch-Eventsub-Message-Timestamp": TIMESTAMP,
            "Twitch-Eventsub-Message-Type": message_type,
        }
        entry = Entry("sev:intake:0", "1-0", "eventsub", headers, raw)
        prepared = prepare(
            redis_client,
            [entry],
            3600,
            lambda revocation, message_id: handed_off.append(revocation),
        )
        return entry, prepared, handed_off

    return run


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=raw_bodies, message_type=st.sampled_from(["notification", "revocation"]))
# The bodies the audit found lost or stored (issue 9, item 4), always tried first.
@example(raw="[1,2,3]", message_type="notification")
@example(raw='"hello"', message_type="notification")
@example(raw="null", message_type="notification")
@example(raw='{"subscription": []}', message_type="notification")
@example(
    raw='{"subscription": {"type": "stream.online"}, "event": "x"}', message_type="notification"
)
@example(raw="[" * 20_000 + "]" * 20_000, message_type="notification")
@example(raw=update_with(category_name={"name": "Fortnite"}), message_type="notification")
@example(raw=update_with(title="x" * 20_000), message_type="notification")
@example(raw=update_with(broadcaster_user_id="\u0661\u0663"), message_type="notification")
def test_every_signed_message_is_an_event_or_a_dead_letter_with_a_reason(
    run_prepare, redis_client, raw, message_type
):
    entry, prepared, handed_off = run_prepare(raw, message_type)
    placed = [e for e, _ in prepared.events] + prepared.finished + prepared.pending
    assert placed == [entry], "each entry ends up in exactly one place"
    assert prepared.pending == [], "nothing here is a Redis or broker failure"
    letters = dead_letters(redis_client)
    if prepared.events:
        [(_, event)] = prepared.events
        assert letters == [] and isinstance(event["message"], str)
        assert event["broadcaster"]["id"].isascii() and event["broadcaster"]["id"].isdigit()
        assert isinstance(event["broadcaster"]["name"], str)
        for name in ("title", "category_name"):
            assert event.get(name) is None or isinstance(event[name], str)
        assert len(event.get("title") or "") <= TITLE_LIMIT
        if event["type"] == "channel.raid":
            assert type(event["viewers"]) is int and event["viewers"] >= 0
            assert event["to"]["id"].isascii() and event["to"]["id"].isdigit()
            assert isinstance(event["to"]["name"], str)
        state = channel_state(redis_client, event["broadcaster"]["id"])
        assert len(state.get("title", "")) <= TITLE_LIMIT
    elif handed_off:
        assert message_type == "revocation" and letters == []
    else:
        [letter] = letters
        assert letter["reason"].strip() and letter["payload"]["body"] == raw
        assert letter["payload"]["headers"] == entry.headers
