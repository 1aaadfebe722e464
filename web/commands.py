"""Operator commands: ``flask --app web dead-letters list|replay [WHICH]|delete WHICH``."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from shared import intake
from shared.queues import PUBLISH_STREAM_EVENT
from shared.store import (
    add_dead_letter,
    dead_letter_items,
    dead_letters,
    remove_dead_letter,
    take_dead_letter,
)
from shared.websub import LINK, topic_from_link, topic_user_id

INTAKE_KINDS = {"ingest": intake.EVENTSUB, "websub": intake.WEBSUB}


@click.group("dead-letters", cls=AppGroup)
def dead_letters_group():
    """Inspect and replay what could not be delivered."""


@dead_letters_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object a line, nothing else.")
def list_dead_letters(as_json: bool):
    """List dead letters, oldest first: number, time, kind, what, and why it failed.

    The number (or the message id) names one for ``replay`` or ``delete``.
    """
    letters = dead_letters(current_app.extensions["redis"])
    for number, letter in enumerate(letters, start=1):
        shown = {**letter, "failed_at": utc_time(letter.get("failed_at"))}
        if as_json:
            click.echo(json.dumps({"number": number, "id": letter_id(letter), **shown}))
        else:
            click.echo(f"{number}\t{shown['failed_at']}\t{letter['kind']}\t"
                       f"{describe(letter['payload'])}\t{letter['reason']}")
    if not as_json:
        click.echo(f"{len(letters)} dead letter(s)", err=True)


@dead_letters_group.command("replay")
@click.argument("which", required=False)
def replay_dead_letters(which: str | None):
    """Queue every dead letter again, or only WHICH (its number in ``list``, or its
    message id); publishing retries as usual."""
    client = current_app.extensions["redis"]
    if which is not None:
        stored, letter = find_dead_letter(client, which)
        try:
            replay(client, letter)
        except Exception:
            raise click.ClickException("queue unavailable; the dead letter was kept")
        remove_dead_letter(client, stored)
        click.echo(f"replayed dead letter {which}")
        return
    replayed = 0
    while (letter := take_dead_letter(client)) is not None:
        try:
            replay(client, letter)
        except Exception:
            add_dead_letter(client, letter["kind"], letter["payload"], letter["reason"])
            raise click.ClickException("queue unavailable; the dead letter was kept")
        replayed += 1
    click.echo(f"replayed {replayed} dead letter(s)")


@dead_letters_group.command("delete")
@click.argument("which")
def delete_dead_letter(which: str):
    """Forget one dead letter: WHICH is its number in ``list``, or its message id."""
    client = current_app.extensions["redis"]
    stored, _ = find_dead_letter(client, which)
    remove_dead_letter(client, stored)
    click.echo(f"deleted dead letter {which}")


def find_dead_letter(client, which: str) -> tuple[str, dict]:
    """The dead letter numbered ``which`` (from 1, as listed) or with that message id."""
    items = dead_letter_items(client)
    if which.isdigit():
        if 1 <= int(which) <= len(items):
            return items[int(which) - 1]
    else:
        for stored, letter in items:
            if letter_id(letter) == which:
                return stored, letter
    raise click.BadParameter(f"no dead letter {which!r} (give its number in `dead-letters "
                             f"list`, 1 to {len(items)}, or its message id)", param_hint="WHICH")


def letter_id(letter: dict) -> str:
    """The id of a dead letter's message: the event's id, or the Twitch message id."""
    payload = letter.get("payload") or {}
    if "id" in payload:
        return str(payload["id"])
    headers = payload.get("headers") or {}
    return str(headers.get("Twitch-Eventsub-Message-Id") or headers.get("Twitch-Notification-Id")
               or "")


def utc_time(epoch) -> str:
    """An epoch time as ISO 8601 UTC (``2026-11-27T17:37:39Z``); empty if unknown."""
    if not isinstance(epoch, (int, float)):
        return str(epoch or "")
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds").replace(
        "+00:00", "Z")


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
    return f"message {letter_id({'payload': payload}) or '?'}"


def register(app: Flask) -> None:
    """Add the operator commands to ``flask``."""
    from web.lease_commands import leases_group
    from web.queue_commands import queues

    app.cli.add_command(dead_letters_group)
    app.cli.add_command(leases_group)
    app.cli.add_command(queues)
