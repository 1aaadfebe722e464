"""Operator command: ``flask --app web queues [--json]``, what waits where."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from shared.backlog import queue_report
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
