"""The lease record: what each reason for holding a lease needs, and reading leases."""

from shared.eventsub import SUBSCRIPTION_VERSIONS
from shared.leases import (
    ALERT,
    WATCH,
    WEBSUB,
    leases_for_logins,
    missing_subscriptions,
    new_lease,
    save_lease,
    serves,
    wanted_subscriptions,
)

COOL_USER = {"id": "958187706", "login": "cool_user", "name": "Cool_User"}


def holding(lease, *kinds):
    lease["subscriptions"] = {kind: {"id": f"id-{kind}", "status": "enabled"} for kind in kinds}
    return lease


def test_an_alert_wants_stream_online_and_watching_all_four():
    alert = new_lease(COOL_USER, reason=ALERT)
    assert wanted_subscriptions(alert) == [("stream.online", "1")]
    assert wanted_subscriptions(alert, [WATCH]) == list(SUBSCRIPTION_VERSIONS.items())
    assert wanted_subscriptions(new_lease(COOL_USER, WEBSUB, ALERT)) == [(WEBSUB, "")]


def test_a_lease_from_before_reasons_is_held_for_watching():
    lease = holding(new_lease(COOL_USER), *SUBSCRIPTION_VERSIONS)
    del lease["reasons"]
    assert serves(lease, WATCH) and not serves(lease, ALERT)


def test_an_alert_lease_serves_alerts_but_not_a_viewer():
    lease = holding(new_lease(COOL_USER, reason=ALERT), "stream.online")
    assert missing_subscriptions(lease) == []
    assert serves(lease, ALERT) and not serves(lease, WATCH)
    assert ("stream.offline", "1") in missing_subscriptions(lease, reasons=[WATCH])
    assert not serves(None, ALERT)


def test_leases_for_logins_in_order_with_none_for_the_unheld(redis_client):
    lease = new_lease(COOL_USER, reason=ALERT)
    save_lease(redis_client, lease)
    assert leases_for_logins(redis_client, ["nobody", "cool_user"]) == [None, lease]
    assert leases_for_logins(redis_client, []) == []
