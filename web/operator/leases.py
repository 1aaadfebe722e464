"""Operator commands: ``flask --app web leases list|watch LOGIN|release LOGIN``."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from shared.alerts import alerting_key
from shared.events import user_broadcaster
from shared.leases import ALERT, WATCH, all_leases, lease_for_login, lease_reasons
from shared.store import unheld_revocations
from shared.subscriptions import Subscriptions
from shared.task_names import ENSURE_SUBSCRIPTIONS
from shared.twitch.client import eventsub_cost
from web.clients import get_celery, get_redis, get_settings, get_twitch
from web.viewer.watching import LOGIN, LOGIN_RULE

leases_group = AppGroup("leases", help="The streamers we hold subscriptions for.")


@leases_group.command("list")
def list_leases():
    """Each lease with why we hold it (watched: until when; go-live alerts), its
    subscriptions and their status, the cost budget, and how many revocations named a
    subscription we do not hold (those are ignored)."""
    client = get_redis()
    now = time.time()
    for lease in all_leases(client):
        left = lease["expires_at"] - now
        reasons, held_for = lease_reasons(lease), []
        if WATCH in reasons:
            held_for.append(f"watched, {f'expires in {int(left)}s' if left > 0 else 'expired'}")
        if ALERT in reasons:
            held_for.append("go-live alerts")
        click.echo(f"{lease['login']} ({lease['broadcaster_id']})  {'; '.join(held_for)}")
        for kind, held in sorted(lease["subscriptions"].items()):
            click.echo(f"  {kind:15} {held['status']:40} {held['id']}")
    cost = eventsub_cost(client)
    if cost:
        click.echo(f"EventSub cost {cost['total_cost']} of {cost['max_total_cost']}")
    click.echo(
        f"revocations of subscriptions we do not hold (ignored): {unheld_revocations(client)}"
    )


@leases_group.command("watch")
@click.argument("login")
def watch(login: str):
    """Hold LOGIN's subscriptions (queued for a worker), as a viewer would."""
    if not LOGIN.fullmatch(login):
        raise click.BadParameter(f"{login!r}: {LOGIN_RULE}", param_hint="LOGIN")
    user = get_twitch().user_by_login(login)
    if user is None:
        raise click.ClickException(f"no Twitch channel named {login}")
    broadcaster = user_broadcaster(user)
    get_celery().send_task(ENSURE_SUBSCRIPTIONS, args=(broadcaster,))
    click.echo(f"queued: hold the subscriptions of {user['login']} ({user['id']})")


@leases_group.command("release")
@click.argument("login")
def release(login: str):
    """Stop watching LOGIN: delete the subscriptions held for viewers on its channel and
    forget its lease. What viewers' go-live alerts need stays held while they want it
    (they turn the alerts off on their alerts page)."""
    client = get_redis()
    lease = lease_for_login(client, login)
    if lease is None:
        raise click.ClickException(f"no lease on {login}")
    if WATCH not in lease_reasons(lease):
        raise click.ClickException(f"{login} is held only for {alerted_by(client, lease)}")
    left = Subscriptions(get_twitch(), client, get_settings()).let_go(
        lease["broadcaster_id"], WATCH
    )
    if left is None:
        click.echo(f"released {login}")
    else:
        click.echo(f"released what watching {login} held; kept for {alerted_by(client, left)}")


def alerted_by(client, lease) -> str:
    """What an alert lease is held for, in words: how many viewers' go-live alerts."""
    viewers = client.scard(alerting_key(lease["broadcaster_id"]))
    return f"the go-live alerts of {viewers} viewer{'s' if viewers != 1 else ''}"
