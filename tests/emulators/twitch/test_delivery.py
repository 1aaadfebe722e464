"""Controls and EventSub delivery: signed notifications, duplicates, revocations, failures."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest

from shared.eventsub import MESSAGE_TIMESTAMP, parse_eventsub_timestamp

from .support import COOL_ID, REPO_ROOT, SECRET, wait_until

pytestmark = pytest.mark.timeout(60)


def test_go_live_sends_signed_update_then_online(twitch, app_token, callback, subscribed):
    answer = twitch.control(
        "go-live", login="cool_user", title="Speedrun night", category="Minecraft"
    )
    assert answer["sent"] == {"channel.update": 1, "stream.online": 1, "websub": 0}
    [online] = callback.wait_eventsub("notification", "stream.online")
    [update] = callback.wait_eventsub("notification", "channel.update")
    assert online.signed_with(SECRET) and update.signed_with(SECRET)
    assert online.headers["Twitch-Eventsub-Subscription-Version"] == "1"
    assert online.headers["Twitch-Eventsub-Message-Retry"] == "0"
    event = online.json()["event"]
    stream = twitch.helix("GET", "/streams", app_token, params={"user_id": COOL_ID}).json()
    assert event["id"] == stream["data"][0]["id"] == answer["stream_id"]
    assert (
        event["broadcaster_user_id"],
        event["broadcaster_user_login"],
        event["broadcaster_user_name"],
        event["type"],
    ) == (COOL_ID, "cool_user", "Cool_User", "live")
    assert event["started_at"].startswith(stream["data"][0]["started_at"][:19])
    assert online.json()["subscription"]["id"] == subscribed["stream.online"]
    assert update.json()["event"]["title"] == "Speedrun night"


def test_go_live_stamps_the_title_change_before_the_stream_starts(twitch, callback, subscribed):
    twitch.control("go-live", login="cool_user", title="Speedrun night")
    [online] = callback.wait_eventsub("notification", "stream.online")
    [update] = callback.wait_eventsub("notification", "channel.update")
    title_changed = parse_eventsub_timestamp(update.headers[MESSAGE_TIMESTAMP])
    started = parse_eventsub_timestamp(online.json()["event"]["started_at"])
    online_sent = parse_eventsub_timestamp(online.headers[MESSAGE_TIMESTAMP])
    # A streamer sets the title, then goes live: the title change first, by a clear gap.
    assert title_changed + timedelta(milliseconds=1) <= started <= online_sent


def test_update_sends_channel_update_v2(twitch, app_token, callback, subscribed):
    twitch.control("update", login="cool_user", title="New title", category="Chess")
    [update] = callback.wait_eventsub("notification", "channel.update")
    assert update.signed_with(SECRET)
    assert update.headers["Twitch-Eventsub-Subscription-Version"] == "2"
    event = update.json()["event"]
    channel = twitch.helix(
        "GET", "/channels", app_token, params={"broadcaster_id": COOL_ID}
    ).json()["data"][0]
    assert event["title"] == channel["title"] == "New title"
    assert event["category_name"] == channel["game_name"] == "Chess"
    assert event["category_id"] == channel["game_id"]
    assert event["content_classification_labels"] == []
    assert callback.eventsub("notification", "stream.online") == []


def test_go_offline_sends_stream_offline(twitch, app_token, callback, subscribed):
    twitch.control("go-live", login="cool_user")
    twitch.control("go-offline", login="cool_user")
    [offline] = callback.wait_eventsub("notification", "stream.offline")
    assert offline.signed_with(SECRET)
    assert offline.json()["event"]["broadcaster_user_id"] == COOL_ID
    assert (
        twitch.helix("GET", "/streams", app_token, params={"user_id": COOL_ID}).json()["data"] == []
    )


def test_controls_refuse_what_makes_no_sense(twitch):
    twitch.control("go-live", expect=409, login="speedy_sam")
    twitch.control("go-offline", expect=409, login="cool_user")
    twitch.control("go-live", expect=404, login="nobody_here")
    twitch.control("update", expect=400, login="cool_user")
    twitch.control("resend", expect=404, subscription_id="no-such-subscription")


def test_resend_repeats_the_message_id(twitch, callback, subscribed):
    twitch.control("go-live", login="cool_user")
    [first] = callback.wait_eventsub("notification", "stream.online")
    answer = twitch.control("resend", subscription_id=subscribed["stream.online"])
    first_id = first.headers["Twitch-Eventsub-Message-Id"]
    assert answer["message_id"] == first_id
    _, second = callback.wait_eventsub("notification", "stream.online", count=2)
    assert second.headers["Twitch-Eventsub-Message-Id"] == first_id
    assert second.headers["Twitch-Eventsub-Message-Retry"] == "1"
    assert second.body == first.body
    assert second.signed_with(SECRET)


def test_revoke_sends_a_revocation_and_stops_notifications(twitch, callback, subscribed):
    sub_id = subscribed["stream.online"]
    twitch.control("revoke", expect=400, subscription_id=sub_id, reason="bored")
    answer = twitch.control("revoke", subscription_id=sub_id, reason="user_removed")
    assert answer["status"] == "user_removed"
    [revocation] = callback.wait_eventsub("revocation", "stream.online")
    assert revocation.signed_with(SECRET)
    body = revocation.json()
    assert "event" not in body
    assert body["subscription"]["id"] == sub_id
    assert body["subscription"]["status"] == "user_removed"
    assert twitch.subscription(sub_id)["status"] == "user_removed"
    assert twitch.control("go-live", login="cool_user")["sent"]["stream.online"] == 0
    twitch.control("go-offline", login="cool_user")
    callback.wait_eventsub("notification", "stream.offline")
    assert callback.eventsub("notification", "stream.online") == []


def test_failing_deliveries_end_in_notification_failures_exceeded(twitch, callback, subscribed):
    sub_id = subscribed["channel.update"]
    assert twitch.control("fail-deliveries", fail=True) == {"fail_deliveries": True}
    for n in range(3):
        twitch.control("update", login="cool_user", title=f"title {n}")
    [revocation] = callback.wait_eventsub("revocation", "channel.update")
    assert revocation.json()["subscription"]["status"] == "notification_failures_exceeded"
    assert twitch.subscription(sub_id)["status"] == "notification_failures_exceeded"
    assert callback.eventsub("notification") == []
    twitch.control("fail-deliveries", fail=False)
    twitch.control("update", login="cool_user", title="after")
    twitch.control("go-live", login="cool_user")
    callback.wait_eventsub("notification", "stream.online")
    assert callback.eventsub("notification", "channel.update") == []


def test_callback_errors_count_as_failures(twitch, app_token, make_callback):
    broken = make_callback(status=500)
    sub_id = twitch.subscribe(app_token, "channel.update", COOL_ID, broken.url).json()["data"][0][
        "id"
    ]
    wait_until(lambda: twitch.subscription(sub_id)["status"] == "enabled", message="enabled")
    twitch.control("update", login="cool_user", title="one")
    broken.wait_eventsub("notification", "channel.update")
    wait_until(lambda: twitch.subscription(sub_id)["failures"] == 1, message="a counted failure")
    broken.status = 204
    twitch.control("update", login="cool_user", title="two")
    wait_until(lambda: twitch.subscription(sub_id)["delivered"] == 1, message="a delivery")
    assert twitch.subscription(sub_id)["failures"] == 0


def test_control_command_line(twitch, callback, subscribed):
    def control(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "emulators.twitch", "control", *args, "--url", twitch.url],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )

    done = control("go-live", "cool_user", "--title", "From the CLI", "--category", "Chess")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["live"] is True
    [update] = callback.wait_eventsub("notification", "channel.update")
    assert update.json()["event"]["title"] == "From the CLI"
    callback.wait_eventsub("notification", "stream.online")
    assert control("go-live", "cool_user").returncode == 1
    state = control("state")
    assert json.loads(state.stdout)["users"][0]["title"] == "From the CLI"
