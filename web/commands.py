"""Operator commands: ``flask --app web dead-letters list|replay``."""

from __future__ import annotations

import json

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from shared import intake
from shared.queues import PUBLISH_STREAM_EVENT
from shared.store import add_dead_letter, dead_letters, take_dead_letter
from shared.websub import LINK, topic_from_link, topic_user_id

INTAKE_KINDS = {"ingest": intake.EVENTSUB, "websub": intake.WEBSUB}


@click.group("dead-letters", cls=AppGroup)
def dead_letters_group():
    """Inspect and replay what could not be delivered."""


@dead_letters_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object a line.")
def list_dead_letters(as_json: bool):
    """List dead letters, oldest first, with the reason each failed."""
    letters = dead_letters(current_app.extensions["redis"])
    for letter in letters:
        if as_json:
            click.echo(json.dumps(letter))
        else:
            click.echo(f"{letter['kind']}\t{describe(letter['payload'])}\t{letter['reason']}")
    click.echo(f"{len(letters)} dead letter(s)", err=True)


@dead_letters_group.command("replay")
def replay_dead_letters():
    """Queue every dead letter again (publishing retries as usual)."""
    client = current_app.extensions["redis"]
    replayed = 0
    while (letter := take_dead_letter(client)) is not None:
        try:
            replay(client, letter)
        except Exception:
            add_dead_letter(client, letter["kind"], payload, letter["reason"])
            raise click.ClickException("queue unavailable; the dead letter was kept")
        replayed += 1
    click.echo(f"replayed {replayed} dead letter(s)")


def replay(client, letter: dict) -> None:
    """Queue one dead letter again: an event for publishing, a message for the intake."""
    payload = letter["payload"]
    if letter["kind"] == "publish":
        current_app.extensions["celery"].send_task(PUBLISH_STREAM_EVENT, args=(payload,))
        return
    kind = INTAKE_KINDS[letter["kind"]]
    body = payload["body"]
    if kind == intake.WEBSUB:
        key = topic_user_id(topic_from_link(payload["headers"].get(LINK, "")) or "") or ""
    else:
        key = intake.eventsub_partition_key(body.encode())
    intake.enqueue(client, current_app.config["SETTINGS"].intake_shards, kind,
                   payload["headers"], body, key)


def describe(payload: dict) -> str:
    """A short description of a dead letter's payload."""
    if "message" in payload:
        return f"{payload['type']} {payload['broadcaster']['login']}: {payload['message']}"
    headers = payload.get("headers", {})
    message_id = headers.get("Twitch-Eventsub-Message-Id") or headers.get("Twitch-Notification-Id")
    return f"message {message_id or '?'}"


def register(app: Flask) -> None:
    """Add the operator commands to ``flask``."""
    from web.lease_commands import leases_group

    app.cli.add_command(dead_letters_group)
    app.cli.add_command(leases_group)
