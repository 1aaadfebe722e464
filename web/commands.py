"""Operator commands: ``flask --app web dead-letters list|replay``."""

from __future__ import annotations

import json

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from shared.queues import INGEST_EVENTSUB, INGEST_WEBSUB, PUBLISH_STREAM_EVENT
from shared.store import add_dead_letter, dead_letters, take_dead_letter

REPLAY_TASKS = {"publish": PUBLISH_STREAM_EVENT, "ingest": INGEST_EVENTSUB,
                "websub": INGEST_WEBSUB}


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
    celery = current_app.extensions["celery"]
    replayed = 0
    while (letter := take_dead_letter(client)) is not None:
        task = REPLAY_TASKS[letter["kind"]]
        payload = letter["payload"]
        args = (payload,) if letter["kind"] == "publish" else (payload["headers"], payload["body"])
        try:
            celery.send_task(task, args=args)
        except Exception:
            add_dead_letter(client, letter["kind"], payload, letter["reason"])
            raise click.ClickException("queue unavailable; the dead letter was kept")
        replayed += 1
    click.echo(f"replayed {replayed} dead letter(s)")


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
