"""Legacy WebSub end to end: the hub verifies, notifications flow, leases are renewed."""

import pytest
import requests

from shared.leases import lease_for_login
from tests.integration.test_subscriptions import twitch, watch  # noqa: F401  (fixture)
from tests.support import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120),
              pytest.mark.stack_env(WEBHOOK_TRANSPORT="websub", WEBSUB_LEASE_SECONDS=6,
                                    LEASE_CHECK_INTERVAL=1)]


def hub_leases(stack):
    """The hub's live leases for our callback, as Twitch lists them."""
    token = requests.post(f"http://127.0.0.1:{stack.twitch_port}/oauth2/token", data={
        "client_id": "local-client-id", "client_secret": "local-client-secret",
        "grant_type": "client_credentials"}, timeout=10).json()["access_token"]
    answer = requests.get(f"http://127.0.0.1:{stack.twitch_port}/helix/webhooks/subscriptions",
                          headers={"Authorization": f"Bearer {token}",
                                   "Client-Id": "local-client-id"}, timeout=10).json()
    return [lease for lease in answer["data"] if lease["callback"].endswith("/api/callback")]


def websub_status(stack):
    lease = lease_for_login(stack.redis(), "cool_user")
    return lease and lease["subscriptions"].get("websub", {}).get("status")


def test_verified_notified_offline_and_renewed(stack, twitch):  # noqa: F811
    subscriber = stack.subscribe("cool_user")
    watch(stack, "cool_user")
    wait_until(lambda: websub_status(stack) == "enabled", timeout=20,
               message="the hub never verified the subscription")
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
    renewed = wait_until(lambda: [lease for lease in hub_leases(stack)
                                  if lease["expires_at"] > first["expires_at"]],
                         timeout=20, message="the hub lease was never renewed")
    assert len(renewed) == 1


def test_a_denied_subscription_is_recorded(stack, twitch):  # noqa: F811
    from shared.subscriptions import Subscriptions
    from shared.twitch import TwitchClient
    from shared.settings import load_settings

    settings = load_settings(stack.env)
    client = TwitchClient(settings, stack.redis())
    Subscriptions(client, stack.redis(), settings).websub("subscribe", "4040404")
    client.close()
    denial = wait_until(lambda: stack.redis().lrange("sev:websub:denials", 0, -1), timeout=15,
                        message="the denial was never recorded")
    assert "4040404" in denial[0] and "unknown user" in denial[0]
