"""Operator command: ``flask --app web revocations``, the subscriptions Twitch took back."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from shared.store import revocations
from shared.websub import denials
from web.clients import get_redis


@click.command("revocations")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object a line, nothing else.")
@with_appcontext
def list_revocations(as_json: bool):
    """The subscriptions Twitch revoked (EventSub) and the WebSub hub denied, newest first
    (the last 1000 of each): when, what, whose and why. A streamer whose events stopped
    is explained here when Twitch ended the subscription."""
    client = get_redis()
    revoked, denied = revocations(client), denials(client)
    for revocation in revoked:
        if as_json:
            click.echo(json.dumps({"kind": "revoked", **revocation}))
        else:
            click.echo(
                "\t".join(
                    str(part)
                    for part in (
                        revocation.get("revoked_at"),
                        "revoked",
                        revocation.get("type"),
                        revocation.get("broadcaster_id"),
                        revocation.get("reason"),
                        revocation.get("subscription_id"),
                    )
                )
            )
    for denial in denied:
        if as_json:
            click.echo(json.dumps({"kind": "denied", **denial}))
        else:
            at = datetime.fromtimestamp(denial["at"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            click.echo(f"{at}\tdenied\twebsub\t{denial['topic']}\t{denial['reason']}")
    if not as_json:
        click.echo(f"{len(revoked)} revocation(s), {len(denied)} WebSub denial(s)", err=True)
