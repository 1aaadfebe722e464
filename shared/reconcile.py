"""Reconciliation: bring our leases and Twitch's subscription list back in step.

Adopts our subscriptions (matched by callback URL), deletes our orphans and our
broken ones, re-creates what a lease still wants, and never touches
subscriptions that call other callbacks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from shared.events import lease_broadcaster, user_broadcaster
from shared.eventsub import FINAL, HEALTHY, MISSING, SUBSCRIPTION_VERSIONS, condition_broadcaster
from shared.leases import Lease, missing_subscriptions, new_lease, wanted_subscriptions
from shared.subscriptions import Subscriptions

logger = logging.getLogger(__name__)
# What a pass did: subscription ids adopted and deleted, logins recreated and unavailable.
Report = dict[str, list[str]]


def empty_report() -> Report:
    """A report of a pass that did nothing."""
    return {"adopted": [], "deleted": [], "recreated": [], "unavailable": []}


def reconcile(subscriptions: Subscriptions, occupied: set[str]) -> Report:
    """One pass; returns what it did: adopted, deleted, recreated and unavailable logins.

    With the WebSub transport there is no EventSub list to reconcile with: hub
    leases are renewed by :meth:`Subscriptions.renew` before they lapse.
    """
    if subscriptions.uses_websub:
        return empty_report()
    ours = subscriptions.listed()
    leases = {lease["broadcaster_id"]: lease for lease in subscriptions.leases()}
    leases.update(adoptable_leases(subscriptions, ours, leases.keys(), occupied))
    report = empty_report()
    by_broadcaster: dict[str, list[dict]] = {}
    for found in ours:
        broadcaster_id = condition_broadcaster(found["type"], found.get("condition"))
        if (
            broadcaster_id is not None
            and broadcaster_id in leases
            and found["type"] in wanted_types(leases[broadcaster_id])
        ):
            by_broadcaster.setdefault(broadcaster_id, []).append(found)
        else:
            subscriptions.delete(found["id"])
            report["deleted"].append(found["id"])
    for broadcaster_id, lease in leases.items():
        settle_lease(subscriptions, lease, by_broadcaster.get(broadcaster_id, []), report)
    logger.info("reconciled: %s", report)
    return report


def reconcile_lease(subscriptions: Subscriptions, broadcaster_id: str) -> Report:
    """Reconcile one lease with Twitch's list for its streamer (e.g. after verification).

    A WebSub lease has no list to be reconciled with (see :func:`reconcile`): the hub's
    verification, answered by the web, is what settles it.
    """
    report = empty_report()
    lease = subscriptions.lease(broadcaster_id)
    if lease and not subscriptions.uses_websub:
        listed = [
            s
            for s in subscriptions.listed(broadcaster_id)
            if s["type"] in wanted_types(lease)
            and condition_broadcaster(s["type"], s.get("condition")) == broadcaster_id
        ]
        settle_lease(subscriptions, lease, listed, report)
    return report


def settle_lease(
    subscriptions: Subscriptions, lease: Lease, listed: list[dict], report: Report
) -> None:
    """Apply Twitch's list to a lease, then re-create what it still wants."""
    broadcaster_id = lease["broadcaster_id"]
    with subscriptions.lock(broadcaster_id):
        current = subscriptions.lease(broadcaster_id) or lease
        apply_listing(subscriptions, current, listed, report)
        subscriptions.save(current)
    statuses = {held["status"] for held in current["subscriptions"].values()}
    if statuses & FINAL:
        report["unavailable"].append(current["login"])
    elif missing_subscriptions(current):
        subscriptions.ensure(lease_broadcaster(current), reason=None)
        report["recreated"].append(current["login"])


def wanted_types(lease: Lease) -> set[str]:
    """The subscription types a lease holds for its reasons (a go-live alert's lease
    only ``stream.online``): any other of ours for its streamer is deleted."""
    return {kind for kind, _ in wanted_subscriptions(lease)}


def apply_listing(
    subscriptions: Subscriptions, lease: Lease, listed: list[dict], report: Report
) -> None:
    """Update one lease from Twitch's list of our subscriptions for its streamer."""
    listed_ids = {found["id"] for found in listed}
    for subscription in lease["subscriptions"].values():
        if subscription["id"] not in listed_ids and subscription["status"] in HEALTHY:
            subscription["status"] = MISSING
    for found in listed:
        held = lease["subscriptions"].get(found["type"])
        keeps_another = held and held["id"] != found["id"] and held["status"] in HEALTHY
        if found["status"] in HEALTHY and not keeps_another:
            if not held or held["id"] != found["id"]:
                report["adopted"].append(found["id"])
            lease["subscriptions"][found["type"]] = {"id": found["id"], "status": found["status"]}
            continue
        subscriptions.delete(found["id"])
        report["deleted"].append(found["id"])
        if held and held["id"] == found["id"]:
            held["status"] = found["status"]


def adoptable_leases(
    subscriptions: Subscriptions, ours: list[dict], known: Iterable[str], occupied: set[str]
) -> dict[str, Lease]:
    """Leases for streamers we hold subscriptions for but have no lease on, when watched."""
    named = (
        condition_broadcaster(found["type"], found.get("condition"))
        for found in ours
        if found["type"] in SUBSCRIPTION_VERSIONS
    )
    strangers = {broadcaster_id for broadcaster_id in named if broadcaster_id} - set(known)
    if not strangers:
        return {}
    adopted: dict[str, Lease] = {}
    for user in subscriptions.users_by_id(sorted(strangers)):
        if user["login"] in occupied:
            adopted[user["id"]] = new_lease(user_broadcaster(user))
    return adopted
