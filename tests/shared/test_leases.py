"""The lease record: what each reason for holding a lease needs, and reading leases."""

import time

from shared.eventsub import PENDING, SUBSCRIPTION_VERSIONS
from shared.leases import (
    ALERT,
    LEASES,
    LOGINS,
    WATCH,
    WEBSUB,
    all_leases,
    extend,
    forget_lease,
    get_lease,
    lease_for_login,
    lease_key,
    leases_for_logins,
    missing_subscriptions,
    new_lease,
    save_lease,
    serves,
    touch_lease,
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


def test_a_saved_lease_is_found_by_id_and_by_login_any_case(redis_client):
    lease = holding(new_lease(COOL_USER), "stream.online")
    lease["expires_at"] = 1000.0
    save_lease(redis_client, lease)
    assert get_lease(redis_client, "958187706") == lease
    assert lease_for_login(redis_client, "Cool_User") == lease
    assert redis_client.zscore(LEASES, "958187706") == 1000.0
    assert get_lease(redis_client, "1") is None and lease_for_login(redis_client, "nobody") is None


def test_forgetting_a_lease_leaves_no_trace_and_others_alone(redis_client):
    other = new_lease({"id": "2", "login": "night_owl"})
    lease = new_lease(COOL_USER)
    save_lease(redis_client, lease)
    save_lease(redis_client, other)
    forget_lease(redis_client, lease)
    assert not redis_client.exists(lease_key("958187706"))
    assert redis_client.zrange(LEASES, 0, -1) == ["2"]
    assert redis_client.hgetall(LOGINS) == {"night_owl": "2"}
    assert all_leases(redis_client) == [other]


def test_all_leases_soonest_to_expire_first(redis_client):
    for number, expires_at in ((1, 300.0), (2, 100.0), (3, 200.0)):
        lease = new_lease({"id": str(number), "login": f"user_{number}"})
        lease["expires_at"] = expires_at
        save_lease(redis_client, lease)
    redis_client.delete(lease_key("3"))  # gone between the index and the read
    assert [lease["broadcaster_id"] for lease in all_leases(redis_client)] == ["2", "1"]


def test_a_viewer_extends_a_lease_but_never_shortens_it():
    lease = new_lease(COOL_USER)
    lease["expires_at"] = 500.0
    assert extend(lease, 60, now=100.0) == {**lease, "last_seen": 100.0, "expires_at": 500.0}
    extend(lease, 600, now=100.0)
    assert (lease["last_seen"], lease["expires_at"]) == (100.0, 700.0)


def test_touching_a_lease_holds_it_longer_and_touching_none_does_nothing(redis_client):
    save_lease(redis_client, new_lease(COOL_USER))
    before = time.time()
    touched = touch_lease(redis_client, "cool_user", 120)
    assert touched["expires_at"] >= before + 120 and touched["last_seen"] >= before
    assert get_lease(redis_client, "958187706") == touched
    assert redis_client.zscore(LEASES, "958187706") == touched["expires_at"]
    assert touch_lease(redis_client, "nobody", 120) is None
    assert redis_client.zcard(LEASES) == 1


def test_a_subscription_unhealthy_or_about_to_lapse_at_the_hub_is_missing():
    lease = holding(new_lease(COOL_USER, reason=ALERT), "stream.online")
    lease["subscriptions"]["stream.online"]["status"] = "authorization_revoked"
    assert missing_subscriptions(lease) == [("stream.online", "1")]
    lease["subscriptions"]["stream.online"]["status"] = "webhook_callback_verification_pending"
    assert missing_subscriptions(lease) == [], "pending counts as healthy"
    websub = new_lease(COOL_USER, WEBSUB)
    websub["subscriptions"] = {WEBSUB: {"id": "topic", "status": "enabled", "expires_at": 1000.0}}
    assert missing_subscriptions(websub, renew_before=100, now=850.0) == []
    assert missing_subscriptions(websub, renew_before=100, now=900.0) == [(WEBSUB, "")], (
        "renewed before the hub lets it lapse"
    )


def test_a_websub_request_is_asked_again_only_once_it_lapsed_unverified():
    websub = new_lease(COOL_USER, WEBSUB)
    pending = {"id": "topic", "status": PENDING, "expires_at": 1000.0}
    websub["subscriptions"] = {WEBSUB: pending}
    assert missing_subscriptions(websub, renew_before=3600, now=999.0) == [], (
        "a request the hub may still verify is not made again"
    )
    assert missing_subscriptions(websub, renew_before=3600, now=1000.0) == [(WEBSUB, "")]
    del pending["expires_at"]  # a lease from before requests had an end
    assert missing_subscriptions(websub, renew_before=3600, now=10**10) == []
