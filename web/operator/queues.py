"""Operator commands: ``flask --app web queues [--json]``, what waits where, and
``flask --app web intake-shards N``, the intake's shard count."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from shared.backlog import queue_report
from shared.shard_count import change_shard_count
from web.clients import get_redis, get_settings


@click.command("queues")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@with_appcontext
def queues(as_json: bool):
    """What waits: the intake streams, each Celery queue and the dead letters, each with
    how long its oldest message has waited."""
    report = queue_report(get_redis(), get_settings())
    if as_json:
        click.echo(json.dumps(report))
    else:
        click.echo(f"{'queue':24} {'waiting':>8} {'oldest':>10}")
        for name, part in report.items():
            click.echo(row(name.replace("_", " "), part))
            for stream, count in part.get("streams", {}).items():
                if count:
                    click.echo(f"  {stream:22} {count:>8}")
            if part.get("dropped"):
                click.echo(f"  {'dropped (over the cap)':22} {part['dropped']:>8}")


def row(name: str, part: dict) -> str:
    """One line of the table: name, count waiting and the oldest one's age."""
    waiting = "?" if part["waiting"] is None else part["waiting"]
    oldest = "-" if part["oldest_age"] is None else f"{part['oldest_age']}s"
    return f"{name:24} {waiting:>8} {oldest:>10}"


@click.command("intake-shards")
@click.argument("shards", type=click.IntRange(min=1))
@with_appcontext
def intake_shards(shards: int):
    """Change the intake's shard count to SHARDS, with every web and worker stopped and
    the intake empty; then start them with INTAKE_SHARDS=SHARDS."""
    try:
        before = change_shard_count(get_redis(), shards)
    except ValueError as error:
        raise click.ClickException(f"the shard count stays as it is: {error}") from None
    click.echo(f"the intake's shard count is {shards} (was {before})")
