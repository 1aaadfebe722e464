"""Operator commands: ``flask --app web dead-letters list|replay [WHICH]|delete WHICH``,
the events the worker gave up on, listed, queued again or deleted."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from shared import intake
from shared.store import (
    DEAD_LETTERS_KEPT,
    dead_letter_items,
    dead_letters,
    dead_letters_dropped,
    give_back_replaying,
    remove_dead_letter,
    replaying_count,
    snapshot_dead_letters,
    take_replaying,
)
from shared.task_names import PUBLISH_STREAM_EVENT
from shared.websub import LINK, topic_from_link, topic_user_id
from web.clients import get_celery, get_redis, get_settings

INTAKE_KINDS = {"ingest": intake.EVENTSUB, "websub": intake.WEBSUB}


@click.group("dead-letters", cls=AppGroup)
def dead_letters_group():
    """Inspect and replay what could not be delivered."""


@dead_letters_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object a line, nothing else.")
def list_dead_letters(as_json: bool):
    """List dead letters, oldest first: number, time, kind, what, and why it failed.

    The number (or the message id) names one for replay or delete.
    """
    client = get_redis()
    letters = dead_letters(client)
    for number, letter in enumerate(letters, start=1):
        shown = {**letter, "failed_at": utc_time(letter.get("failed_at"))}
        if as_json:
            click.echo(json.dumps({"number": number, "id": letter_id(letter), **shown}))
        else:
            # Twitch's text (titles, names, reasons quoting them) goes to a terminal:
            # control characters and escape sequences are shown, never obeyed.
            click.echo(
                "\t".join(
                    terminal_safe(field)
                    for field in (
                        number,
                        shown["failed_at"],
                        letter.get("kind"),
                        describe(letter.get("payload")),
                        letter.get("reason"),
                    )
                )
            )
    if not as_json:
        summary = f"{len(letters)} dead letter(s)"
        dropped = dead_letters_dropped(client)
        if dropped:
            summary += (
                f"; {dropped} older one(s) dropped, as only the newest {DEAD_LETTERS_KEPT} are kept"
            )
        click.echo(summary, err=True)
        interrupted = replaying_count(client)
        if interrupted:
            click.echo(
                f"{interrupted} more wait from an interrupted replay; "
                "`dead-letters replay` finishes it",
                err=True,
            )


@dead_letters_group.command("replay")
@click.argument("which", required=False)
def replay_dead_letters(which: str | None):
    """Queue every dead letter again, or only WHICH (its number in the list, or its
    message id); publishing retries as usual."""
    client = get_redis()
    if which is not None:
        stored, letter = find_dead_letter(client, which)
        try:
            replay(client, letter)
        except Exception as error:
            raise click.ClickException("queue unavailable; the dead letter was kept") from error
        remove_dead_letter(client, stored)
        click.echo(f"replayed dead letter {which}")
        return
    count, resumed = snapshot_dead_letters(client)
    if resumed:
        click.echo(f"finishing an interrupted replay: {count} dead letter(s)", err=True)
    replayed, taken = 0, None
    try:
        while (taken := take_replaying(client)) is not None:
            replay(client, json.loads(taken))
            replayed, taken = replayed + 1, None
    except Exception as error:
        kept = give_back_replaying(client, taken)
        raise click.ClickException(
            f"queue unavailable after {replayed} replayed; "
            f"the other {kept} dead letter(s) were kept"
        ) from error
    except BaseException:  # Ctrl-C: what was not replayed goes back
        give_back_replaying(client, taken)
        raise
    click.echo(f"replayed {replayed} dead letter(s)")


@dead_letters_group.command("delete")
@click.argument("which")
def delete_dead_letter(which: str):
    """Forget one dead letter: WHICH is its number in the list, or its message id."""
    client = get_redis()
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
    raise click.BadParameter(
        f"no dead letter {which!r} ({how_to_name(len(items))})", param_hint="WHICH"
    )


def how_to_name(count: int) -> str:
    """How to name one of ``count`` dead letters, for an answer to a name that fits none."""
    if not count:
        return "there are none"
    numbers = "1" if count == 1 else f"1 to {count}"
    return f"give its number in `dead-letters list`, {numbers}, or its message id"


def letter_id(letter: dict) -> str:
    """The id of a dead letter's message: the event's id, or the Twitch message id."""
    payload = letter.get("payload") or {}
    if "id" in payload:
        return str(payload["id"])
    headers = payload.get("headers") or {}
    return str(
        headers.get("Twitch-Eventsub-Message-Id") or headers.get("Twitch-Notification-Id") or ""
    )


def utc_time(epoch) -> str:
    """An epoch time as ISO 8601 UTC (``2026-11-27T17:37:39Z``); empty if unknown."""
    if not isinstance(epoch, (int, float)):
        return str(epoch or "")
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def replay(client, letter: dict) -> None:
    """Queue one dead letter again: an event for publishing, a message for the intake."""
    payload = letter["payload"]
    if letter["kind"] == "publish":
        get_celery().send_task(PUBLISH_STREAM_EVENT, args=(payload,))
        return
    kind = INTAKE_KINDS[letter["kind"]]
    body = payload["body"]
    if kind == intake.WEBSUB:
        key = topic_user_id(topic_from_link(payload["headers"].get(LINK, "")) or "") or ""
    else:
        key = intake.eventsub_partition_key(body.encode())
    intake.enqueue(client, get_settings().intake_shards, kind, payload["headers"], body, key)


def describe(payload) -> str:
    """A short description of a dead letter's payload."""
    if not isinstance(payload, dict):
        return "?"
    if "message" in payload:
        login = (
            (payload.get("broadcaster") or {}).get("login", "?")
            if isinstance(payload.get("broadcaster"), dict)
            else "?"
        )
        return f"{payload.get('type')} {login}: {payload['message']}"
    return f"message {letter_id({'payload': payload}) or '?'}"


ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\\": "\\\\"}


def terminal_safe(value) -> str:
    """``value`` as text a terminal shows as is: control and format characters (ESC and
    so ANSI sequences, carriage returns, bidirectional overrides), separators and
    unassigned code points are written as escapes (``\\x1b``, ``\\u202e``), as is a
    backslash, so an escape cannot be faked either."""
    out = []
    for char in "" if value is None else str(value):
        if char in ESCAPES:
            out.append(ESCAPES[char])
        elif char == " " or (char.isprintable() and unicodedata.category(char)[0] != "C"):
            out.append(char)
        elif ord(char) <= 0xFF:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return "".join(out)
