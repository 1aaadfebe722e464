"""Legacy WebSub end to end: the hub verifies, notifications flow, leases are renewed."""

import hashlib
import hmac

import pytest
import requests

from shared.leases import lease_for_login
from shared.websub import secret_key
from tests.integration.conftest import watch
from tests.support import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(120),
    pytest.mark.stack_env(
        WEBHOOK_TRANSPORT="websub", WEBSUB_LEASE_SECONDS=6, LEASE_CHECK_INTERVAL=1
    ),
]


def hub_leases(stack):
    """The hub's live leases for our callback, as Twitch lists them."""
    token = requests.post(
        f"http://127.0.0.1:{stack.twitch_port}/oauth2/token",
        data={
            "client_id": "local-client-id",
            "client_secret": "local-client-secret",
            "grant_type": "client_credentials",
        },
        timeout=10,
    ).json()["access_token"]
    answer = requests.get(
        f"http://127.0.0.1:{stack.twitch_port}/helix/webhooks/subscriptions",
        headers={"Authorization": f"Bearer {token}", "Client-Id": "local-client-id"},
        timeout=10,
    ).json()
    return [lease for lease in answer["data"] if lease["callback"].endswith("/api/callback")]


def websub_status(stack, login="cool_user"):
    lease = lease_for_login(stack.redis(), login)
    return lease and lease["subscriptions"].get("websub", {}).get("status")


def websub_topic(stack, login):
    return lease_for_login(stack.redis(), login)["subscriptions"]["websub"]["id"]


def notify(stack, topic, secret, body=b'{"data":[]}'):
    """POST a WebSub notification naming ``topic``, signed with ``secret``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return requests.post(
        stack.callback,
        data=body,
        timeout=10,
        headers={
            "X-Hub-Signature": f"sha256={digest}",
            "Twitch-Notification-Id": "replayed",
            "Link": f'<https://api.twitch.tv/helix/webhooks/hub>; rel="hub", <{topic}>; rel="self"',
            "Content-Type": "application/json",
        },
    )


def test_verified_notified_offline_and_renewed(stack, twitch):
    subscriber = stack.subscribe("cool_user")
    watch(stack, "cool_user")
    wait_until(
        lambda: websub_status(stack) == "enabled",
        timeout=20,
        message="the hub never verified the subscription",
    )
    [first] = wait_until(lambda: hub_leases(stack), message="the hub holds no lease")

    twitch("go-live", login="cool_user", title="Legacy <i>mode</i>", category="Chess")
    name, data = subscriber.next(timeout=15)
    assert name == "stream.online"
    assert data["message"] == "Cool_User went live: Legacy <i>mode</i> (Chess)"
    twitch("update", login="cool_user", title="Endgame")
    name, data = subscriber.next(timeout=15)
    assert name == "channel.update" and data["title"] == "Endgame"
    twitch("go-offline", login="cool_user")
    name, data = subscriber.next(timeout=15)
    assert name == "stream.offline" and data["message"] == "Cool_User ended the stream"

    stack.start_beat()  # a viewer is watching: beat renews the 6 s hub lease before it lapses
    renewed = wait_until(
        lambda: [lease for lease in hub_leases(stack) if lease["expires_at"] > first["expires_at"]],
        timeout=20,
        message="the hub lease was never renewed",
    )
    assert len(renewed) == 1


def test_a_denied_subscription_is_recorded(stack, twitch):
    from shared.settings import load_settings
    from shared.subscriptions import Subscriptions
    from shared.twitch.client import TwitchClient

    settings = load_settings(stack.env)
    client = TwitchClient(settings, stack.redis())
    Subscriptions(client, stack.redis(), settings).websub("subscribe", "4040404")
    client.close()
    denial = wait_until(
        lambda: stack.redis().lrange("sev:websub:denials", 0, -1),
        timeout=15,
        message="the denial was never recorded",
    )
    assert "4040404" in denial[0] and "unknown user" in denial[0]


def test_each_subscription_has_its_own_secret_and_its_verification_is_answered_once(stack, twitch):
    for login in ("cool_user", "speedy_sam"):
        watch(stack, login)
        wait_until(
            lambda login=login: websub_status(stack, login) == "enabled",
            timeout=20,
            message=f"the hub never verified the subscription to {login}",
        )
    mine, other = websub_topic(stack, "cool_user"), websub_topic(stack, "speedy_sam")
    redis = stack.redis()
    secret, other_secret = redis.get(secret_key(mine)), redis.get(secret_key(other))
    assert secret and other_secret and secret != other_secret
    assert stack.secret not in (secret, other_secret)

    # The hub's verification, replayed with a lease of 11,574 days: refused, nothing stored.
    expires_at = lease_for_login(redis, "cool_user")["subscriptions"]["websub"]["expires_at"]
    for seconds in ("999999999", "6", "not-a-number"):
        replay = requests.get(
            stack.callback,
            timeout=10,
            params={
                "hub.mode": "subscribe",
                "hub.topic": mine,
                "hub.challenge": "replayed",
                "hub.lease_seconds": seconds,
            },
        )
        assert replay.status_code in (400, 404) and "replayed" not in replay.text
    denial = requests.get(
        stack.callback,
        timeout=10,
        params={"hub.mode": "denied", "hub.topic": mine, "hub.reason": "forged"},
    )
    assert denial.status_code == 404
    assert websub_status(stack) == "enabled"
    assert (
        lease_for_login(redis, "cool_user")["subscriptions"]["websub"]["expires_at"] == expires_at
    )

    # A body signed for cool_user's topic, re-sent naming speedy_sam's: refused.
    assert notify(stack, other, secret).status_code == 403
    assert notify(stack, mine, stack.secret).status_code == 403
    assert notify(stack, mine, secret).status_code == 204
