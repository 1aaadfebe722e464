"""channel.raid: subscriptions on the raiding or the raided channel, and the raid control."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .support import REPO_ROOT, SECRET, wait_until

pytestmark = pytest.mark.timeout(60)

COOL_ID, SAM_ID, OWL_ID = "958187706", "122699689", "517561072"


def subscribe_raids(twitch, token: str, condition: dict, callback: str):
    return twitch.helix(
        "POST",
        "/eventsub/subscriptions",
        token,
        json={
            "type": "channel.raid",
            "version": "1",
            "condition": condition,
            "transport": {"method": "webhook", "callback": callback, "secret": SECRET},
        },
    )


def enabled(twitch) -> bool:
    return all(s["status"] == "enabled" for s in twitch.state()["subscriptions"])


def test_a_raid_subscription_names_the_raiding_channel(twitch, app_token, callback):
    answer = subscribe_raids(twitch, app_token, {"from_broadcaster_user_id": COOL_ID}, callback.url)
    assert answer.status_code == 202, answer.text
    [sub] = answer.json()["data"]
    assert (sub["type"], sub["version"], sub["cost"]) == ("channel.raid", "1", 1)
    assert sub["condition"] == {"from_broadcaster_user_id": COOL_ID, "to_broadcaster_user_id": ""}
    wait_until(lambda: enabled(twitch), message="the raid subscription to be enabled")
    listed = twitch.helix(
        "GET", "/eventsub/subscriptions", app_token, params={"user_id": COOL_ID}
    ).json()
    assert [s["id"] for s in listed["data"]] == [sub["id"]]
    again = subscribe_raids(
        twitch,
        app_token,
        {"from_broadcaster_user_id": COOL_ID, "to_broadcaster_user_id": ""},
        callback.url,
    )
    assert again.status_code == 409


@pytest.mark.parametrize(
    "condition",
    [
        {},
        {"broadcaster_user_id": COOL_ID},
        {"from_broadcaster_user_id": ""},
        {"to_broadcaster_user_id": None},
        {"from_broadcaster_user_id": "1"},
    ],
)
def test_a_raid_subscription_without_a_known_channel_is_400(twitch, app_token, callback, condition):
    answer = subscribe_raids(twitch, app_token, condition, callback.url)
    assert answer.status_code == 400, answer.text
    assert twitch.state()["subscriptions"] == []


def test_the_raid_control_notifies_the_subscriptions_it_matches(twitch, app_token, make_callback):
    raiding, raided, other = make_callback(), make_callback(), make_callback()
    for condition, target in (
        ({"from_broadcaster_user_id": COOL_ID}, raiding),
        ({"to_broadcaster_user_id": OWL_ID}, raided),
        ({"from_broadcaster_user_id": SAM_ID}, other),
    ):
        assert subscribe_raids(twitch, app_token, condition, target.url).status_code == 202
    wait_until(lambda: enabled(twitch), message="the raid subscriptions to be enabled")

    answer = twitch.control("raid", **{"from": "cool_user", "to": "night_owl", "viewers": 1234})

    assert answer == {
        "from": "cool_user",
        "to": "night_owl",
        "viewers": 1234,
        "sent": {"channel.raid": 2},
    }
    [sent] = raiding.wait_eventsub("notification", "channel.raid")
    [told] = raided.wait_eventsub("notification", "channel.raid")
    assert sent.signed_with(SECRET)
    assert sent.headers["Twitch-Eventsub-Subscription-Type"] == "channel.raid"
    assert (
        sent.json()["event"]
        == told.json()["event"]
        == {
            "from_broadcaster_user_id": COOL_ID,
            "from_broadcaster_user_login": "cool_user",
            "from_broadcaster_user_name": "Cool_User",
            "to_broadcaster_user_id": OWL_ID,
            "to_broadcaster_user_login": "night_owl",
            "to_broadcaster_user_name": "Night_Owl",
            "viewers": 1234,
        }
    )
    assert sent.json()["subscription"]["condition"]["from_broadcaster_user_id"] == COOL_ID
    assert other.eventsub("notification") == []
    streams = twitch.helix(
        "GET", "/streams", app_token, params={"user_id": [COOL_ID, OWL_ID]}
    ).json()["data"]
    assert streams == [], "a raid changes neither stream"


def test_the_raid_control_refuses_what_makes_no_sense(twitch):
    twitch.control("raid", expect=404, **{"from": "nobody_here", "to": "night_owl"})
    twitch.control("raid", expect=404, **{"from": "cool_user", "to": "nobody_here"})
    twitch.control("raid", expect=400, **{"from": "cool_user", "to": "cool_user"})
    for viewers in (-1, "12", 2.5, True):
        twitch.control(
            "raid", expect=400, **{"from": "cool_user", "to": "night_owl", "viewers": viewers}
        )


def test_the_raid_command_line(twitch, app_token, callback):
    subscribe_raids(twitch, app_token, {"from_broadcaster_user_id": COOL_ID}, callback.url)
    wait_until(lambda: enabled(twitch), message="the raid subscription to be enabled")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "emulators.twitch",
            "control",
            "raid",
            "cool_user",
            "night_owl",
            "--viewers",
            "1234",
            "--url",
            twitch.url,
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sent"] == {"channel.raid": 1}
    [raid] = callback.wait_eventsub("notification", "channel.raid")
    assert raid.json()["event"]["viewers"] == 1234
