"""EventSub subscriptions: create and verify, conflicts and limits, list, delete."""

from __future__ import annotations

import pytest

from .support import SECRET, wait_until

pytestmark = pytest.mark.timeout(60)

COOL_ID, SAM_ID, OWL_ID = "958187706", "122699689", "517561072"


def status_of(twitch, sub_id: str, status: str) -> bool:
    return twitch.subscription(sub_id)["status"] == status


def test_create_answers_202_then_verifies_the_callback(twitch, app_token, callback):
    answer = twitch.subscribe(app_token, "stream.online", COOL_ID, callback.url)
    assert answer.status_code == 202
    body = answer.json()
    [sub] = body["data"]
    assert sub["status"] == "webhook_callback_verification_pending"
    assert sub["type"] == "stream.online" and sub["version"] == "1"
    assert sub["condition"] == {"broadcaster_user_id": COOL_ID}
    assert sub["transport"] == {"method": "webhook", "callback": callback.url}
    assert sub["cost"] == 1 and "secret" not in sub["transport"]
    assert (body["total"], body["total_cost"], body["max_total_cost"]) == (1, 1, 10000)
    [challenge] = callback.wait_eventsub("webhook_callback_verification")
    assert challenge.signed_with(SECRET)
    assert not challenge.signed_with("some-other-secret")
    message = challenge.json()
    assert message["challenge"]
    assert message["subscription"]["id"] == sub["id"]
    assert challenge.headers["Twitch-Eventsub-Subscription-Type"] == "stream.online"
    wait_until(lambda: status_of(twitch, sub["id"], "enabled"), message="enabled")


@pytest.mark.parametrize("mode", ["wrong", "error"])
def test_failed_challenge_fails_verification(twitch, app_token, make_callback, mode):
    bad = make_callback(challenge=mode)
    sub = twitch.subscribe(app_token, "stream.offline", COOL_ID, bad.url).json()["data"][0]
    wait_until(
        lambda: status_of(twitch, sub["id"], "webhook_callback_verification_failed"),
        message="verification to fail",
    )


def test_unreachable_callback_fails_verification(twitch, app_token):
    sub = twitch.subscribe(
        app_token, "stream.online", COOL_ID, "http://127.0.0.1:9/nowhere"
    ).json()["data"][0]
    wait_until(
        lambda: status_of(twitch, sub["id"], "webhook_callback_verification_failed"),
        message="verification to fail",
    )


def test_same_subscription_twice_is_409(twitch, app_token, callback):
    assert twitch.subscribe(app_token, "channel.update", COOL_ID, callback.url).status_code == 202
    again = twitch.subscribe(app_token, "channel.update", COOL_ID, callback.url)
    assert again.status_code == 409
    assert again.json()["status"] == 409


def test_fourth_callback_for_same_type_and_condition_is_429(twitch, app_token, callback):
    for n in range(3):
        url = f"{callback.url}/{n}"
        assert twitch.subscribe(app_token, "stream.online", COOL_ID, url).status_code == 202
    fourth = twitch.subscribe(app_token, "stream.online", COOL_ID, callback.url + "/3")
    assert fourth.status_code == 429
    assert (
        twitch.subscribe(app_token, "stream.online", SAM_ID, callback.url + "/3").status_code == 202
    )


def test_user_token_cannot_create_webhook_subscriptions(twitch, callback):
    user = twitch.user_token("cool_user")["access_token"]
    answer = twitch.subscribe(user, "stream.online", COOL_ID, callback.url)
    assert answer.status_code in (400, 401)
    assert "app access token" in answer.json()["message"]
    assert twitch.state()["subscriptions"] == []


@pytest.mark.parametrize(
    "change, status",
    [
        ({"secret": "short"}, 400),
        ({"version": "1", "kind": "channel.update"}, 400),
        ({"kind": "channel.follow"}, 400),
        ({"broadcaster_id": "1"}, 400),
    ],
)
def test_invalid_requests_are_400(twitch, app_token, callback, change, status):
    answer = twitch.subscribe(
        app_token,
        change.get("kind", "stream.online"),
        change.get("broadcaster_id", COOL_ID),
        callback.url,
        secret=change.get("secret", SECRET),
        version=change.get("version"),
    )
    assert answer.status_code == status, answer.text


def test_cost_is_zero_when_the_broadcaster_authorized_the_client(twitch, app_token, callback):
    twitch.user_token("night_owl")
    owl = twitch.subscribe(app_token, "stream.online", OWL_ID, callback.url).json()
    assert owl["data"][0]["cost"] == 0 and owl["total_cost"] == 0
    cool = twitch.subscribe(app_token, "stream.online", COOL_ID, callback.url).json()
    assert cool["data"][0]["cost"] == 1 and cool["total_cost"] == 1


def test_list_filters_and_paginates(twitch, app_token, callback, make_callback):
    failing = make_callback(challenge="error")
    ids = {}
    for kind in ("stream.online", "stream.offline", "channel.update"):
        ids[kind] = twitch.subscribe(app_token, kind, COOL_ID, callback.url).json()["data"][0]["id"]
    ids["sam"] = twitch.subscribe(app_token, "stream.online", SAM_ID, failing.url).json()["data"][
        0
    ]["id"]
    wait_until(
        lambda: (
            status_of(twitch, ids["sam"], "webhook_callback_verification_failed")
            and status_of(twitch, ids["channel.update"], "enabled")
        ),
        message="verifications",
    )

    def listed(**params):
        answer = twitch.helix("GET", "/eventsub/subscriptions", app_token, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    everything = listed()
    assert everything["total"] == 4 and everything["max_total_cost"] == 10000
    assert everything["total_cost"] == 3
    assert [s["id"] for s in everything["data"]] == list(ids.values())
    assert [s["id"] for s in listed(type="stream.online")["data"]] == [
        ids["stream.online"],
        ids["sam"],
    ]
    assert [s["id"] for s in listed(user_id=SAM_ID)["data"]] == [ids["sam"]]
    assert [s["id"] for s in listed(status="webhook_callback_verification_failed")["data"]] == [
        ids["sam"]
    ]
    assert [s["id"] for s in listed(subscription_id=ids["stream.offline"])["data"]] == [
        ids["stream.offline"]
    ]
    page = listed(first=3)
    assert len(page["data"]) == 3 and page["pagination"]["cursor"]
    rest = listed(first=3, after=page["pagination"]["cursor"])
    assert [s["id"] for s in rest["data"]] == [ids["sam"]] and rest["pagination"] == {}
    two_filters = twitch.helix(
        "GET",
        "/eventsub/subscriptions",
        app_token,
        params={"type": "stream.online", "user_id": SAM_ID},
    )
    assert two_filters.status_code == 400


def test_delete(twitch, app_token, callback):
    sub = twitch.subscribe(app_token, "stream.online", COOL_ID, callback.url).json()["data"][0]
    gone = twitch.helix("DELETE", "/eventsub/subscriptions", app_token, params={"id": sub["id"]})
    assert gone.status_code == 204
    listed = twitch.helix("GET", "/eventsub/subscriptions", app_token).json()
    assert listed["data"] == [] and listed["total"] == 0
    again = twitch.helix("DELETE", "/eventsub/subscriptions", app_token, params={"id": sub["id"]})
    assert again.status_code == 404
    assert twitch.subscribe(app_token, "stream.online", COOL_ID, callback.url).status_code == 202
