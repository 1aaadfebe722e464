"""Healing alert leases in this process against a real Redis (the broker too)."""

import json

from shared.alerts import add_alert
from shared.leases import ALERT, WATCH, new_lease, save_lease

COOL_USER = {"id": "958187706", "login": "cool_user", "name": "Cool_User"}
SPEEDY_SAM = {"id": "4242", "login": "speedy_sam", "name": "SpeedySam"}


def lease(streamer, *reasons, kinds=("stream.online",)):
    held = new_lease(streamer, reason=reasons[0])
    held["reasons"] = list(reasons)
    held["subscriptions"] = {kind: {"id": f"sub-{kind}", "status": "enabled"} for kind in kinds}
    return held


def queued_settles(redis_client):
    messages = [json.loads(m) for m in redis_client.lrange("maintenance", 0, -1)]
    return [m["headers"]["task"] for m in messages]


def test_heal_settles_what_the_lists_and_the_leases_disagree_on(worker_environment, redis_client):
    from worker.alert_leases import heal_alert_leases

    add_alert(redis_client, "viewer-1", COOL_USER, limit=50)  # alerted, no lease
    save_lease(redis_client, lease(SPEEDY_SAM, WATCH, ALERT))  # held for alerts nobody wants
    assert sorted(heal_alert_leases()) == ["cool_user", "speedy_sam"]
    assert queued_settles(redis_client) == ["alert_leases.settle_alert_lease"] * 2


def test_heal_leaves_alert_leases_in_step_alone(worker_environment, redis_client):
    from worker.alert_leases import heal_alert_leases

    add_alert(redis_client, "viewer-1", COOL_USER, limit=50)
    save_lease(redis_client, lease(COOL_USER, ALERT))
    save_lease(redis_client, lease(SPEEDY_SAM, WATCH))
    assert heal_alert_leases() == [] and queued_settles(redis_client) == []
