"""Revocations handled in this process against a real Redis (the worker's broker too)."""

import json

import pytest

from shared.leases import get_lease, new_lease, save_lease
from shared.store import unheld_revocations

BROADCASTER = {"id": "958187706", "login": "cool_user", "name": "Cool_User"}


@pytest.fixture
def lease(worker_environment, redis_client):
    """A lease holding three enabled subscriptions, ids sub-1 to sub-3."""
    held = new_lease(BROADCASTER)
    held["subscriptions"] = {
        kind: {"id": f"sub-{n}", "status": "enabled"}
        for n, kind in enumerate(("stream.online", "stream.offline", "channel.update"), 1)
    }
    save_lease(redis_client, held)
    return held


def revocation(subscription_id, reason):
    return {
        "subscription_id": subscription_id,
        "type": "stream.online",
        "broadcaster_id": BROADCASTER["id"],
        "reason": reason,
        "revoked_at": "2026-01-01T12:00:00Z",
    }


def queued_tasks(redis_client):
    return [json.loads(m)["headers"]["task"] for m in redis_client.lrange("maintenance", 0, -1)]


def test_a_revocation_of_a_subscription_we_do_not_hold_leaves_the_lease(lease, redis_client):
    from worker.subscriptions import handle_revocation

    handle_revocation(revocation("someone-elses", "user_removed"), "m-1")
    assert get_lease(redis_client, BROADCASTER["id"]) == lease, "the lease was touched"
    assert unheld_revocations(redis_client) == 1
    assert queued_tasks(redis_client) == [] and redis_client.llen("publish") == 0


def test_a_revocation_of_one_we_hold_marks_it_and_recreates(lease, redis_client):
    from worker.subscriptions import handle_revocation

    handle_revocation(revocation("sub-1", "version_removed"), "m-1")
    statuses = {
        kind: held["status"]
        for kind, held in get_lease(redis_client, BROADCASTER["id"])["subscriptions"].items()
    }
    assert statuses == {
        "stream.online": "version_removed",
        "stream.offline": "enabled",
        "channel.update": "enabled",
    }
    assert queued_tasks(redis_client) == ["subscriptions.ensure_subscriptions"]
    assert unheld_revocations(redis_client) == 0
