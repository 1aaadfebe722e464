"""Signature and timestamp checks of EventSub messages."""

from datetime import UTC, datetime, timedelta

import pytest

from emulators.eventsub.messages import VERSIONS as TWITCH_VERSIONS
from shared.eventsub import (
    ENABLED,
    FINAL,
    HEALTHY,
    MISSING,
    PENDING,
    RECREATABLE,
    SUBSCRIPTION_VERSIONS,
    eventsub_signature,
    format_eventsub_timestamp,
    is_fresh,
    ordering_key,
    parse_eventsub_timestamp,
    verify_eventsub_signature,
)

# Twitch's documented example message (channel.follow), signed with the secret
# "secretabcd". The expected digests were computed with `openssl dgst -sha256
# -hmac secretabcd` over message id + timestamp + body, independently of this code.
EXAMPLE_ID = "e76c6bd4-55c9-4987-8304-da1588d8988b"
EXAMPLE_BODY = (
    b'{"subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"enabled",'
    b'"type":"channel.follow","version":"1","condition":{"broadcaster_user_id":"12826"},'
    b'"transport":{"method":"webhook","callback":"https://example.com/webhooks/callback"},'
    b'"created_at":"2019-11-16T10:11:12.634234626Z"},"event":{"user_id":"1337",'
    b'"user_login":"awesome_user","user_name":"Awesome_User","broadcaster_user_id":"12826",'
    b'"broadcaster_user_login":"twitch","broadcaster_user_name":"Twitch"}}'
)
NINE_DIGITS = "2019-11-16T10:11:12.634234626Z"
THREE_DIGITS = "2019-11-16T10:11:12.123Z"
SIGNATURE_NINE = "sha256=749df3ddaba2bc23a575de90e17668b30295d5155d4107f0418707c7f34196a9"
SIGNATURE_THREE = "sha256=39fadc28a7ebd49449bc34e7b7d4d7bcc8976e067def42cbaa28a61526d8d82d"


@pytest.mark.parametrize(
    "timestamp, signature", [(NINE_DIGITS, SIGNATURE_NINE), (THREE_DIGITS, SIGNATURE_THREE)]
)
def test_known_signatures_verify(timestamp, signature):
    assert eventsub_signature("secretabcd", EXAMPLE_ID, timestamp, EXAMPLE_BODY) == signature
    assert verify_eventsub_signature("secretabcd", EXAMPLE_ID, timestamp, EXAMPLE_BODY, signature)


def test_timestamp_is_hashed_verbatim():
    """Re-formatting the timestamp (e.g. trimming digits) must break the signature."""
    trimmed = "2019-11-16T10:11:12.634234Z"
    assert not verify_eventsub_signature(
        "secretabcd", EXAMPLE_ID, trimmed, EXAMPLE_BODY, SIGNATURE_NINE
    )


@pytest.mark.parametrize(
    "change",
    [
        {"secret": "secretabce"},
        {"message_id": EXAMPLE_ID.replace("e7", "e8")},
        {"body": EXAMPLE_BODY.replace(b"12826", b"12827")},
        {"body": EXAMPLE_BODY + b" "},
        {"signature": SIGNATURE_NINE.replace("sha256=", "sha1=")},
        {"signature": SIGNATURE_NINE.removeprefix("sha256=")},
        {"signature": SIGNATURE_NINE.upper()},
        {"signature": ""},
        {"signature": "sha256=\u00e9"},
    ],
)
def test_any_change_fails_verification(change):
    values = dict(
        secret="secretabcd",
        message_id=EXAMPLE_ID,
        timestamp=NINE_DIGITS,
        body=EXAMPLE_BODY,
        signature=SIGNATURE_NINE,
    )
    values.update(change)
    assert not verify_eventsub_signature(**values)


@pytest.mark.parametrize("text", [NINE_DIGITS, THREE_DIGITS, "2019-11-16T10:11:12Z"])
def test_timestamps_parse_with_any_fraction(text):
    parsed = parse_eventsub_timestamp(text)
    assert parsed.replace(microsecond=0) == datetime(2019, 11, 16, 10, 11, 12, tzinfo=UTC)


def test_timestamp_without_zone_is_refused():
    with pytest.raises(ValueError):
        parse_eventsub_timestamp("2019-11-16T10:11:12")


def test_freshness_window():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    at = lambda delta: format_eventsub_timestamp(now + delta)  # noqa: E731
    assert is_fresh(at(timedelta(0)), now)
    assert is_fresh(at(-timedelta(minutes=9, seconds=59)), now)
    assert not is_fresh(at(-timedelta(minutes=10, seconds=1)), now)
    assert not is_fresh(at(timedelta(minutes=11)), now)
    assert not is_fresh("yesterday", now)
    assert not is_fresh("", now)


def test_format_has_nine_fraction_digits():
    moment = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert format_eventsub_timestamp(moment) == "2026-01-01T12:00:00.123456000Z"


@pytest.mark.parametrize(
    "text",
    [
        "20191116T101112Z",
        "2019-W46-6T10:11:12Z",
        "2019-320T10:11:12Z",
        "2019-11-16T10:11:12.12345678901234567890Z",
        "2019-11-16 10:11:12Z",
        "2019-11-16T10:11Z",
        "2019-11-16T10:11:12+0000",
        "2019-11-16T10:11:12",
        "\u0662\u0660\u0661\u0669-11-16T10:11:12Z",
        "2019-13-16T10:11:12Z",
        "2019-11-16T10:11:12.Z",
        "",
    ],
)
def test_only_the_rfc_3339_shape_twitch_sends_parses(text):
    with pytest.raises(ValueError):
        parse_eventsub_timestamp(text)
    assert not is_fresh(text)


def test_a_lowercase_zone_and_an_offset_parse_like_z():
    assert parse_eventsub_timestamp("2019-11-16T10:11:12.5z") == parse_eventsub_timestamp(
        "2019-11-16T11:11:12.500+01:00"
    )


def test_an_ordering_key_out_of_range_is_a_value_error():
    with pytest.raises(ValueError):
        ordering_key("0001-01-01T00:00:00+14:00")


def test_we_subscribe_to_the_types_and_versions_the_stand_in_twitch_knows():
    assert list(SUBSCRIPTION_VERSIONS.items()) == list(TWITCH_VERSIONS.items())


def test_a_status_is_healthy_recreatable_or_final_never_two():
    assert HEALTHY == {ENABLED, PENDING}
    assert not HEALTHY & RECREATABLE and not HEALTHY & FINAL and not RECREATABLE & FINAL
    assert MISSING not in HEALTHY | RECREATABLE | FINAL
